"""``authlib_core.testing.TestBackend``: calls by path and object, identities, seeding, isolation, errors."""

from __future__ import annotations

import importlib
import time
from typing import TYPE_CHECKING

import pytest

from authlib_core import ConvexError, UserIdentity
from authlib_core.errors import (
    ArgumentValidationError,
    ConfigError,
    FunctionLoadError,
    SchemaValidationError,
    WrongFunctionKindError,
)
from authlib_core.testing import TEST_ISSUER, TestBackend

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def t(functions_dir: Path):
    with TestBackend(functions_dir) as backend:
        yield backend


def test_a_signed_in_user_adds_and_lists_their_own_tasks(t: TestBackend) -> None:
    alice = t.create_user(email="alice@example.com")
    bob = t.create_user(email="bob@example.com")
    alice.mutation("tasks:add", text="write tests")
    alice.mutation("tasks:add", {"text": "ship"})
    assert alice.query("tasks:mine") == ["write tests", "ship"]
    assert bob.query("tasks:mine") == []
    assert alice.user_id is not None
    assert {task["owner"] for task in t.table("tasks")} == {alice.user_id}


def test_anonymous_calls_see_no_identity(t: TestBackend) -> None:
    with pytest.raises(ConvexError) as raised:
        t.query("tasks:mine")
    assert raised.value.data == {"code": "UNAUTHENTICATED"}
    assert t.query("tasks:whoami") is None
    assert t.user_id is None


def test_with_identity_sets_the_identity_without_a_user_document(t: TestBackend) -> None:
    assert t.with_identity(subject="u-1", email="x@example.com").query("tasks:whoami") == {
        "subject": "u-1",
        "email": "x@example.com",
    }
    assert t.with_identity(subject="u-1").identity.token_identifier == f"{TEST_ISSUER}|u-1"
    assert t.table("users") == []


def test_an_external_identity_is_seen_but_is_no_user_of_the_app(t: TestBackend) -> None:
    identity = UserIdentity(
        subject="cognito-sub",
        token_identifier="https://idp.example|cognito-sub",
        issuer="https://idp.example",
        email="c@example.com",
        external=True,
    )
    caller = t.with_identity(identity)
    assert caller.query("tasks:whoami") == {"subject": "cognito-sub", "email": "c@example.com"}
    assert caller.user_id is None
    with pytest.raises(ConvexError) as raised:  # tasks:mine keys rows by get_auth_user_id, which is None here
        caller.query("tasks:mine")
    assert raised.value.data == {"code": "UNAUTHENTICATED"}


def test_create_user_stores_a_user_like_sign_up_and_refuses_a_taken_email(t: TestBackend) -> None:
    alice = t.create_user(email="alice@example.com", name="Alice")
    user = t.get(alice.user_id)
    assert user is not None
    assert (user["email"], user["name"], user["emailVerified"]) == ("alice@example.com", "Alice", False)
    assert alice.query("tasks:whoami") == {"subject": alice.user_id, "email": "alice@example.com"}
    with pytest.raises(ValueError, match="exists already"):
        t.create_user(email="alice@example.com")
    assert t.create_user().identity.email != t.create_user().identity.email


def test_functions_are_called_by_object_as_well_as_by_path(t: TestBackend, functions_dir: Path) -> None:
    tasks = importlib.import_module("testedfns.tasks")  # the module the backend loaded
    alice = t.create_user()
    alice.mutation(tasks.add, text="by object")
    assert alice.query(tasks.mine, done=False) == ["by object"]


def test_internal_mutations_and_actions_run_with_their_nested_calls(t: TestBackend) -> None:
    line_id = t.mutation("tasks:write_log", line="direct")
    assert t.action("tasks:log_twice", line="x") == 2.0
    assert [row["line"] for row in t.table("log")] == ["direct", "x", "x!"]
    assert t.get(line_id)["line"] == "direct"


def test_seeding_and_inspecting_with_run_and_insert(t: TestBackend) -> None:
    alice = t.create_user()
    t.insert("tasks", {"owner": alice.user_id, "text": "seeded", "done": True})
    newest = t.run(lambda ctx: ctx.db.query("tasks").order("desc").first())
    assert newest["text"] == "seeded"
    assert alice.query("tasks:mine", done=True) == ["seeded"]
    with pytest.raises(SchemaValidationError, match="does not match the schema"):
        t.insert("tasks", {"owner": alice.user_id, "text": 5, "done": True})


def test_arguments_kinds_and_mixed_argument_styles_are_checked(t: TestBackend) -> None:
    alice = t.create_user()
    with pytest.raises(ArgumentValidationError):
        alice.mutation("tasks:add", text=3)
    with pytest.raises(WrongFunctionKindError):
        alice.query("tasks:add", text="x")
    with pytest.raises(TypeError, match="not both"):
        alice.mutation("tasks:add", {"text": "a"}, text="b")


def test_each_backend_starts_empty_and_close_removes_its_store(functions_dir: Path) -> None:
    first = TestBackend(functions_dir)
    first.create_user().mutation("tasks:add", text="only here")
    folder = first._store.folder
    first.close()
    assert not folder.exists()
    with pytest.raises(RuntimeError, match="closed"):
        first.query("tasks:whoami")
    with TestBackend(functions_dir) as second:
        assert second.table("tasks") == []


def test_create_user_needs_the_auth_tables(tmp_path: Path) -> None:
    folder = tmp_path / "noauthfns"
    folder.mkdir()
    (folder / "schema.py").write_text(
        "from authlib_core import define_schema, define_table, v\n"
        'schema = define_schema({"t": define_table({"x": v.string()})})\n'
    )
    with TestBackend(folder) as t, pytest.raises(ConfigError, match="auth_tables"):
        t.create_user()


def test_a_missing_functions_folder_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(FunctionLoadError, match="does not exist"):
        TestBackend(tmp_path / "nope")


def test_per_test_cost_is_measured(functions_dir: Path) -> None:
    """Prints what one test costs: a fresh backend, a user, a mutation and a query (timing is not asserted)."""
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        with TestBackend(functions_dir) as t:
            alice = t.create_user()
            alice.mutation("tasks:add", text="x")
            assert alice.query("tasks:mine") == ["x"]
    per_test_ms = (time.perf_counter() - started) / rounds * 1000
    print(f"\nTestBackend: {per_test_ms:.1f} ms per test (new store + user + mutation + query, {rounds} rounds)")
