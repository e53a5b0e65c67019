from authlib_core import define_schema, define_table, v

schema = define_schema({"rows": define_table({"size": v.float64()})})
