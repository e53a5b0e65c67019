"""Fixtures for the HTTP tests: a functions folder, a runtime over an in-memory database, canned events."""

from __future__ import annotations

import base64
import copy
import io
import json
import logging
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from authlib_core.auth import NoAuth, StaticAuth, UserIdentity
from authlib_core.config import Settings
from authlib_core.http import bearer_token
from authlib_core.http.app import HttpApp
from authlib_core.runtime import build_runtime
from tests.unit.functions.fakes import FakeDatabase

HERE = Path(__file__).parent
APPS = HERE / "apps"
EVENTS = HERE.parent / "events"

#: The bearer token the fake resolver accepts, and the user it stands for.
GOOD_TOKEN = "tok_valid_0123456789abcdef"
USER_ID = "users|alice"


class FakeResolver:
    """Bearer token → identity; the seam the real session lookup plugs into."""

    def __init__(self) -> None:
        self.calls = 0

    def resolve(self, request):
        self.calls += 1
        token = bearer_token(request) or request.cookies.get("better-auth.session_token")
        if token == GOOD_TOKEN:
            return StaticAuth(UserIdentity(subject=USER_ID, token_identifier=f"test|{USER_ID}", issuer="test"))
        return NoAuth()


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def make_event(
    method: str,
    path: str,
    body: bytes | str | None = None,
    *,
    headers: dict[str, str] | None = None,
    query: str = "",
    cookies: list[str] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """A canned SAM event with this request's method, path, body, headers, query and cookies."""
    base = "http-api-get-query" if method == "GET" else "http-api-post-query"
    event = copy.deepcopy(load_event(base))
    event["rawPath"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["requestId"] = request_id or f"req-{uuid.uuid4().hex[:12]}"
    event["rawQueryString"] = query
    event.pop("queryStringParameters", None)
    event.pop("pathParameters", None)
    event["headers"] = {"content-type": "application/json", **(headers or {})}
    event["cookies"] = list(cookies or [])
    raw = body.encode() if isinstance(body, str) else (body or b"")
    event["body"] = base64.b64encode(raw).decode()
    event["isBase64Encoded"] = True
    return event


class Context:
    function_name = "authlib-core-test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:authlib-core-test"
    aws_request_id = "lambda-req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class Client:
    """Calls an :class:`HttpApp` with events; ``log`` holds everything the app logged."""

    def __init__(self, app: HttpApp, log: io.StringIO) -> None:
        self.app = app
        self.log = log

    def raw(self, method: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        return self.app(make_event(method, path, body, **kw), Context())

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        response = self.raw(method, path, body, **kw)
        return response["statusCode"], json.loads(response["body"])

    def post(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return self.call("POST", path, body, **kw)


def captured_logger() -> tuple[Logger, io.StringIO]:
    buffer = io.StringIO()
    logger = Logger(service=f"test-{uuid.uuid4().hex[:8]}", logger_handler=logging.StreamHandler(buffer))
    return logger, buffer


@pytest.fixture
def wire_runtime():
    runtime = build_runtime(Settings(functions_dir=APPS / "wireapp"), database=FakeDatabase())
    yield runtime
    for module in list(sys.modules):
        if module.split(".")[0] == "wireapp":
            del sys.modules[module]


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver()


@pytest.fixture
def client(wire_runtime, resolver) -> Client:
    logger, buffer = captured_logger()
    return Client(HttpApp(lambda: wire_runtime, identity=resolver, logger=logger), buffer)
