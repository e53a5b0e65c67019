"""What a failing call tells the developer on the dev server, and what it never tells anyone on Lambda."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import sys
import textwrap
import urllib.request
from typing import TYPE_CHECKING

import pytest

from authlib_core.config import Settings
from authlib_core.dev.server import DevServer
from authlib_core.http.app import HttpApp
from authlib_core.runtime import build_runtime
from tests.http.conftest import Client, captured_logger
from tests.support.dev_cli import start_dev
from tests.support.processes import stop_process

if TYPE_CHECKING:
    from pathlib import Path

SCHEMA = """
from authlib_core import define_schema, define_table, v

schema = define_schema({"todos": define_table({"text": v.string(), "done": v.boolean()})})
"""

TODOS = """
from authlib_core import ConvexError, internal_mutation, mutation, query
from authlib_core.values import Int64, v


@query
def list(ctx):
    return ctx.db.query("todos").collect()


@mutation(args={"text": v.string(), "done": v.boolean()})
def create(ctx, text, done):
    return ctx.db.insert("todos", {"text": text, "done": done})


@mutation
def insert_raw(ctx, doc: dict):
    return ctx.db.insert("todos", doc)


def check(items):
    raise ValueError(f"the list has {len(items)} items on fire")


@query
def explode(ctx):
    return check(ctx.db.query("todos").collect())


@query
def refuse(ctx):
    raise ConvexError({"code": "TOO_LONG", "max": Int64(5), "raw": b"\\x01\\x02"})


@internal_mutation
def purge(ctx):
    return None
