"""The schema every contract test runs against."""

from __future__ import annotations

from authlib_core.schema import define_schema, define_table
from authlib_core.values import v

contract_schema = define_schema(
    {
        "counters": define_table({"name": v.string(), "value": v.float64()}).index("by_name", ["name"]),
        "users": define_table({"email": v.string(), "name": v.optional(v.string())}).index("by_email", ["email"]),
        "items": define_table(
            {"group": v.string(), "rank": v.float64(), "label": v.optional(v.string()), "n": v.optional(v.int64())}
        )
        .index("by_group_rank", ["group", "rank"])
        .index("by_label", ["label"]),
        "things": define_table(v.any()).index("by_value", ["value"]).index("by_nested", ["meta.kind"]),
        "pairs": define_table({"side": v.string(), "n": v.float64()}).index("by_side", ["side"]),
    }
)
