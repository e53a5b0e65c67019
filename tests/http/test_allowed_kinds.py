"""AUTHLIB_ALLOWED_KINDS: a read-only deployment refuses every call that is not a query, before anything runs."""

from __future__ import annotations

import dataclasses
import json

import pytest

from authlib_core.config import Settings
from authlib_core.errors import ConfigError
from authlib_core.functions import Executor
from authlib_core.http.app import HttpApp
from tests.http.conftest import Client, captured_logger


@pytest.fixture
def read_only(wire_runtime, resolver) -> Client:
    runtime = dataclasses.replace(
        wire_runtime, settings=dataclasses.replace(wire_runtime.settings, allowed_kinds=frozenset({"query"}))
    )
    logger, buffer = captured_logger()
    return Client(HttpApp(lambda: runtime, identity=resolver, logger=logger), buffer)


def test_queries_still_run(read_only: Client) -> None:
    assert read_only.post("/api/query", {"path": "calls:echo", "args": {"value": 1}}) == (
        200,
        {"status": "success", "value": 1},
    )
    status, body = read_only.post("/api/run/calls/echo", {"args": {"value": "x"}})
    assert (status, body["value"]) == (200, "x")
    status, body = read_only.post("/api/function", {"path": "calls:echo", "args": {"value": 2}})
    assert (status, body["value"]) == (200, 2)


@pytest.mark.parametrize(
    ("route", "body", "kind"),
    [
        ("/api/mutation", {"path": "calls:shout", "args": {"text": "hi"}}, "mutation"),
        ("/api/action", {"path": "calls:act", "args": {}}, "action"),
        ("/api/run/calls/shout", {"args": {"text": "hi"}}, "mutation"),
        ("/api/run/calls/act", {"args": {}}, "action"),
        ("/api/function", {"path": "calls:shout", "args": {"text": "hi"}}, "mutation"),
        # the route's kind decides, even for a function of another kind or one that does not exist
        ("/api/mutation", {"path": "calls:echo", "args": {"value": 1}}, "mutation"),
        ("/api/mutation", {"path": "calls:nope", "args": {}}, "mutation"),
    ],
)
def test_other_kinds_are_forbidden_before_anything_runs(
    read_only: Client, resolver, monkeypatch: pytest.MonkeyPatch, route: str, body: dict, kind: str
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the executor ran a refused call")

    monkeypatch.setattr(Executor, "call", never)
    status, answer = read_only.post(route, body)
    assert status == 403
    assert answer["code"] == "Forbidden"
    assert f"is a {kind}" in answer["message"]
    assert "AUTHLIB_ALLOWED_KINDS=query" in answer["message"]
    assert resolver.calls == 0  # refused before the identity was even resolved
    record = [json.loads(line) for line in read_only.log.getvalue().splitlines() if '"request"' in line][-1]
    assert (record["status"], record["outcome"]) == (403, "rejected")


def test_unknown_functions_keep_convex_s_answer(read_only: Client) -> None:
    status, body = read_only.post("/api/run/calls/nope", {"args": {}})
    assert status == 200
    assert body["errorMessage"].startswith("Could not find public function for 'calls:nope'")


def test_every_kind_is_served_when_unset(client: Client) -> None:
    status, body = client.post("/api/mutation", {"path": "calls:shout", "args": {"text": "hi"}})
    assert (status, body["status"]) == (200, "success")


def test_the_setting_is_parsed_and_validated() -> None:
    assert Settings.from_env({"AUTHLIB_ALLOWED_KINDS": "query"}).allowed_kinds == frozenset({"query"})
    assert Settings.from_env({"AUTHLIB_ALLOWED_KINDS": " Query, mutation ,action"}).allowed_kinds == frozenset(
        {"query", "mutation", "action"}
    )
    assert Settings.from_env({"AUTHLIB_ALLOWED_KINDS": ""}).allowed_kinds is None
    with pytest.raises(ConfigError, match="AUTHLIB_ALLOWED_KINDS names 'queries'"):
        Settings.from_env({"AUTHLIB_ALLOWED_KINDS": "queries"})
