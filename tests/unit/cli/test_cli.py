"""The command line, run in a subprocess against temporary functions folders."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

BOOT = "import sys; from authlib_core.cli.main import main; sys.exit(main(sys.argv[1:]))"

APP = {
    "notes.py": """
        from authlib_core import ConvexError, action, get_auth_user_id, internal_query, mutation, query
        from authlib_core.values import Int64, v

        @query
        def hello(ctx):
            return {"n": 1, "s": "x", "list": (1, 2)}

        @mutation(args={"text": v.string()})
        def shout(ctx, text):
            return text.upper()

        @query
        def whoami(ctx):
            return get_auth_user_id(ctx)

        @query
        def identity(ctx):
            found = ctx.auth.get_user_identity()
            return None if found is None else found.to_json()

        @internal_query
        def hidden(ctx, n: int):
            return n * 2

        @query
        def refuse(ctx):
            raise ConvexError({"code": "NOPE"})

        @action
        def crash(ctx):
            raise ValueError("boom")

        @query
        def big(ctx):
            return Int64(5)
    """
}


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "functions"
    for rel, text in APP.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("AUTHLIB_FUNCTIONS_DIR", None)
    env.pop("AUTHLIB_SQLITE_PATH", None)
    return subprocess.run(
        [sys.executable, "-c", BOOT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert lines, done
    assert lines[-1].startswith("error: ")
    return lines[-1]


def test_run_prints_the_result_as_json(app: Path) -> None:
    done = cli(app.parent, "run", "notes:hello")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"n": 1, "s": "x", "list": [1, 2]}


def test_run_passes_arguments_and_finds_the_folder_by_option(app: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = cli(elsewhere, "run", "notes:shout", '{"text": "hi"}', "--functions", str(app))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == "HI"


def test_run_as_a_user_and_internal_functions(app: Path) -> None:
    assert json.loads(cli(app.parent, "run", "notes:whoami").stdout) is None
    assert json.loads(cli(app.parent, "run", "notes:whoami", "--identity", "users|42").stdout) == "users|42"
    assert json.loads(cli(app.parent, "run", "notes.js:hidden", '{"n": 4}').stdout) == 8


def test_identity_as_json_like_npx_convex_run(app: Path) -> None:
    given = '{"subject": "u1", "email": "a@example.com", "emailVerified": true, "role": "admin"}'
    assert json.loads(cli(app.parent, "run", "notes:whoami", "--identity", given).stdout) == "u1"
    assert json.loads(cli(app.parent, "run", "notes:identity", "--identity", given).stdout) == {
        "subject": "u1",
        "tokenIdentifier": "authlib-core-cli|u1",
        "issuer": "authlib-core-cli",
        "email": "a@example.com",
        "emailVerified": True,
        "role": "admin",
    }
    plain = json.loads(cli(app.parent, "run", "notes:identity", "--identity", "u2").stdout)
    assert plain == {"subject": "u2", "tokenIdentifier": "authlib-core-cli|u2", "issuer": "authlib-core-cli"}


def test_run_formats(app: Path) -> None:
    assert json.loads(cli(app.parent, "run", "notes:big").stdout) == "5"
    encoded = cli(app.parent, "run", "notes:big", "--format", "convex_encoded_json")
    assert json.loads(encoded.stdout) == {"$integer": base64.b64encode((5).to_bytes(8, "little")).decode()}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "notes:shout", "{not json"], "error: ARGS_JSON is not valid JSON"),
        (["run", "notes:shout", "[1]"], "error: ARGS_JSON must be a JSON object, got list"),
        (["run", "notes:whoami", "--identity", "{nope"], "error: --identity is not valid JSON"),
        (["run", "notes:whoami", "--identity", '{"email": "a@b.c"}'], 'error: --identity JSON needs a "subject"'),
        (
            ["run", "notes:whoami", "--identity", '{"subject": "u", "emailVerified": "yes"}'],
            "error: --identity: 'emailV",
        ),
    ],
)
def test_usage_errors_exit_2(app: Path, args: list[str], expected: str) -> None:
    done = cli(app.parent, *args)
    assert done.returncode == 2
    assert one_error_line(done).startswith(expected)
    assert done.stdout == ""


def test_missing_command_is_a_usage_error(app: Path) -> None:
    assert cli(app.parent).returncode == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "notes:nope"], "error: Could not find function for 'notes:nope'."),
        (["run", "notes:shout", '{"text": 3}'], "error: notes:shout: argument `text` is invalid"),
        (["run", "notes:shout", '{"txt": "a"}'], "error: notes:shout: "),
        (["run", "notes:refuse"], 'error: ConvexError: {"code":"NOPE"}'),
    ],
)
def test_function_errors_exit_1_with_one_line(app: Path, args: list[str], expected: str) -> None:
    done = cli(app.parent, *args)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert one_error_line(done).startswith(expected)


def test_load_errors_exit_1_naming_the_file(app: Path) -> None:
    (app / "broken.py").write_text("def oops(:\n")
    done = cli(app.parent, "run", "notes:hello")
    assert done.returncode == 1
    line = one_error_line(done)
    assert "broken.py:1" in line
    assert "SyntaxError" in line


def test_unexpected_exceptions_show_the_traceback_then_one_error_line(app: Path) -> None:
    done = cli(app.parent, "run", "notes:crash")
    assert done.returncode == 1
    assert "Traceback" in done.stderr
    assert one_error_line(done) == "error: Uncaught ValueError: boom"


def test_python_dash_m_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "authlib_core", "--help"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "run" in done.stdout
    assert "dev" in done.stdout
    assert "infra" in done.stdout


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://127.9.9.9", True),
        ("http://localhost:4566", True),
        ("http://[::1]:8000", True),
        ("https://dynamodb.eu-west-1.amazonaws.com", False),
        ("http://10.0.0.5:8000", False),
        ("http://localhost.example.com", False),
        ("not a url", False),
    ],
)
def test_loopback_endpoints(url: str, loopback: bool) -> None:
    from authlib_core.config import is_loopback_url

    assert is_loopback_url(url) is loopback


def test_the_dev_secret_is_supplied_only_for_a_loopback_dynamodb_endpoint(tmp_path: Path) -> None:
    from dataclasses import replace

    from authlib_core.config import Settings
    from authlib_core.runtime import with_local_dev_secret

    base = Settings(engine="dynamodb", sqlite_path=tmp_path / ".authlib" / "dev.sqlite3")
    local = with_local_dev_secret(replace(base, dynamodb_endpoint_url="http://127.0.0.1:1"))
    assert len(local.secrets) == 1
    assert len(local.secrets[0]) >= 32
    assert (tmp_path / ".authlib" / "secret").read_text() == local.secrets[0]
    for endpoint in (None, "http://10.0.0.5:8000", "https://dynamodb.us-east-1.amazonaws.com"):
        assert with_local_dev_secret(replace(base, dynamodb_endpoint_url=endpoint)).secrets == ()
    configured = replace(base, dynamodb_endpoint_url="http://127.0.0.1:1", secrets=("x" * 40,))
    assert with_local_dev_secret(configured).secrets == ("x" * 40,)
    sqlite = Settings(sqlite_path=tmp_path / "other" / "dev.sqlite3", dynamodb_endpoint_url="http://127.0.0.1:1")
    assert with_local_dev_secret(sqlite).secrets == ()  # SQLite gets its secret from the runtime itself


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    from authlib_core import __version__

    done = cli(tmp_path, "--version")
    assert done.returncode == 0
    assert done.stdout == f"authlib-core {__version__}\n"


@pytest.mark.parametrize(
    ("args", "run_what"),
    [
        (["run", "notes:hello"], "`authlib-core run`"),
        (["codegen"], "`authlib-core codegen`"),
        # refused before connecting
        (["infra", "migrate", "--endpoint-url", "http://127.0.0.1:9"], "`authlib-core infra migrate`"),
        # exits at once: a server that kept listening would hit cli()'s timeout
        (["dev", "--no-static"], "the dev server"),
    ],
)
def test_a_missing_functions_folder_is_a_usage_error_creating_nothing(
    tmp_path: Path, args: list[str], run_what: str
) -> None:
    done = cli(tmp_path, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"error: the functions folder (AUTHLIB_FUNCTIONS_DIR, default: functions) functions "
        f"({tmp_path.resolve() / 'functions'}) does not exist. Run {run_what} from your project's "
        "folder (the one holding functions/), or pass --functions DIR.\n"
    )
    done = cli(tmp_path, *args, "--functions", "elsewhere")
    assert done.returncode == 2
    assert one_error_line(done).startswith(f"error: --functions elsewhere ({tmp_path.resolve() / 'elsewhere'}) does")
    assert list(tmp_path.iterdir()) == []  # no .authlib/ (no database, no secret), no _generated/


def test_codegen_into_a_folder_it_cannot_make_is_one_line(app: Path) -> None:
    (app.parent / "taken").write_text("a file, not a folder\n")
    done = cli(app.parent, "codegen", "--out", "taken/_generated")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert one_error_line(done).startswith("error: cannot write the generated files into taken/_generated: ")
    assert one_error_line(done).endswith("; pick a writable folder with --out DIR.")
