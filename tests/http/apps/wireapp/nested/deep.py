from authlib_core import query


@query
def fn(ctx):
    return "deep"
