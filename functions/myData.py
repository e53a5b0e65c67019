"""The signed-in user's notes: ``myData:getMyData``, ``myData:listPage`` (paginated), ``myData:count``,
``myData:add`` and ``myData:remove``; ``myData:removeAllForUser`` deletes a user's notes with the account
(``auth_config.py``'s ``on_user_deleted``)."""

from authlib_core import (
    ConvexError,
    get_auth_user_id,
    internal_mutation,
    mutation,
    pagination_opts_validator,
    pagination_result_validator,
    query,
    v,
)

#: A note as stored (``returns=`` validators make the generated TypeScript types precise).
NOTE = v.object({"_id": v.id("myData"), "_creationTime": v.number(), "userId": v.id("users"), "text": v.string()})


@query
def getMyData(ctx):
    """Every note of the signed-in user, oldest first."""
    user_id = get_auth_user_id(ctx)
    if user_id is None:
        raise ConvexError("Not authenticated")
    return ctx.db.query("myData").with_index("by_user", lambda q: q.eq("userId", user_id)).collect()


@query(args={"paginationOpts": pagination_opts_validator}, returns=pagination_result_validator(NOTE))
def listPage(ctx, paginationOpts):
    """The signed-in user's notes, oldest first, one page at a time (the example page's ``usePaginatedQuery``)."""
    user_id = get_auth_user_id(ctx)
    if user_id is None:
        raise ConvexError("Not authenticated")
    return ctx.db.query("myData").with_index("by_user", lambda q: q.eq("userId", user_id)).paginate(paginationOpts)


@query(args={}, returns=v.number())
def count(ctx):
    """How many notes the signed-in user has (0 when signed out)."""
    user_id = get_auth_user_id(ctx)
    if user_id is None:
        return 0
    return len(ctx.db.query("myData").with_index("by_user", lambda q: q.eq("userId", user_id)).collect())


@mutation(args={"text": v.string()}, returns=v.id("myData"))
def add(ctx, text):
    """Add a note for the signed-in user; returns its id."""
    user_id = get_auth_user_id(ctx)
    if user_id is None:
        raise ConvexError({"code": "UNAUTHENTICATED"})
    return ctx.db.insert("myData", {"userId": user_id, "text": text})


@mutation(args={"id": v.id("myData")})
def remove(ctx, id):
    """Delete one of the signed-in user's notes; someone else's note is reported as not found."""
    user_id = get_auth_user_id(ctx)
    if user_id is None:
        raise ConvexError({"code": "UNAUTHENTICATED"})
    note = ctx.db.get(id)
    if note is None or note["userId"] != user_id:
        raise ConvexError({"code": "NOT_FOUND"})
    ctx.db.delete(id)


@internal_mutation(args={"userId": v.id("users")})
def removeAllForUser(ctx, userId):
    """Delete every note of a user: ``auth_config.py``'s ``on_user_deleted``, run in the account's deletion."""
    for note in ctx.db.query("myData").with_index("by_user", lambda q: q.eq("userId", userId)).collect():
        ctx.db.delete(note["_id"])
