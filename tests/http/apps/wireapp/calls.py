"""Functions the HTTP tests call: every response shape of the wire format."""

from authlib_core import ConvexError, action, get_auth_user_id, internal_query, mutation, query
from authlib_core.errors import ConflictError, StorageUnavailableError
from authlib_core.values import Int64, v


@query(args={"value": v.any()})
def echo(ctx, value):
    return value


@query
def special(ctx):
    return {
        "big": Int64(2**62),
        "negative": Int64(-1),
        "bytes": b"\x00\x10\x83",
        "nan": float("nan"),
        "inf": float("inf"),
        "n": 3.5,
        "list": [1, "a", None, True, {"deep": [Int64(5)]}],
    }


@query
def fail_convex(ctx):
    raise ConvexError({"code": "TOO_LONG", "max": Int64(128)})


@query
def fail_string(ctx):
    raise ConvexError("Not authenticated")


@query
def boom(ctx):
    raise RuntimeError("internal detail /srv/secret/path sk_live_123")


@mutation(args={"text": v.string()})
def shout(ctx, text):
    return text.upper()


@action
def act(ctx):
    return "acted"


@internal_query
def hidden(ctx):
    return "internal"


@query
def whoami(ctx):
    return get_auth_user_id(ctx)


@mutation
def conflict(ctx):
    raise ConflictError("the mutation conflicted with concurrent writes 5 times")


@query
def unavailable(ctx):
    raise StorageUnavailableError("the storage engine is throttled")


@mutation(args={"count": v.number()})
def seed_notes(ctx, count):
    for i in range(int(count)):
        ctx.db.insert("notes", {"i": float(i)})


@query(args={"limit": v.number()})
def latest_notes(ctx, limit):
    return [note["i"] for note in ctx.db.query("notes").order("desc").take(limit)]


@query
def insert_in_query(ctx):
    return ctx.db.insert("notes", {"i": -1.0})


@query
def mutation_from_query(ctx):
    return ctx.run_mutation("calls:seed_notes", {"count": 1})


@query(args={"n": v.any(), "char": v.string()})
def filler(ctx, n, char):
    """A result of ``n`` times ``char``, from a tiny request (response-size limits)."""
    return char * int(n)
