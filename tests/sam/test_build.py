"""`sam build` without a container: what goes into the Lambda artifact, and how big it is."""

from __future__ import annotations

import io
import re
import zipfile
from typing import TYPE_CHECKING

import pytest

from tests.sam.cfn_yaml import function_names

if TYPE_CHECKING:
    from pathlib import Path

    from tests.sam.conftest import Build

pytestmark = pytest.mark.sam

FUNCTIONS = function_names()
#: Top-level names that must never be shipped: tests, dev tools, the X-Ray SDK (tracing is off by
#: default), the CRT and pyOpenSSL that SAM CLI's own boto3[crt] drags in elsewhere, boto3 (nothing imports
#: it), and joserfc/cryptography (the jwt extra: only for an app with functions/auth_config.py; this one has none).
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
    "boto3",
    "s3transfer",
    "joserfc",
    "cryptography",
}
#: The runtime dependencies pinned in infra/requirements-lambda.txt (import names): the layer.
REQUIRED = {"pydantic", "pydantic_core", "aws_lambda_powertools", "argon2", "botocore", "cronsim"}
#: The botocore models kept (infra/Makefile BOTOCORE_SERVICES): the services authlib-core calls.
SERVICES = {"dynamodb", "sesv2", "apigatewaymanagementapi", "sqs"}
MIB = 2**20
#: Deterministic bounds (the issue's: at most 10 MB zipped per function, dependencies uploaded once).
FUNCTION_ZIPPED_MAX = 2 * MIB  # the code only (≈1.1 MiB zipped); any dependency leaking in from the layer adds MiBs
LAYER_ZIPPED_MAX = 10 * MIB
LAYER_UNPACKED_MAX = 40 * MIB


def zipped_size(directory: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.tell()


def tree_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def top_names(directory: Path) -> set[str]:
    top = {p.name for p in directory.iterdir()}
    return {n for n in top if not n.endswith(".dist-info")} | {n.split(".")[0] for n in top}


def test_every_function_gets_the_code_and_the_layer(arm64_build: Build) -> None:
    built = (arm64_build.build_dir / "template.yaml").read_text(encoding="utf-8")
    assert sorted(re.findall(r"CodeUri: (\w+)", built)) == sorted(FUNCTIONS)
    for name in FUNCTIONS:
        directory = arm64_build.function_dir(name)
        assert (directory / "authlib_core" / "http" / "lambda_handler.py").exists(), name
    assert "ContentUri: DependenciesLayer" in built  # built once, referenced by every function
    assert (arm64_build.layer_dir() / "pydantic").is_dir()


def test_functions_hold_the_code_and_the_layer_the_dependencies_only(arm64_build: Build) -> None:
    code = top_names(arm64_build.function_dir())
    assert code == {"authlib_core", "functions"}, sorted(code)
    for dev_only in ("scaffold", "dev", "testing"):  # never imported on the Lambda path (test_cold_path.py)
        assert not (arm64_build.function_dir() / "authlib_core" / dev_only).exists(), dev_only
    layer = top_names(arm64_build.layer_dir())
    assert layer >= REQUIRED, f"missing: {sorted(REQUIRED - layer)}"
    assert not (FORBIDDEN & layer), f"must not be shipped: {sorted(FORBIDDEN & layer)}"
    assert "authlib_core" not in layer
    assert not list(arm64_build.build_dir.rglob("conftest.py"))
    has_functions = (arm64_build.build_dir.parents[2] / "functions").is_dir()
    assert (arm64_build.function_dir() / "functions").is_dir() == has_functions


def test_nothing_shipped_that_no_function_loads(arm64_build: Build) -> None:
    for directory in (arm64_build.function_dir(), arm64_build.layer_dir()):
        assert not list(directory.rglob("*.pyi")), directory
        assert not [p for p in directory.rglob("tests") if p.is_dir()], directory
        stale = [p for p in directory.rglob("*.pyc") if ".cpython-313" not in p.name]
        assert not stale, stale[:5]  # only this interpreter's byte code
    data = arm64_build.layer_dir() / "botocore" / "data"
    assert {p.name for p in data.iterdir() if p.is_dir()} == SERVICES
    assert (data / "endpoints.json").is_file()
    assert (data / "dynamodb" / "2012-08-10" / "service-2.json.gz").is_file()
    assert (arm64_build.layer_dir() / "botocore" / "cacert.pem").is_file()  # TLS to AWS


def test_native_extensions_target_linux_aarch64_cpython_313(arm64_build: Build) -> None:
    sos = list(arm64_build.layer_dir().rglob("*.so"))
    assert sos
    for so in sos:
        header = so.read_bytes()[:20]
        assert header[:4] == b"\x7fELF"
        machine = int.from_bytes(header[18:20], "little")
        assert machine == 183, f"{so.name} is not aarch64 (e_machine={machine})"  # EM_AARCH64
        assert "cpython-313" in so.name or so.name.endswith(".abi3.so") or so.name.startswith("_cffi")


def test_modules_are_precompiled_for_python_313(arm64_build: Build) -> None:
    # /var/task and /opt are read-only: without shipped .pyc every cold start recompiles what it imports.
    pycache = arm64_build.layer_dir() / "pydantic" / "__pycache__"
    assert list(pycache.glob("*.cpython-313.pyc"))
    assert list((arm64_build.function_dir() / "authlib_core" / "__pycache__").glob("*.cpython-313.pyc"))


def test_artifact_size_is_reported_and_bounded(arm64_build: Build, record_property: pytest.RecordProperty) -> None:
    function, layer = arm64_build.function_dir(), arm64_build.layer_dir().parent
    sizes = {
        "function_unpacked_bytes": tree_size(function),
        "function_zipped_bytes": zipped_size(function),
        "layer_unpacked_bytes": tree_size(layer),
        "layer_zipped_bytes": zipped_size(layer),
    }
    for name, value in sizes.items():
        record_property(name, value)
    print(
        f"\nLambda artifacts ({arm64_build.arch}): each function {sizes['function_unpacked_bytes'] / MIB:.1f} MiB "
        f"unpacked, {sizes['function_zipped_bytes'] / MIB:.2f} MiB zipped; the shared layer "
        f"{sizes['layer_unpacked_bytes'] / MIB:.1f} MiB unpacked, {sizes['layer_zipped_bytes'] / MIB:.1f} MiB zipped; "
        f"sam build took {arm64_build.seconds:.1f} s"
    )
    assert sizes["function_zipped_bytes"] < FUNCTION_ZIPPED_MAX
    assert sizes["layer_zipped_bytes"] < LAYER_ZIPPED_MAX
    assert sizes["layer_unpacked_bytes"] < LAYER_UNPACKED_MAX
