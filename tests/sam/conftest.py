"""Fixtures for the SAM checks: the SAM CLI virtualenv, the Lambda interpreter and built artifacts.

The SAM CLI lives in its own virtualenv (.venv-sam, created by scripts/test through
scripts/lib/sam.sh, or wherever AUTHLIB_SAM_VENV points). When it is missing, the tests marked
``sam`` FAIL with instructions -- they are not skipped, so CI cannot pass without running them.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_ROOT = ROOT / ".aws-sam" / "ci"


def sam_venv() -> Path:
    venv = Path(os.environ.get("AUTHLIB_SAM_VENV") or ROOT / ".venv-sam")
    if not (venv / "bin" / "sam").exists():
        pytest.fail(
            f"SAM CLI virtualenv not found at {venv}. Run scripts/test (it creates it with "
            "scripts/lib/sam.sh: ensure_sam_venv), or set AUTHLIB_SAM_VENV to a venv with aws-sam-cli.",
            pytrace=False,
        )
    return venv


def lambda_python() -> str:
    """A CPython 3.13 (the Lambda runtime's version), as scripts/lib/sam.sh finds it."""
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates = [os.environ.get("AUTHLIB_LAMBDA_PYTHON", ""), "python3.13"]
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.13*/bin/python3.13"))
    for candidate in filter(None, candidates):
        exe = shutil.which(candidate) or candidate
        ok = subprocess.run(
            [exe, "-c", "import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)"],
            capture_output=True,
            check=False,
        )
        if ok.returncode == 0:
            return exe
    pytest.fail("python3.13 not found; set AUTHLIB_LAMBDA_PYTHON (scripts/lib/sam.sh does)", pytrace=False)


def sam_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(SAM_CLI_TELEMETRY="0", AUTHLIB_LAMBDA_PYTHON=lambda_python())
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return env


def run(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=ROOT, env=env or sam_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass(frozen=True)
class Build:
    arch: str
    build_dir: Path
    seconds: float

    def function_dir(self, logical_id: str = "QueryFunction") -> Path:
        return self.build_dir / logical_id

    def layer_dir(self) -> Path:
        """The dependencies layer's ``python/`` folder (``/opt/python`` on Lambda, on ``sys.path`` after the code)."""
        return self.build_dir / "DependenciesLayer" / "python"

    def sys_path(self, logical_id: str = "QueryFunction") -> list[Path]:
        """What a function finds its modules in, in Lambda's order: /var/task, then /opt/python."""
        return [self.function_dir(logical_id), self.layer_dir()]


def sam_build(arch: str) -> Build:
    """`sam build` without a container into .aws-sam/ci/build-<arch> (infra/Makefile stages once)."""
    venv = sam_venv()
    build_dir = BUILD_ROOT / f"build-{arch}"
    env = sam_env()
    env["AUTHLIB_BUILD_ARCH"] = arch
    env.pop("AUTHLIB_BUILD_TRACING", None)
    started = time.perf_counter()
    result = run(
        [
            str(venv / "bin" / "sam"),
            "build",
            "--build-in-source",
            "--build-dir",
            str(build_dir),
            "--parameter-overrides",
            f"Architecture={arch}",
        ],
        env=env,
    )
    assert result.returncode == 0, f"sam build ({arch}) failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return Build(arch, build_dir, time.perf_counter() - started)


@pytest.fixture(scope="session")
def arm64_build() -> Build:
    return sam_build("arm64")


@pytest.fixture(scope="session")
def x86_64_build() -> Build:
    """The same artifact for this x86_64 host, so the built handler can be imported and run here."""
    return sam_build("x86_64")


def expand_template(template: Path, out: Path) -> dict[str, object]:
    """The CloudFormation the SAM translator makes of ``template`` (infra/sam_to_cfn.py in the SAM CLI venv)."""
    venv = sam_venv()
    result = run([str(venv / "bin" / "python"), str(ROOT / "infra" / "sam_to_cfn.py"), str(template), str(out)])
    assert result.returncode == 0, f"infra/sam_to_cfn.py failed:\n{result.stdout}{result.stderr}"
    expanded: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return expanded


@pytest.fixture(scope="session")
def expanded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """template.yaml as CloudFormation will receive it: what the assertions and the IAM checks read."""
    return expand_template(ROOT / "template.yaml", tmp_path_factory.mktemp("expanded") / "cfn.json")
