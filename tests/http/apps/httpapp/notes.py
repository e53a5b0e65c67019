from authlib_core import mutation, query, v


@mutation(args={"text": v.string()})
def add(ctx, text):
    return ctx.db.insert("notes", {"text": text})


@query
def count(ctx):
    return len(ctx.db.query("notes").collect())
