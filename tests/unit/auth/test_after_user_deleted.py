"""``auth_config.after_user_deleted``: a job scheduled by the transaction that deletes a user, run by the real
scheduler after the commit — once, and never when the deletion does not commit.

A functions folder is written per test and loaded by :func:`~authlib_core.runtime.build_runtime` on SQLite, with the
``folder`` mail sender; the deletion link is read from the ``.eml`` file as a user would open it.
"""

from __future__ import annotations

import email
import email.policy
import re
import textwrap
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from authlib_core.config import Settings
from authlib_core.runtime import build_runtime
from authlib_core.scheduler import JobRunner
from tests.support.auth import Browser

if TYPE_CHECKING:
    from pathlib import Path

    from authlib_core.runtime import Runtime

SCHEMA = """
from authlib_core import define_schema, define_table, v
from authlib_core.auth import auth_tables

schema = define_schema({
    **auth_tables,
    "farewells": define_table({"userId": v.string(), "email": v.string(), "name": v.string()}),
    "blocks": define_table({"userId": v.string()}),
})
"""

HOOKS = """
from authlib_core import internal_mutation, v


@internal_mutation(args={"userId": v.id("users")})
def cleanup(ctx, userId):
    if ctx.db.query("blocks").filter(lambda q: q.eq(q.field("userId"), userId)).first() is not None:
        raise RuntimeError("this user's data cannot be removed yet")


@internal_mutation(args={"userId": v.id("users"), "email": v.string(), "name": v.string()})
def farewell(ctx, userId, email, name):
    assert ctx.db.get(userId) is None  # runs after the deletion committed
    ctx.db.insert("farewells", {"userId": userId, "email": email, "name": name})
"""


def _runtime(tmp_path: Path, *, verification: bool, **settings: Any) -> Runtime:
    functions = tmp_path / "functions"
    functions.mkdir()
    (functions / "schema.py").write_text(SCHEMA)
    (functions / "hooks.py").write_text(textwrap.dedent(HOOKS))
    (functions / "auth_config.py").write_text(
        "delete_user = True\n"
        f"delete_user_verification = {verification}\n"
        "on_user_deleted = 'hooks:cleanup'\n"
        "after_user_deleted = 'hooks:farewell'\n"
    )
    return build_runtime(
        Settings(
            functions_dir=functions,
            sqlite_path=tmp_path / "dev.sqlite3",
            mail="folder",
            mail_dir=tmp_path / "mail",
            rate_limit_enabled=False,
            **settings,
        )
    )


def _rows(runtime: Runtime, table: str) -> list[dict[str, Any]]:
    return runtime.database.run_query(lambda db: db.query(table).collect())


def _jobs(runtime: Runtime) -> list[dict[str, Any]]:
    return runtime.database.run_query(lambda db: db.system.query("_scheduled_functions").collect())


def _deletion_link(tmp_path: Path) -> tuple[str, dict[str, str]]:
    [path] = sorted((tmp_path / "mail").glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Confirm deleting your account"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    [url] = re.findall(r"https?://\S+", body.get_content())
    parts = urlsplit(url)
    return parts.path.removeprefix("/api/auth"), {k: v[0] for k, v in parse_qs(parts.query).items()}


@pytest.mark.parametrize("verification", [False, True], ids=["direct", "emailed-link"])
def test_the_job_runs_once_after_the_deletion_commits(tmp_path: Path, verification: bool) -> None:
    runtime = _runtime(tmp_path, verification=verification)
    assert runtime.auth is not None
    ada = Browser(runtime.auth)
    user_id = ada.sign_up(name="Ada").body["user"]["id"]  # type: ignore[index,call-overload]
    answer = ada.post("/delete-user", {})
    if verification:
        assert answer.body == {"success": True, "message": "Verification email sent"}
        assert _jobs(runtime) == []  # nothing is scheduled before the link is opened
        path, query = _deletion_link(tmp_path)
        answer = ada.get(path, query=query)
    assert answer.status == (302 if verification else 200)
    [job] = _jobs(runtime)
    assert (job["name"], job["args"], job["state"]) == (
        "hooks:farewell",
        [{"userId": user_id, "email": "ada@example.com", "name": "Ada"}],
        {"kind": "pending"},
    )
    assert _rows(runtime, "farewells") == []  # not run inside the deletion
    runner = JobRunner(runtime.executor)
    assert [result.outcome for result in runner.run_due()] == ["success"]
    assert runner.run_due() == []  # exactly once
    [farewell] = _rows(runtime, "farewells")
    assert (farewell["userId"], farewell["email"], farewell["name"]) == (user_id, "ada@example.com", "Ada")
    runtime.database.close()


def test_no_job_when_the_deletion_does_not_commit(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, verification=True)
    assert runtime.auth is not None
    ada = Browser(runtime.auth)
    user_id = ada.sign_up().body["user"]["id"]  # type: ignore[index,call-overload]
    runtime.database.run_mutation(lambda db: db.insert("blocks", {"userId": user_id}))
    assert ada.post("/delete-user", {}).status == 200
    path, query = _deletion_link(tmp_path)
    failed = ada.get(path, query=query)
    assert failed.status == 500
    assert _jobs(runtime) == []
    assert [row["_id"] for row in _rows(runtime, "users")] == [user_id]
    assert JobRunner(runtime.executor).run_due() == []
    # Once the app allows it, the same link completes the deletion and its job.
    runtime.database.run_mutation(lambda db: [db.delete(row["_id"]) for row in db.query("blocks").collect()])
    assert ada.get(path, query=query).status == 302
    assert [job["name"] for job in _jobs(runtime)] == ["hooks:farewell"]
    runtime.database.close()


def test_the_environment_overrides_auth_config(tmp_path: Path) -> None:
    settings = Settings.from_env({"AUTHLIB_DELETE_USER_VERIFICATION": "off", "AUTHLIB_DELETE_TOKEN_EXPIRES_IN": "600"})
    assert (settings.delete_user_verification, settings.auth.delete_token_expires_in) == (False, 600)
    assert Settings.from_env({}).delete_user_verification is None  # unset: as auth_config.py says
    runtime = _runtime(tmp_path, verification=True, delete_user_verification=False)
    assert runtime.auth is not None
    ada = Browser(runtime.auth)
    ada.sign_up()
    assert ada.post("/delete-user", {}).body == {"success": True, "message": "User deleted"}
    assert not (tmp_path / "mail").exists()
    runtime.database.close()
