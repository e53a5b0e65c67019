from __future__ import annotations

import contextlib
from typing import Any

import pytest

from authlib_core.auth import NoAuth, StaticAuth, UserIdentity, get_auth_user_id
from authlib_core.errors import (
    ArgumentValidationError,
    ConvexError,
    FunctionNotFoundError,
    InvalidValueError,
    ReturnsValidationError,
    WrongFunctionKindError,
)
from authlib_core.functions import (
    ActionCtx,
    Executor,
    Kind,
    MutationCtx,
    QueryCtx,
    RegisteredFunction,
    Registry,
    action,
    internal_mutation,
    internal_query,
    mutation,
    query,
)
from authlib_core.values import v
from tests.support.databases import RecordingDatabase, sqlite_database

SEEN: list[Any] = []
ALICE = StaticAuth(UserIdentity(subject="users|alice", token_identifier="test|users|alice", issuer="test"))


@query
def whoami(ctx: QueryCtx) -> str | None:
    SEEN.append(ctx)
    return get_auth_user_id(ctx)


@query
def list_notes(ctx: QueryCtx) -> list[Any]:
    SEEN.append(ctx)
    return ctx.db.query("notes").collect()


@query
def nested_reader(ctx: QueryCtx) -> Any:
    SEEN.append(ctx)
    return ctx.run_query("notes:list_notes")


@query
def query_calls_mutation(ctx: QueryCtx) -> Any:
    return ctx.run_query("notes:add", {"text": "x"})


@mutation(args={"text": v.string()})
def add(ctx: MutationCtx, text: str) -> str:
    SEEN.append(ctx)
    return ctx.db.insert("notes", {"text": text})


@internal_mutation(args={"text": v.string()})
def add_then_fail(ctx: MutationCtx, text: str) -> None:
    ctx.db.insert("notes", {"text": text})
    raise ConvexError("nested failure")


@mutation
def add_two_with_one_failing(ctx: MutationCtx) -> list[Any]:
    ctx.run_mutation(add, {"text": "kept"})
    with contextlib.suppress(ConvexError):
        ctx.run_mutation("notes:add_then_fail", {"text": "undone"})
    return ctx.run_query(list_notes)  # type: ignore[return-value]


@mutation
def mutation_reads_own_writes_through_a_query(ctx: MutationCtx) -> Any:
    ctx.db.insert("notes", {"text": "fresh"})
    return ctx.run_query("notes:list_notes")


@mutation
def bad_nested_args(ctx: MutationCtx) -> Any:
    return ctx.run_mutation("notes:add", {"text": 42})


@internal_query
def internal_count(ctx: QueryCtx) -> int:
    return len(ctx.db.query("notes").collect())


@action(args={"text": v.string()})
def add_via_action(ctx: ActionCtx, text: str) -> Any:
    SEEN.append(ctx)
    ctx.run_mutation("notes:add", {"text": text})
    ctx.run_mutation("notes:add", {"text": text + "!"})
    return {"count": ctx.run_query(internal_count), "echo": ctx.run_action("notes:echo", {"value": "hi"})}


@action
def echo(ctx: ActionCtx, value: str) -> str:
    return value


#: Set by a test: a database handle used to write concurrently, and how many attempts to disturb.
INTERFERENCE: dict[str, Any] = {}


@mutation
def appends_to_its_argument(ctx: MutationCtx, items: list[str], counter: str) -> list[str]:
    items.append("x")
    doc = ctx.db.get(counter)
    if INTERFERENCE.get("remaining", 0) > 0:
        INTERFERENCE["remaining"] -= 1
        INTERFERENCE["other"].run_mutation(lambda w: w.patch(counter, {"n": doc["n"] + 100.0}))
    ctx.db.patch(counter, {"n": doc["n"] + 1.0})
    return items


@query
def returns_tuple_and_int(ctx: QueryCtx) -> Any:
    return (1, "a")


@query
def returns_set(ctx: QueryCtx) -> Any:
    return {"nested": {1, 2}}


@query(returns=v.string())
def returns_wrong(ctx: QueryCtx) -> Any:
    return 1.5


@query
def raises_plain(ctx: QueryCtx) -> None:
    raise KeyError("boom")


FUNCTIONS = {
    name: value for name, value in dict(globals()).items() if hasattr(value, "kind") and hasattr(value, "handler")
}


@pytest.fixture
def database(tmp_path: Any) -> Any:
    SEEN.clear()
    INTERFERENCE.clear()
    db = RecordingDatabase(tmp_path / "db.sqlite3")
    yield db
    db.close()


def _texts(database: Any) -> list[str]:
    return [d["text"] for d in database.run_query(lambda r: r.query("notes").collect())]


@pytest.fixture
def executor(database: Any) -> Executor:
    registry = Registry([RegisteredFunction(f"notes:{name}", fn) for name, fn in FUNCTIONS.items()])
    return Executor(registry, database)


def test_query_gets_a_read_only_context(executor: Executor, database: Any) -> None:
    assert executor.call("notes:whoami", {}, kind=Kind.QUERY, auth=ALICE) == "users|alice"
    assert executor.call("notes:whoami", None, auth=NoAuth()) is None
    ctx = SEEN[0]
    assert isinstance(ctx, QueryCtx)
    assert not hasattr(ctx, "run_mutation")
    assert not hasattr(ctx, "run_action")
    assert database.log == ["query", "query"]


