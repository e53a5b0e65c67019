"""What the handler logs: one structured line per call, stacks for unexpected errors, never a credential."""

from __future__ import annotations

import json

from tests.http.conftest import GOOD_TOKEN

SECRET_COOKIE = "sessionsecretvalue.SIGNATURE%3D"
PASSWORD = "correct horse battery staple"


def lines(client):
    return [json.loads(line) for line in client.log.getvalue().splitlines() if line.strip()]


def test_one_structured_line_per_call(client):
    client.post("/api/query", {"path": "calls:echo", "args": {"value": 1}}, request_id="rid-1")
    (line,) = lines(client)
    assert line["message"] == "request"
    assert line["correlation_id"] == "rid-1"
    assert line["request_id"] == "rid-1"
    assert line["function"] == "calls:echo"
    assert line["kind"] == "query"
    assert line["outcome"] == "success"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)


def test_outcomes(client):
    client.post("/api/query", {"path": "calls:fail_convex", "args": {}})
    client.post("/api/query", b"nope")
    client.post("/api/mutation", {"path": "calls:conflict", "args": {}})
    outcomes = [line["outcome"] for line in lines(client) if line["message"] == "request"]
    assert outcomes == ["error", "rejected", "unavailable"]


def test_unexpected_exception_is_opaque_to_client_and_logged_with_stack(client):
    status, body = client.post(
        "/api/query",
        {"path": "calls:boom", "args": {}},
        request_id="rid-boom",
        headers={"authorization": f"Bearer {GOOD_TOKEN}"},
        cookies=[f"better-auth.session_token={SECRET_COOKIE}"],
    )
    assert (status, body) == (200, {"status": "error", "errorMessage": "[Request ID: rid-boom] Server Error"})
    logged = lines(client)
    errors = [line for line in logged if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert "Traceback" in errors[0]["exception"]
    assert "RuntimeError" in errors[0]["exception"]
    assert errors[0]["correlation_id"] == "rid-boom"


def test_no_credential_ever_reaches_the_log(client):
    headers = {"authorization": f"Bearer {GOOD_TOKEN}", "cookie": f"better-auth.session_token={SECRET_COOKIE}"}
    cookies = [f"better-auth.session_token={SECRET_COOKIE}"]
    client.post("/api/query", {"path": "calls:boom", "args": {}}, headers=headers, cookies=cookies)
    client.post("/api/query", {"path": "calls:whoami", "args": {}}, headers=headers, cookies=cookies)
    client.post("/api/mutation", {"path": "calls:shout", "args": {"text": PASSWORD}}, headers=headers, cookies=cookies)
    client.post("/api/mutation", {"path": "calls:shout", "args": {"text": 5, "password": PASSWORD}}, headers=headers)
    client.post("/api/query", b"{bad json " + PASSWORD.encode(), headers=headers, cookies=cookies)
    client.post("/api/auth/sign-in/email", {"email": "a@b.c", "password": PASSWORD}, headers=headers, cookies=cookies)
    text = client.log.getvalue()
    assert text.count('"message":"request"') == 6
    for secret in (GOOD_TOKEN, SECRET_COOKIE, "sessionsecretvalue", PASSWORD):
        assert secret not in text


def test_the_service_name_comes_from_powertools_service_name(monkeypatch, wire_runtime):
    # template.yaml names the service per stage; a fixed Logger(service=...) would override it.
    from authlib_core.http.app import HttpApp

    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "authlib-core-staging")
    assert HttpApp(lambda: wire_runtime).logger.service == "authlib-core-staging"
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME")
    assert HttpApp(lambda: wire_runtime).logger.service == "authlib-core"


def test_the_lambda_context_keys_are_those_of_powertools_inject_lambda_context():
    import io
    import logging

    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.logging import correlation_paths

    from authlib_core.http.log_context import LambdaLogContext
    from tests.http.conftest import Context

    event = {"requestContext": {"requestId": "rid-ctx"}, "rawPath": "/api/query"}
    streams = {name: io.StringIO() for name in ("ours", "powertools")}
    loggers = {
        name: Logger(service=f"ctx-keys-{name}", logger_handler=logging.StreamHandler(stream))
        for name, stream in streams.items()
    }
    for _ in range(2):  # a cold and a warm invocation
        LambdaLogContext(loggers["ours"]).inject(event, Context())
        loggers["ours"].info("x")
        decorated = loggers["powertools"].inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
        decorated(lambda e, c: loggers["powertools"].info("x"))(event, Context())
    ours, powertools = ([json.loads(line) for line in streams[name].getvalue().splitlines()] for name in streams)
    for mine, theirs in zip(ours, powertools, strict=True):
        # the cold-start flag is per process (the first invocation only), so it is compared as a type
        assert {k for k in mine if k != "service"} == {k for k in theirs if k != "service"}
        for key in ("function_name", "function_memory_size", "function_arn", "function_request_id", "correlation_id"):
            assert mine[key] == theirs[key], key
        assert isinstance(mine["cold_start"], bool)
    assert ours[1]["cold_start"] is False
