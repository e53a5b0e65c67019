"""/api/auth/* and ctx.auth through the Lambda app over the example app (real SQLite stores, real auth service)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from authlib_core.config import Settings
from authlib_core.http.app import HttpApp
from authlib_core.runtime import build_runtime
from tests.http.conftest import Context, make_event

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "https://api.example.test"


@pytest.fixture
def app(tmp_path: Path) -> HttpApp:
    runtime = build_runtime(Settings(functions_dir=ROOT / "functions", sqlite_path=tmp_path / "auth.sqlite3"))
    return HttpApp(lambda: runtime)


def _call(app: HttpApp, method: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
    headers = {"host": "api.example.test", "origin": ORIGIN, **kw.pop("headers", {})}
    raw = None if body is None else json.dumps(body)
    return app(make_event(method, path, raw, headers=headers, **kw), Context())


def _session_cookie(response: dict[str, Any]) -> str:
    cookie = next(c for c in response["cookies"] if c.startswith("__Secure-better-auth.session_token="))
    return cookie.split(";", 1)[0]


def test_sign_up_then_the_cookie_authenticates_function_calls(app: HttpApp) -> None:
    signed_up = _call(
        app, "POST", "/api/auth/sign-up/email", {"name": "A", "email": "a@x.test", "password": "pw-12345678"}
    )
    assert signed_up["statusCode"] == 200, signed_up["body"]
    user_id = json.loads(signed_up["body"])["user"]["id"]
    cookie = _session_cookie(signed_up)
    assert "HttpOnly" in next(c for c in signed_up["cookies"] if c.startswith(cookie))

    anonymous = _call(app, "POST", "/api/query", {"path": "myData:getMyData", "args": {}})
    assert json.loads(anonymous["body"])["status"] == "error"

    added = _call(app, "POST", "/api/mutation", {"path": "myData:add", "args": {"text": "hi"}}, cookies=[cookie])
    assert json.loads(added["body"])["status"] == "success", added["body"]
    mine = _call(app, "POST", "/api/query", {"path": "myData:getMyData", "args": {}}, cookies=[cookie])
    assert [(d["text"], d["userId"]) for d in json.loads(mine["body"])["value"]] == [("hi", user_id)]

    token = signed_up["headers"]["set-auth-token"]
    by_bearer = _call(
        app,
        "POST",
        "/api/query",
        {"path": "myData:getMyData", "args": {}},
        headers={"authorization": f"Bearer {token}"},
    )
    assert len(json.loads(by_bearer["body"])["value"]) == 1


def test_auth_responses_carry_exactly_one_content_type(app: HttpApp) -> None:
    response = _call(app, "GET", "/api/auth/get-session")
    assert response["statusCode"] == 200
    assert response["body"] == "null"
    assert [k for k in response["headers"] if k.lower() == "content-type"] == ["Content-Type"]


def test_unknown_auth_path_is_an_empty_404(app: HttpApp) -> None:
    response = _call(app, "GET", "/api/auth/no-such-endpoint")
    assert (response["statusCode"], response["body"]) == (404, "")


def test_an_app_without_auth_tables_answers_404_with_a_hint(tmp_path: Path) -> None:
    runtime = build_runtime(
        Settings(functions_dir=ROOT / "tests" / "http" / "apps" / "wireapp", sqlite_path=tmp_path / "x.sqlite3")
    )
    assert runtime.auth is None
    response = HttpApp(lambda: runtime)(make_event("GET", "/api/auth/get-session"), Context())
    assert response["statusCode"] == 404
    assert "auth_tables" in json.loads(response["body"])["message"]