def test_mutation_commits_and_action_has_no_db(executor: Executor, database: Any) -> None:
    new_id = executor.call("notes:add", {"text": "hello"}, kind=Kind.MUTATION, auth=NoAuth())
    assert database.run_query(lambda r: r.get(new_id))["text"] == "hello"
    database.log.clear()
    assert isinstance(SEEN[0], MutationCtx)
    executor.call("notes:echo", {"value": "x"}, auth=NoAuth())
    result = executor.call("notes:add_via_action", {"text": "a"}, auth=NoAuth())
    assert result == {"count": 3.0, "echo": "hi"}
    action_ctx = next(ctx for ctx in SEEN if isinstance(ctx, ActionCtx))
    assert not hasattr(action_ctx, "db")
    # the action's two mutations and its query are three separate transactions
    assert database.log == ["mutation", "mutation", "query"]


def test_wrong_kind_uses_convex_wording(executor: Executor) -> None:
    with pytest.raises(WrongFunctionKindError) as info:
        executor.call("notes:whoami", {}, kind=Kind.MUTATION, auth=NoAuth())
    assert info.value.message == "Trying to execute notes:whoami as Mutation, but it is defined as Query."


def test_internal_functions_need_public_only_false(executor: Executor) -> None:
    with pytest.raises(FunctionNotFoundError, match="Could not find public function for 'notes:internal_count'"):
        executor.call("notes:internal_count", {}, auth=NoAuth())
    assert executor.call("notes:internal_count", {}, auth=NoAuth(), public_only=False) == 0.0


def test_arguments_are_validated_before_anything_runs(executor: Executor, database: Any) -> None:
    with pytest.raises(ArgumentValidationError, match="`text`"):
        executor.call("notes:add", {"text": 1.0}, auth=NoAuth())
    with pytest.raises(ArgumentValidationError, match="object with string keys"):
        executor.call("notes:add", ["text"], auth=NoAuth())  # type: ignore[arg-type]
    assert database.log == []
    assert SEEN == []


def test_nested_query_in_a_query_shares_the_reader(executor: Executor, database: Any) -> None:
    old = database.run_mutation(lambda w: w.insert("notes", {"text": "old"}))
    database.log.clear()
    result = executor.call("notes:nested_reader", {}, auth=NoAuth())
    assert [(d["_id"], d["text"]) for d in result] == [(old, "old")]  # type: ignore[union-attr]
    outer, inner = SEEN
    assert inner.db is outer.db
    assert database.log == ["query"]


def test_a_query_cannot_run_a_mutation(executor: Executor) -> None:
    with pytest.raises(WrongFunctionKindError, match=r"notes:add as Query, but it is defined as Mutation"):
        executor.call("notes:query_calls_mutation", {}, auth=NoAuth())


def test_nested_query_in_a_mutation_sees_its_writes_read_only(executor: Executor, database: Any) -> None:
    result = executor.call("notes:mutation_reads_own_writes_through_a_query", {}, auth=NoAuth())
    assert [note["text"] for note in result] == ["fresh"]  # type: ignore[union-attr]
    inner = SEEN[0]
    assert isinstance(inner, QueryCtx)
    assert not hasattr(inner.db, "insert")
    assert database.log == ["mutation"]


def test_nested_mutation_failure_undoes_only_its_writes(executor: Executor, database: Any) -> None:
    result = executor.call("notes:add_two_with_one_failing", {}, auth=NoAuth())
    assert [note["text"] for note in result] == ["kept"]  # type: ignore[union-attr]
    assert database.log == ["mutation"]
    assert _texts(database) == ["kept"]


def test_nested_calls_validate_arguments(executor: Executor, database: Any) -> None:
    with pytest.raises(ArgumentValidationError, match=r"notes:add.*`text`"):
        executor.call("notes:bad_nested_args", {}, auth=NoAuth())
    assert _texts(database) == []


def test_conflict_retries_rerun_the_handler_with_fresh_arguments(executor: Executor, database: Any) -> None:
    counter = database.run_mutation(lambda w: w.insert("notes", {"text": "counter", "n": 0.0}))
    INTERFERENCE.update(other=sqlite_database(database.engine.path), remaining=2)  # type: ignore[attr-defined]
    database.log.clear()
    try:
        result = executor.call("notes:appends_to_its_argument", {"items": ["a"], "counter": counter}, auth=NoAuth())
    finally:
        INTERFERENCE["other"].close()
    assert result == ["a", "x"]  # each attempt got fresh arguments
    assert database.log == ["mutation"]
    assert database.stats.conflicts == 2
    assert database.run_query(lambda r: r.get(counter))["n"] == 201.0


def test_results_become_convex_values(executor: Executor) -> None:
    assert executor.call("notes:returns_tuple_and_int", {}, auth=NoAuth()) == [1.0, "a"]
    with pytest.raises(InvalidValueError, match="notes:returns_set returned a value that is not a Convex value"):
        executor.call("notes:returns_set", {}, auth=NoAuth())


def test_returns_validator_is_enforced(executor: Executor) -> None:
    with pytest.raises(ReturnsValidationError, match="notes:returns_wrong returned a value that does not match"):
        executor.call("notes:returns_wrong", {}, auth=NoAuth())


def test_user_exceptions_propagate_unchanged(executor: Executor) -> None:
    with pytest.raises(KeyError, match="boom"):
        executor.call("notes:raises_plain", {}, auth=NoAuth())
