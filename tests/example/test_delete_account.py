"""The example app lets users delete their account (``auth_config.delete_user``); their notes go with it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.config import Settings
from authlib_core.runtime import build_runtime
from tests.support.auth import Browser

if TYPE_CHECKING:
    from authlib_core.runtime import Runtime

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
PASSWORD = "correct horse battery"


def _runtime(tmp_path: Path, **settings: Any) -> Runtime:
    return build_runtime(Settings(functions_dir=FUNCTIONS, sqlite_path=tmp_path / "dev.sqlite3", **settings))


def _notes(runtime: Runtime) -> list[tuple[str, str]]:
    rows = runtime.database.run_query(lambda db: db.query("myData").collect())
    return sorted((str(row["userId"]), str(row["text"])) for row in rows)


def _sign_up_with_note(runtime: Runtime, email: str) -> tuple[Browser, str]:
    assert runtime.auth is not None
    browser = Browser(runtime.auth)
    user_id = str(browser.sign_up(email=email, password=PASSWORD).body["user"]["id"])  # type: ignore[index,call-overload]
    runtime.database.run_mutation(lambda db: db.insert("myData", {"userId": user_id, "text": f"note of {email}"}))
    return browser, user_id


def test_deleting_an_account_deletes_its_notes_and_nothing_else(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    ada, _ = _sign_up_with_note(runtime, "ada@example.com")
    _, grace_id = _sign_up_with_note(runtime, "grace@example.com")
    deleted = ada.post("/delete-user", {"password": PASSWORD})
    assert deleted.body == {"success": True, "message": "User deleted"}
    assert _notes(runtime) == [(grace_id, "note of grace@example.com")]
    users = runtime.database.run_query(lambda db: db.query("users").collect())
    assert [user["email"] for user in users] == ["grace@example.com"]
    runtime.database.close()


def test_the_environment_switch_overrides_auth_config(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, delete_user_enabled=False)
    ada, ada_id = _sign_up_with_note(runtime, "ada@example.com")
    refused = ada.post("/delete-user", {"password": PASSWORD})
    assert (refused.status, refused.body_is_empty) == (404, True)
    assert _notes(runtime) == [(ada_id, "note of ada@example.com")]
    runtime.database.close()


@pytest.mark.parametrize(("raw", "expected"), [("on", True), ("off", False), ("", None)])
def test_authlib_delete_user_is_read_as_a_switch(raw: str, expected: bool | None) -> None:
    settings = Settings.from_env({"AUTHLIB_DELETE_USER": raw})
    assert settings.delete_user_enabled is expected
    assert settings.auth.delete_user_enabled is (expected is True)
