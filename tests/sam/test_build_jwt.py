"""An app with ``functions/auth_config.py`` gets the ``jwt`` extra (joserfc, cryptography) in its layer.

infra/Makefile adds infra/requirements-jwt.txt only when that file exists (this repository's own app has none,
so tests/sam/test_build.py checks they are left out). Built with ``make`` directly (as `sam build` runs it) in a
copy of the repository with an ``auth_config.py`` added.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from tests.sam.conftest import ROOT, sam_env

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.sam, pytest.mark.slow]

AUTH_CONFIG = """\
from authlib_core.auth import OIDCProvider

providers = [OIDCProvider(domain="https://issuer.example.com", application_id="app")]
"""


def make(project: Path, target: str, out: Path) -> None:
    env = {**sam_env(), "AUTHLIB_BUILD_ARCH": "x86_64"}
    result = subprocess.run(
        ["make", "-C", str(project / "infra"), target, f"ARTIFACTS_DIR={out}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"make {target} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def test_an_app_with_auth_config_gets_the_jwt_extra_in_its_layer(tmp_path: Path) -> None:
    project = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("infra", "authlib_core", "functions"):
        shutil.copytree(ROOT / folder, project / folder, ignore=ignore)
    (project / "functions" / "auth_config.py").write_text(AUTH_CONFIG, encoding="utf-8")
    make(project, "layer", tmp_path / "layer")
    make(project, "artifact", tmp_path / "function")
    layer = tmp_path / "layer" / "python"
    assert (layer / "joserfc" / "__init__.py").is_file()
    assert (layer / "cryptography" / "__init__.py").is_file()
    assert not (layer / "authlib_core").exists()
    assert (tmp_path / "function" / "functions" / "auth_config.py").is_file()
    # the staging folder of a JWT app is its own: the app without auth_config.py keeps a layer without them
    assert (project / ".aws-sam" / "stage-x86_64-jwt" / "python.stamp").is_file()
