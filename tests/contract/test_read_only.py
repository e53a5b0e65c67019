"""Writing from a query fails with a clear function error, on every engine, and nothing is written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.auth import NoAuth
from authlib_core.errors import FunctionError, InvalidQueryError
from authlib_core.functions import (
    ActionCtx,
    Executor,
    MutationCtx,
    QueryCtx,
    RegisteredFunction,
    Registry,
    action,
    mutation,
    query,
)

if TYPE_CHECKING:
    from authlib_core.database import Database


@query
def insert_in_query(ctx: QueryCtx) -> Any:
    return ctx.db.insert("items", {"group": "g", "rank": 1.0})  # type: ignore[attr-defined]


@query
def patch_in_query(ctx: QueryCtx, item: str) -> Any:
    return ctx.db.patch(item, {"rank": 2.0})  # type: ignore[attr-defined]


@query
def replace_in_query(ctx: QueryCtx, item: str) -> Any:
    return ctx.db.replace(item, {"group": "g", "rank": 3.0})  # type: ignore[attr-defined]


@query
def delete_in_query(ctx: QueryCtx, item: str) -> Any:
    return ctx.db.delete(item)  # type: ignore[attr-defined]


@query
def run_mutation_in_query(ctx: QueryCtx) -> Any:
    return ctx.run_mutation("items:add", {})  # type: ignore[attr-defined]


@query
def probes_with_hasattr(ctx: QueryCtx) -> Any:
    return [hasattr(ctx.db, "insert"), hasattr(ctx, "run_mutation"), hasattr(ctx.db, "get")]


@mutation
def add(ctx: MutationCtx) -> Any:
    return ctx.db.insert("items", {"group": "g", "rank": 9.0})


@mutation
def query_writes_inside_mutation(ctx: MutationCtx) -> Any:
    return ctx.run_query("items:insert_in_query", {})


@mutation
def run_action_in_mutation(ctx: MutationCtx) -> Any:
    return ctx.run_action("items:uses_db", {})  # type: ignore[attr-defined]


@action
def uses_db(ctx: ActionCtx) -> Any:
    return ctx.db.query("items").collect()  # type: ignore[attr-defined]


def _executor(db: Database) -> Executor:
    functions = {
        name: fn
        for name, fn in globals().items()
        if hasattr(fn, "kind") and hasattr(fn, "handler") and not name.startswith("_")
    }
    return Executor(Registry([RegisteredFunction(f"items:{name}", fn) for name, fn in functions.items()]), db)


@pytest.mark.parametrize(
    ("path", "args", "message"),
    [
        ("items:insert_in_query", {}, "ctx.db.insert is not available in a query: queries are read-only"),
        ("items:patch_in_query", {"item": "ID"}, "ctx.db.patch is not available in a query"),
        ("items:replace_in_query", {"item": "ID"}, "ctx.db.replace is not available in a query"),
        ("items:delete_in_query", {"item": "ID"}, "ctx.db.delete is not available in a query"),
        ("items:query_writes_inside_mutation", {}, "ctx.db.insert is not available in a query"),
    ],
)
def test_database_writes_in_a_query_say_queries_are_read_only(
    db: Database, path: str, args: dict[str, Any], message: str
) -> None:
    item = db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0}))
    call_args = {key: item if value == "ID" else value for key, value in args.items()}
    with pytest.raises(InvalidQueryError, match=message):
        _executor(db).call(path, call_args, auth=NoAuth())
    stored = db.run_query(lambda r: r.query("items").collect())
    assert [(d["_id"], d["rank"]) for d in stored] == [(item, 1.0)]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("items:run_mutation_in_query", "Cannot call a mutation from a query"),
        ("items:run_action_in_mutation", "Cannot call an action from a mutation"),
        ("items:uses_db", "ctx.db is not available in an action"),
    ],
)
def test_calls_a_kind_cannot_make_are_function_errors(db: Database, path: str, message: str) -> None:
    """A function error (the client sees the message), not an AttributeError turned into "Server Error"."""
    with pytest.raises(FunctionError, match=message) as caught:
        _executor(db).call(path, {}, auth=NoAuth())
    assert caught.value.code == "InvalidFunctionCall"
    assert db.run_query(lambda r: r.query("items").collect()) == []


def test_hasattr_still_tells_what_a_kind_can_do(db: Database) -> None:
    assert _executor(db).call("items:probes_with_hasattr", {}, auth=NoAuth()) == [False, False, True]
