"""`sam build` without a container: what goes into the Lambda artifact, and how big it is."""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from tests.sam.conftest import Build

pytestmark = pytest.mark.sam

FUNCTIONS = ("QueryFunction", "MutationFunction", "AuthFunction", "SyncFunction", "FanoutFunction", "KeepaliveFunction")
#: Top-level names that must never be shipped: tests, dev tools, the X-Ray SDK (tracing is off by
#: default), the CRT and pyOpenSSL that SAM CLI's own boto3[crt] drags in elsewhere. (``cryptography`` is
#: shipped: joserfc verifies external JWTs with it, imported only when functions/auth_config.py has providers.)
FORBIDDEN = {
    "tests",
    "test",
    "pytest",
    "_pytest",
    "moto",
    "mypy",
    "ruff",
    "hypothesis",
    "aws_xray_sdk",
    "wrapt",
    "awscrt",
    "OpenSSL",
    "samcli",
    "cfnlint",
    "bench",
    "infra",
    "docs",
    "scripts",
    "node_modules",
    "bin",
}
#: The runtime dependencies pinned in infra/requirements-lambda.txt (import names).
REQUIRED = {
    "authlib_core",
    "pydantic",
    "pydantic_core",
    "aws_lambda_powertools",
    "argon2",
    "boto3",
    "botocore",
    "joserfc",
    "cryptography",
}


def zipped_size(directory: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.tell()


def tree_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def test_every_function_gets_the_artifact(arm64_build: Build) -> None:
    for name in FUNCTIONS:
        directory = arm64_build.function_dir(name)
        assert (directory / "authlib_core" / "http" / "__init__.py").exists() or (
            directory / "authlib_core" / "__init__.py"
        ).exists(), name
    built = (arm64_build.build_dir / "template.yaml").read_text(encoding="utf-8")
    for name in FUNCTIONS:
        assert f"CodeUri: {name}" in built


def test_artifact_holds_the_code_and_runtime_dependencies_only(arm64_build: Build) -> None:
    directory = arm64_build.function_dir()
    top = {p.name for p in directory.iterdir()}
    names = {n for n in top if not n.endswith(".dist-info")} | {n.split(".")[0] for n in top}
    assert names >= REQUIRED, f"missing: {sorted(REQUIRED - names)}"
    assert not (FORBIDDEN & names), f"must not be shipped: {sorted(FORBIDDEN & names)}"
    assert not list(directory.rglob("conftest.py"))
    assert (directory / "functions").is_dir() == (arm64_build.build_dir.parents[2] / "functions").is_dir()


def test_native_extensions_target_linux_aarch64_cpython_313(arm64_build: Build) -> None:
    sos = list(arm64_build.function_dir().rglob("*.so"))
    assert sos
    for so in sos:
        header = so.read_bytes()[:20]
        assert header[:4] == b"\x7fELF"
        machine = int.from_bytes(header[18:20], "little")
        assert machine == 183, f"{so.name} is not aarch64 (e_machine={machine})"  # EM_AARCH64
        assert "cpython-313" in so.name or so.name.endswith(".abi3.so") or so.name.startswith("_cffi")


def test_modules_are_precompiled_for_python_313(arm64_build: Build) -> None:
    # /var/task is read-only: without shipped .pyc every cold start recompiles what it imports.
    pycache = arm64_build.function_dir() / "pydantic" / "__pycache__"
    assert list(pycache.glob("*.cpython-313.pyc"))
    assert list((arm64_build.function_dir() / "authlib_core" / "__pycache__").glob("*.cpython-313.pyc"))


def test_artifact_size_is_reported_and_bounded(arm64_build: Build, record_property: pytest.RecordProperty) -> None:
    directory = arm64_build.function_dir()
    unpacked, packed = tree_size(directory), zipped_size(directory)
    record_property("artifact_unpacked_bytes", unpacked)
    record_property("artifact_zipped_bytes", packed)
    mib = 2**20
    print(
        f"\nLambda artifact ({arm64_build.arch}): {unpacked / mib:.1f} MiB unpacked, {packed / mib:.1f} MiB zipped; "
        f"sam build took {arm64_build.seconds:.1f} s"
    )
    # Lambda's limits are 250 MB unpacked / 50 MB zipped for direct upload; stay well inside them.
    assert unpacked < 100 * 2**20
    assert packed < 40 * 2**20
