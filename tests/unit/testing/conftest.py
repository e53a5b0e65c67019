"""A small functions folder exercising every kind of function ``TestBackend`` calls."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

SCHEMA = """
from authlib_core import define_schema, define_table, v
from authlib_core.auth import auth_tables

schema = define_schema({
    **auth_tables,
    "tasks": define_table({"owner": v.id("users"), "text": v.string(), "done": v.boolean()})
        .index("by_owner", ["owner"]),
    "log": define_table({"line": v.string()}),
})
"""

TASKS = """
from authlib_core import ConvexError, action, get_auth_user_id, internal_mutation, mutation, query, v


@query(args={"done": v.optional(v.boolean())})
def mine(ctx, done=None):
    user_id = get_auth_user_id(ctx)
    if user_id is None:
        raise ConvexError({"code": "UNAUTHENTICATED"})
    rows = ctx.db.query("tasks").with_index("by_owner", lambda q: q.eq("owner", user_id)).collect()
    return [r["text"] for r in rows if done is None or r["done"] == done]


@mutation(args={"text": v.string()})
def add(ctx, text):
    user_id = get_auth_user_id(ctx)
    if user_id is None:
        raise ConvexError({"code": "UNAUTHENTICATED"})
    return ctx.db.insert("tasks", {"owner": user_id, "text": text, "done": False})


@query
def whoami(ctx):
    identity = ctx.auth.get_user_identity()
    return None if identity is None else {"subject": identity.subject, "email": identity.email}


@internal_mutation(args={"line": v.string()})
def write_log(ctx, line):
    return ctx.db.insert("log", {"line": line})


@action(args={"line": v.string()})
def log_twice(ctx, line):
    ctx.run_mutation("tasks:write_log", {"line": line})
    ctx.run_mutation("tasks:write_log", {"line": line + "!"})
    return 2
"""


@pytest.fixture(scope="session")
def functions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("testing_app") / "testedfns"
    root.mkdir()
    (root / "schema.py").write_text(textwrap.dedent(SCHEMA), encoding="utf-8")
    (root / "tasks.py").write_text(textwrap.dedent(TASKS), encoding="utf-8")
    return root