"""


@pytest.fixture
def functions_dir(tmp_path):
    folder = tmp_path / "devloopfns"
    folder.mkdir()
    (folder / "schema.py").write_text(textwrap.dedent(SCHEMA))
    (folder / "todos.py").write_text(textwrap.dedent(TODOS))
    (folder / "users.py").write_text("from authlib_core import query\n\n@query\ndef me(ctx):\n    return None\n")
    yield folder
    for module in list(sys.modules):
        if module.split(".")[0] == "devloopfns":
            del sys.modules[module]


def client_for(functions_dir: Path, tmp_path: Path, *, expose: bool) -> Client:
    settings = Settings(functions_dir=functions_dir, sqlite_path=tmp_path / "dev.sqlite3", expose_errors=expose)
    runtime = build_runtime(settings)
    logger, buffer = captured_logger()
    return Client(HttpApp(lambda: runtime, logger=logger), buffer)


def call(client: Client, path: str, args: dict | None = None, *, route: str = "/api/query") -> str:
    status, body = client.post(route, {"path": path, "args": args or {}}, request_id="rid-1")
    assert status == 200
    assert body["status"] == "error"
    return str(body["errorMessage"])


def test_uncaught_exception_names_type_message_and_the_users_frames(functions_dir, tmp_path):
    message = call(client_for(functions_dir, tmp_path, expose=True), "todos:explode")
    assert message == (
        "[Request ID: rid-1] Server Error\n"
        "Uncaught ValueError: the list has 0 items on fire\n"
        "    at explode (devloopfns/todos.py:27)\n"
        "    at check (devloopfns/todos.py:22)\n"  # each frame line ends with a newline, as in Convex
    )


def test_lambda_stays_opaque_and_logs_the_stack(functions_dir, tmp_path, monkeypatch):
    # What the Lambda entry point builds: settings from the environment, where nothing can expose errors.
    env = {"AUTHLIB_FUNCTIONS_DIR": str(functions_dir), "AUTHLIB_SQLITE_PATH": str(tmp_path / "l.sqlite3")}
    settings = Settings.from_env({**env, "AUTHLIB_EXPOSE_ERRORS": "true", "AUTHLIB_SECRETS": "s" * 40})
    assert settings.expose_errors is False
    runtime = build_runtime(settings)
    logger, buffer = captured_logger()
    client = Client(HttpApp(lambda: runtime, logger=logger), buffer)
    assert call(client, "todos:explode") == "[Request ID: rid-1] Server Error"
    assert call(client, "todos:lst") == "Could not find public function for 'todos:lst'."
    logged = [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    assert any("ValueError: the list has 0 items on fire" in str(entry.get("exception")) for entry in logged)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "todos:lst",
            "Could not find public function for 'todos:lst'. Did you mean 'todos:list'? "
            "Public functions in module 'todos': create, explode, insert_raw, list, refuse.",
        ),
        (
            "todo:create",
            "Could not find public function for 'todo:create'. Did you mean 'todos:create'? "
            "The functions folder has no module 'todo' (modules with public functions: todos, users).",
        ),
        (
            # internal functions are never named to a client
            "todos:purge",
            "Could not find public function for 'todos:purge'. "
            "Public functions in module 'todos': create, explode, insert_raw, list, refuse.",
        ),
    ],
)
def test_missing_function_suggests_from_the_registry(functions_dir, tmp_path, path, expected):
    message = call(client_for(functions_dir, tmp_path, expose=True), path)
    assert message == expected
    assert "python -m authlib_core dev" not in message


def test_messages_speak_python_and_json(functions_dir, tmp_path):
    client = client_for(functions_dir, tmp_path, expose=True)
    wrong_kind = call(client, "todos:create", {"text": "a", "done": False})
    assert wrong_kind == "Trying to execute todos:create as Query, but it is defined as Mutation."
    bad_arg = call(client, "todos:create", {"text": 5, "done": False}, route="/api/mutation")
    assert bad_arg.endswith("Value: 5. Validator: v.string()")
    assert "5.0" not in bad_arg
    bad_doc = call(client, "todos:insert_raw", {"doc": {"text": "a", "done": None}}, route="/api/mutation")
    assert "Path: .done. Value: null. Validator: v.boolean()" in bad_doc
    refused = call(client, "todos:refuse")
    assert refused.endswith('Uncaught ConvexError: {"code":"TOO_LONG","max":"5n","raw":{"$bytes":"AQI="}}')
    for message in (wrong_kind, bad_arg, bad_doc, refused):
        assert ".js" not in message
        assert "None" not in message
        assert "False" not in message
        assert "b'" not in message


def test_dev_cli_exposes_errors_and_prints_a_readable_traceback(functions_dir, tmp_path):
    with start_dev(functions_dir, tmp_path) as proc:
        try:
            line = proc.stdout.readline()
            assert "listening on http://127.0.0.1:" in line, line
            url = line.split("listening on ")[1].strip()
            request = urllib.request.Request(
                f"{url}/api/query", data=json.dumps({"path": "todos:explode", "args": {}}).encode(), method="POST"
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                body = json.loads(response.read())
        finally:
            stop_process(proc)
        output = line + proc.stdout.read()
    assert re.fullmatch(
        r"\[Request ID: [0-9a-f]+\] Server Error\n"
        r"Uncaught ValueError: the list has 0 items on fire\n"
        r"    at explode \(devloopfns/todos\.py:27\)\n"
        r"    at check \(devloopfns/todos\.py:22\)\n",
        body["errorMessage"],
    ), body["errorMessage"]
    todos = functions_dir / "todos.py"
    assert "POST /api/query todos:explode 200 server_error" in output
    assert (
        "Traceback (most recent call last):\n"
        f'  File "{todos}", line 27, in explode\n'
        '    return check(ctx.db.query("todos").collect())\n'
    ) in output
    assert f'  File "{todos}", line 22, in check\n' in output
    assert output.rstrip().splitlines()[-2] == "ValueError: the list has 0 items on fire"
    assert "\\n" not in output  # no JSON line with escaped newlines


def test_settings_field_is_off_by_default() -> None:
    assert Settings().expose_errors is False
    assert dataclasses.replace(Settings(), expose_errors=True).expose_errors is True


def test_a_folder_that_does_not_load_is_explained_to_the_caller(functions_dir, tmp_path):
    (functions_dir / "todos.py").write_text("from authlib_core import query\n\n@query\ndef list(ctx:\n    return []\n")
    settings = Settings(functions_dir=functions_dir, sqlite_path=tmp_path / "dev.sqlite3", expose_errors=True)
    for expose in (True, False):
        server = DevServer(
            lambda: build_runtime(settings), functions_dir, port=0, out=io.StringIO(), expose_load_errors=expose
        )
        server.start_background()
        try:
            body = json.dumps({"path": "todos:list", "args": {}}).encode()
            request = urllib.request.Request(f"{server.url}/api/query", data=body, method="POST")
            with urllib.request.urlopen(request, timeout=10) as response:
                message = json.loads(response.read())["errorMessage"]
        finally:
            server.shutdown()
        if expose:
            assert re.fullmatch(
                r"\[Request ID: [0-9a-f]+\] Server Error\nUncaught FunctionLoadError: .*todos\.py.*\n", message, re.S
            ), message
            assert "SyntaxError" in message
        else:
            assert re.fullmatch(r"\[Request ID: [0-9a-f]+\] Server Error", message), message


def test_the_dev_console_logs_readable_text_not_json():
    import logging

    from aws_lambda_powertools import Logger

    from authlib_core.dev.console import ConsoleFormatter

    stream = io.StringIO()
    logger = Logger(
        service="dev-console-test",
        level="WARNING",
        logger_formatter=ConsoleFormatter(),
        logger_handler=logging.StreamHandler(stream),
    )
    try:
        raise KeyError("token")
    except KeyError:
        logger.exception("the auth handler failed", extra={"request_id": "rid-1"})
    lines = stream.getvalue().splitlines()
    assert lines[0] == "error: the auth handler failed"
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "KeyError: 'token'"
