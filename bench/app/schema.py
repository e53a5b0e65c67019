"""The benchmark app's tables: auth's tables, each user's notes, and counters for the contention figure."""

from authlib_core import define_schema, define_table, v
from authlib_core.auth import auth_tables

schema = define_schema(
    {
        **auth_tables,
        "notes": define_table({"userId": v.string(), "text": v.string()}).index("by_user", ["userId"]),
        "counters": define_table({"name": v.string(), "n": v.float64()}),
    }
)
