"""Functions the benchmarks call: one of each DynamoDB-relevant shape (index page, get, insert, read-modify-write)."""

import logging

from authlib_core import ConvexError, action, get_auth_user_id, mutation, query, v


@query
def myNotes(ctx):
    """The signed-in user's notes: one index page (the same shape as the example app's ``myData:getMyData``)."""
    user_id = get_auth_user_id(ctx)
    if user_id is None:
        raise ConvexError("Not authenticated")
    return ctx.db.query("notes").with_index("by_user", lambda q: q.eq("userId", user_id)).take(20)


@query(args={"id": v.id("notes")})
def getNote(ctx, id):
    """One note by id; does not look at the session."""
    return ctx.db.get(id)


@mutation(args={"text": v.string()})
def addNote(ctx, text):
    """Insert a note for the signed-in user."""
    user_id = get_auth_user_id(ctx)
    if user_id is None:
        raise ConvexError("Not authenticated")
    return ctx.db.insert("notes", {"userId": user_id, "text": text})


@mutation(args={"id": v.id("counters")})
def bump(ctx, id):
    """Read a counter and write it back plus one (read-modify-write)."""
    counter = ctx.db.get(id)
    ctx.db.patch(id, {"n": counter["n"] + 1})
    return counter["n"] + 1


@mutation
def newCounter(ctx):
    """A fresh counter at zero."""
    return ctx.db.insert("counters", {"name": "c", "n": 0.0})


@query(args={"id": v.id("counters")})
def getCounter(ctx, id):
    """One counter by id (the live-query benchmark subscribes to many)."""
    return ctx.db.get(id)


@mutation(args={"id": v.id("notes"), "text": v.string()})
def renameNote(ctx, id, text):
    """Change the text of one of the signed-in user's notes (an authenticated read-modify-write)."""
    user_id = get_auth_user_id(ctx)
    note = ctx.db.get(id)
    if user_id is None or note is None or note["userId"] != user_id:
        raise ConvexError("Not your note")
    ctx.db.patch(id, {"text": text})
    return text


@query
def whoami(ctx):
    """The caller as the function saw it; printed and logged too (the tests check what reaches the logs)."""
    identity = ctx.auth.get_user_identity()
    subject = None if identity is None else identity.subject
    print(f"whoami {subject}")
    logging.getLogger("bench.app").warning("whoami %s", subject)
    return None if identity is None else {"subject": identity.subject, "email": identity.email or ""}


@action
def whoamiAction(ctx):
    """The caller's id, from an action (actions never run on a provisional identity)."""
    return get_auth_user_id(ctx)


@query(args={"tags": v.array(v.string())})
def tagged(ctx, tags):
    """``tags`` with the caller's id appended (a query that changes its own argument)."""
    tags.append(get_auth_user_id(ctx) or "anonymous")
    return tags
