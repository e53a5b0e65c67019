"""A hot counter beside the auth tables: what the fault-injection and hot-document tests drive."""

from authlib_core import define_schema, define_table, v
from authlib_core.auth import auth_tables

schema = define_schema(
    {
        **auth_tables,
        "counters": define_table({"name": v.string(), "value": v.float64()}).index("by_name", ["name"]),
    }
)
