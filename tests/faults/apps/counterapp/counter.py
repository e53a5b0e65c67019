"""``counter:increment`` (one index read, one write) and ``counter:get``; ``counter:incrementMine`` needs a session."""

from authlib_core import ConvexError, get_auth_user_id, mutation, query, v


def _increment(ctx, name):
    row = ctx.db.query("counters").with_index("by_name", lambda q: q.eq("name", name)).first()
    if row is None:
        ctx.db.insert("counters", {"name": name, "value": 1.0})
        return 1.0
    ctx.db.patch(row["_id"], {"value": row["value"] + 1.0})
    return row["value"] + 1.0


@mutation(args={"name": v.string()}, returns=v.float64())
def increment(ctx, name):
    """Add 1 to the counter ``name`` (created at 1); returns the new value."""
    return _increment(ctx, name)


@query(args={"name": v.string()})
def get(ctx, name):
    """The counter's value (0 when it does not exist)."""
    row = ctx.db.query("counters").with_index("by_name", lambda q: q.eq("name", name)).first()
    return 0.0 if row is None else row["value"]


@mutation(args={"name": v.string()}, returns=v.float64())
def incrementMine(ctx, name):
    """``increment`` for signed-in callers only (the session read is part of the call)."""
    if get_auth_user_id(ctx) is None:
        raise ConvexError({"code": "UNAUTHENTICATED"})
    return _increment(ctx, name)


@mutation(args={"name": v.string()})
def scheduleIncrement(ctx, name):
    """Schedule ``increment`` to run right after this commits; returns the job's id."""
    return ctx.scheduler.run_after(0, increment, {"name": name})
