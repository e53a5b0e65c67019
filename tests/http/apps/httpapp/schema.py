from authlib_core import define_schema, define_table, v
from authlib_core.auth import auth_tables

schema = define_schema({**auth_tables, "notes": define_table({"text": v.string()})})
