"""The command line on DynamoDB, in subprocesses against moto's server: `infra`, `run` and `dev`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.database.engines.dynamodb import create_client
from authlib_core.database.system_tables import SYSTEM_INDEXES
from authlib_core.functions import load_functions
from authlib_core.values import new_id
from tests.dynamodb.harness import free_port, start_server

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with start_server() as url:
        yield url


@pytest.fixture
def tables() -> dict[str, str]:
    """Fresh table names per test (the moto server is shared by the module)."""
    suffix = uuid.uuid4().hex[:8]
    return {"AUTHLIB_DOCUMENTS_TABLE": f"docs-{suffix}", "AUTHLIB_SESSIONS_TABLE": f"sessions-{suffix}"}


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHLIB_", "AWS_"))}
    base.update(PYTHONPATH=str(ROOT), AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    base.update(extra)
    return base


def cli(cwd: Path, *args: str, environ: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "authlib_core", *args],
        cwd=cwd,
        env=environ if environ is not None else env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# -- infra create-tables ---------------------------------------------------------------------------------------


def test_create_tables_creates_then_finds(endpoint: str, tables: dict[str, str], tmp_path: Path) -> None:
    first = cli(tmp_path, "infra", "create-tables", "--endpoint-url", endpoint, environ=env(**tables))
    assert first.returncode == 0, first.stderr
    docs, sessions = tables["AUTHLIB_DOCUMENTS_TABLE"], tables["AUTHLIB_SESSIONS_TABLE"]
    assert first.stdout.splitlines() == [
        f"created table {docs} (documents, TTL on expiresAt) at {endpoint}",
        f"created table {sessions} (sessions, TTL on expiresAt) at {endpoint}",
    ]
    again = cli(tmp_path, "infra", "create-tables", "--endpoint-url", endpoint, environ=env(**tables))
    assert again.returncode == 0, again.stderr
    assert [line.split()[0] for line in again.stdout.splitlines()] == ["found", "found"]

    client = create_client(endpoint_url=endpoint, region="us-east-1")
    described = client.describe_table(TableName=docs)["Table"]
    assert described["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = client.describe_time_to_live(TableName=sessions)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiresAt")


def test_create_tables_names_and_region_by_option(endpoint: str, tmp_path: Path) -> None:
    docs, sessions = f"d-{uuid.uuid4().hex[:8]}", f"s-{uuid.uuid4().hex[:8]}"
    done = cli(
        tmp_path,
        "infra",
        "create-tables",
        "--endpoint-url",
        endpoint,
        "--region",
        "eu-west-1",
        "--documents-table",
        docs,
        "--sessions-table",
        sessions,
    )
    assert done.returncode == 0, done.stderr
    client = create_client(endpoint_url=endpoint, region="eu-west-1")
    assert {docs, sessions} <= set(client.list_tables()["TableNames"])
    assert not {docs, sessions} & set(
        create_client(endpoint_url=endpoint, region="us-east-1").list_tables()["TableNames"]
    )


@pytest.mark.parametrize(
    ("args", "environ", "status", "expected"),
    [
        (
            ["--endpoint-url", "http://127.0.0.1:{dead}"],
            {},
            1,
            "error: DynamoDB cannot be reached (create_tables; connection failed after retries): check --endpoint-url "
            "(or AUTHLIB_DYNAMODB_ENDPOINT_URL) and that the emulator there is running, or --region (AWS_REGION) and "
            'the network. (DynamoDB create_tables: EndpointConnectionError: Could not connect to the endpoint URL: "http://',
        ),
        ([], {}, 2, "error: No AWS region for DynamoDB at AWS: pass --region"),
        (["--endpoint-url", "http://dynamodb.internal.test:8000"], {}, 2, "error: No AWS region for DynamoDB at http"),
        (["--endpoint-url", "localhost:8000"], {}, 2, "error: --endpoint-url 'localhost:8000' is not an http(s) URL"),
        (["--region", "eu-west-1"], {"AUTHLIB_ENGINE": "mongodb"}, 2, "error: AUTHLIB_ENGINE is 'mongodb'"),
    ],
)
def test_create_tables_errors_are_one_line(
    tmp_path: Path, args: list[str], environ: dict[str, str], status: int, expected: str
) -> None:
    args = [arg.replace("{dead}", str(free_port())) for arg in args]
    done = cli(tmp_path, "infra", "create-tables", *args, environ=env(**environ))
    assert done.returncode == status, done.stderr
    assert error_line(done).startswith(expected)
    assert done.stdout == ""


# -- infra migrate ---------------------------------------------------------------------------------------------


def test_migrate_builds_the_schema_indexes_once(endpoint: str, tables: dict[str, str], tmp_path: Path) -> None:
    assert cli(tmp_path, "infra", "create-tables", "--endpoint-url", endpoint, environ=env(**tables)).returncode == 0
    args = ("infra", "migrate", "--endpoint-url", endpoint, "--functions", str(FUNCTIONS))
    first = cli(tmp_path, *args, environ=env(**tables))
    assert first.returncode == 0, first.stderr
    for name in (
        "authAccounts.by_provider_account",
        "authAccounts.by_user_provider",
        "myData.by_creation_time",
        "myData.by_user",
        "verification.by_identifier",
        "webhookEvents.by_event_id",
    ):
        assert name in first.stdout, first.stdout
    # the scheduler's system tables (docs/scheduler.md) come with every schema
    assert (
        "built _cron_jobs.by_creation_time, _cron_jobs.by_name, _scheduled_functions.by_completion, "
        "_scheduled_functions.by_creation_time, " in first.stdout
    )
    assert "_scheduled_functions.by_state" in first.stdout
    again = cli(tmp_path, *args, environ=env(**tables))
    assert again.returncode == 0, again.stderr
    # every table of the example's schema and every system table: by_creation_time, plus each declared index
    schema = load_functions(FUNCTIONS).schema
    assert schema is not None
    expected = sum(1 + len(table.indexes) for table in schema.tables.values())
    assert expected >= 12  # users, authAccounts, verification, myData, webhookEvents and their indexes
    expected += sum(1 + len(indexes) for indexes in SYSTEM_INDEXES.values())
    assert again.stdout.strip().endswith(f": nothing to build; {expected} unchanged")


def test_migrate_without_tables_says_to_create_them(endpoint: str, tables: dict[str, str], tmp_path: Path) -> None:
    done = cli(
        tmp_path, "infra", "migrate", "--endpoint-url", endpoint, "--functions", str(FUNCTIONS), environ=env(**tables)
    )
    assert done.returncode == 1
    line = error_line(done)
    assert line.startswith(
        "error: DynamoDB has no such table (ensure_indexes): check the table name (--documents-table"
    )
    assert "python -m authlib_core infra create-tables" in line
    assert "retry the request" not in line


NO_AWS_CONFIG = {
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.mark.parametrize("command", [["create-tables"], ["migrate", "--functions", str(FUNCTIONS)]])
def test_no_aws_credentials_is_said_as_such_with_what_to_set(tmp_path: Path, command: list[str]) -> None:
    environ = {k: v for k, v in env().items() if not k.startswith("AWS_")}
    done = cli(tmp_path, "infra", *command, "--documents-table", "x", environ={**environ, **NO_AWS_CONFIG})
    assert done.returncode == 1, done.stderr
    line = error_line(done)  # one line: no traceback
    assert line.startswith(
        "error: no AWS credentials were found, so DynamoDB could not be called: set AWS_PROFILE to a profile from "
        "~/.aws/config"
    )
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in line
    assert line.endswith("NoCredentialsError: Unable to locate credentials)")
    assert "retry the request" not in line
    assert "operator must" not in line


# -- run and dev: engine selection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--engine", "dynamodb", "--db", "x.sqlite3"], "error: --db names a SQLite file and cannot be combined"),
        (
            ["--endpoint-url", "http://127.0.0.1:8000"],
            "error: --endpoint-url is a DynamoDB endpoint and needs --engine",
        ),
        (["--engine", "sqlite", "--endpoint-url", "http://127.0.0.1:8000"], "error: --endpoint-url is a DynamoDB"),
        (
            ["--engine", "dynamodb", "--endpoint-url", "ftp://x"],
            "error: --endpoint-url 'ftp://x' is not an http(s) URL",
        ),
        (
            ["--engine", "dynamodb", "--endpoint-url", "http://10.1.2.3:8000"],
            "error: No server secret: set AUTHLIB_SECRETS",
        ),
        (["--engine", "dynamodb"], "error: No server secret: set AUTHLIB_SECRETS"),
    ],
)
@pytest.mark.parametrize("command", ["run", "dev"])
def test_engine_options_that_do_not_fit_are_usage_errors(
    tmp_path: Path, command: str, args: list[str], expected: str
) -> None:
    head = ["run", "myData:getMyData"] if command == "run" else ["dev", "--port", "0", "--no-static"]
    done = cli(tmp_path, *head, "--functions", str(FUNCTIONS), *args, environ=env(AWS_REGION="us-east-1"))
    assert done.returncode == 2, done.stderr
    assert error_line(done).startswith(expected)


def test_run_persists_on_dynamodb_across_processes(endpoint: str, tables: dict[str, str], tmp_path: Path) -> None:
    environ = env(**tables)
    assert cli(tmp_path, "infra", "create-tables", "--endpoint-url", endpoint, environ=environ).returncode == 0
    user = new_id("users")
    storage = ("--functions", str(FUNCTIONS), "--engine", "dynamodb", "--endpoint-url", endpoint)
    added = cli(tmp_path, "run", "myData:add", '{"text": "hi"}', "--identity", user, *storage, environ=environ)
    assert added.returncode == 0, added.stderr
    item_id = json.loads(added.stdout)
    listed = cli(tmp_path, "run", "myData:getMyData", "--identity", user, *storage, environ=environ)
    assert listed.returncode == 0, listed.stderr
    assert [(d["_id"], d["text"], d["userId"]) for d in json.loads(listed.stdout)] == [(item_id, "hi", user)]
    assert not (tmp_path / ".authlib" / "dev.sqlite3").exists()  # nothing went to SQLite
    # the engine is also picked up from the environment
    from_env = env(**tables, AUTHLIB_ENGINE="dynamodb", AUTHLIB_DYNAMODB_ENDPOINT_URL=endpoint)
    again = cli(
        tmp_path, "run", "myData:getMyData", "--identity", user, "--functions", str(FUNCTIONS), environ=from_env
    )
    assert again.returncode == 0, again.stderr
    assert [d["_id"] for d in json.loads(again.stdout)] == [item_id]


# -- the dev server on DynamoDB --------------------------------------------------------------------------------


def _http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null"), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), exc.headers


def test_dev_server_on_dynamodb(endpoint: str, tables: dict[str, str], tmp_path: Path) -> None:
    environ = env(**tables)
    assert cli(tmp_path, "infra", "create-tables", "--endpoint-url", endpoint, environ=environ).returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "authlib_core",
            "dev",
            "--engine",
            "dynamodb",
            "--endpoint-url",
            endpoint,
            "--port",
            str(port),
            "--no-static",
            "--functions",
            str(FUNCTIONS),
        ],
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _http("GET", f"{base}/api/ok")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "the dev server did not answer /api/ok"
            time.sleep(0.1)

        status, body, _ = _http("POST", f"{base}/api/query", {"path": "myData:getMyData", "args": {}})
        assert (status, body["status"], body["errorData"]) == (200, "error", "Not authenticated")

        status, body, headers = _http(
            "POST",
            f"{base}/api/auth/sign-up/email",
            {"name": "Ada", "email": "ada@example.test", "password": "correct-horse-battery"},
            {"origin": base},
        )
        assert status == 200, body
        token = headers["set-auth-token"]
        assert token
        bearer = {"authorization": f"Bearer {token}"}
        status, body, _ = _http("POST", f"{base}/api/mutation", {"path": "myData:add", "args": {"text": "hi"}}, bearer)
        assert (status, body["status"]) == (200, "success"), body
        status, body, _ = _http("POST", f"{base}/api/query", {"path": "myData:getMyData", "args": {}}, bearer)
        assert [d["text"] for d in body["value"]] == ["hi"]

        # the session lives in the sessions table (a test-side Scan; the engine never scans)
        client = create_client(endpoint_url=endpoint, region="us-east-1")
        items = client.scan(TableName=tables["AUTHLIB_SESSIONS_TABLE"])["Items"]
        assert any("expiresAt" in item for item in items)
        assert not (tmp_path / ".authlib" / "dev.sqlite3").exists()
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert f"database: DynamoDB at {endpoint}" in out
