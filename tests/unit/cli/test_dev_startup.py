"""``dev`` refuses at once, in one line and creating nothing, when it cannot serve."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def dev(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``dev``; it must exit by itself (a server that kept listening would hit the timeout)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("AUTHLIB_FUNCTIONS_DIR", None)
    env.pop("AUTHLIB_SQLITE_PATH", None)
    return subprocess.run(
        [sys.executable, "-m", "authlib_core", "dev", "--no-static", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_missing_functions_folder_exits_at_once_creating_nothing(tmp_path: Path) -> None:
    done = dev(tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"error: the functions folder (AUTHLIB_FUNCTIONS_DIR, default: functions) functions "
        f"({tmp_path.resolve() / 'functions'}) does not exist. Run the dev server from your project's folder "
        "(the one holding functions/), or pass --functions DIR.\n"
    )
    assert list(tmp_path.iterdir()) == []  # no .authlib/, no database, no secret


def test_functions_option_naming_a_file_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "fns.py").write_text("")
    done = dev(tmp_path, "--functions", "fns.py")
    assert done.returncode == 2
    assert done.stderr.startswith("error: --functions fns.py (")
    assert done.stderr.endswith(
        "fns.py) is not a folder. Run the dev server from your project's folder "
        "(the one holding functions/), or pass --functions DIR.\n"
    )
    absent = tmp_path / "nowhere"
    done = dev(tmp_path, "--functions", str(absent))
    assert done.stderr.startswith(f"error: --functions {absent} does not exist.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fns.py"]


def test_port_in_use_is_one_line_naming_the_option(tmp_path: Path) -> None:
    (tmp_path / "functions").mkdir()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = dev(tmp_path, "--port", str(port))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"error: port {port} on 127.0.0.1 is already in use (another dev server?). Stop the other process, or pick "
        f"another port with --port, e.g. --port {port + 1} (--port 0 picks a free one).\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["functions"]  # the port is bound before anything is made
