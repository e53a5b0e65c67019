"""What ``infra/Makefile`` copies from ``functions/`` into every function: the code, never local files beside it.

A project keeps local files in ``functions/`` too: ``.env`` files with keys for local runs, an editor's or a tool's
hidden folders, the dev server's SQLite files. The code step runs for real here (``make artifact``) on a copy of
this repository whose dependency layer is marked as built, so no package is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for part in ("authlib_core", "functions", "infra"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    stage = root / ".aws-sam" / "stage-arm64"
    (stage / "python").mkdir(parents=True)
    (stage.parent / "stage-arm64.botocore-services").write_text("dynamodb sesv2 apigatewaymanagementapi sqs\n")
    (stage / "python.stamp").touch()  # newer than the requirements and the Makefile: the layer is not rebuilt
    return root


def build_code(root: Path, artifacts: Path) -> None:
    env = {**os.environ, "AUTHLIB_LAMBDA_PYTHON": sys.executable, "AUTHLIB_BUILD_ARCH": "arm64"}
    env.pop("AUTHLIB_BOTOCORE_SERVICES", None)
    subprocess.run(
        ["make", "-s", "-f", str(root / "infra" / "Makefile"), "artifact", f"ARTIFACTS_DIR={artifacts}"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )


def test_local_files_in_functions_are_not_shipped(project: Path, tmp_path: Path) -> None:
    functions = project / "functions"
    (functions / ".env").write_text("STRIPE_SECRET=sk_live_local\n")
    (functions / ".env.local").write_text("AUTHLIB_SECRET=local\n")
    (functions / ".idea").mkdir()
    (functions / ".idea" / "workspace.xml").write_text("<project/>")
    (functions / "data.sqlite3").write_bytes(b"SQLite format 3\x00")
    (functions / "data.sqlite3-wal").write_bytes(b"")
    (functions / "cache.db").write_bytes(b"")
    (functions / "prices.json").write_text('{"basic": 5}')  # a data file the code reads ships
    artifacts = tmp_path / "artifact"
    build_code(project, artifacts)
    shipped = sorted(str(p.relative_to(artifacts / "functions")) for p in (artifacts / "functions").rglob("*"))
    assert "http.py" in shipped
    assert "prices.json" in shipped
    leaked = [name for name in shipped if name.startswith(".") or ".sqlite3" in name or name.endswith(".db")]
    assert leaked == []
