"""Functions the Node ConvexHttpClient test calls (tests/clients/convex-http.mjs)."""

from authlib_core import ConvexError, action, mutation, query
from authlib_core.values import Int64, v


@query(args={"value": v.any()})
def echo(ctx, value):
    return value


@query
def special(ctx):
    return {"big": Int64(2**62 + 1), "bytes": b"\x00\x10\x83\xff", "nested": {"list": [1, [2, {"x": None}]]}}


@mutation(args={"text": v.string()})
def add(ctx, text):
    return ctx.db.insert("notes", {"text": text})


@query
def fail(ctx):
    raise ConvexError({"code": "TOO_LONG", "max": Int64(128)})


@action
def ping(ctx):
    return "pong"
