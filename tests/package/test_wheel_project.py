"""What a user gets: the wheel, installed into a clean virtualenv, makes a project that tests, serves and builds.

One pass, in the order a new user goes (each step's time is printed):

1. ``python -m build --wheel`` (the standard build front end) builds authlib-core's wheel from this checkout;
2. a new virtualenv gets THAT wheel (and pytest) -- never the source tree: every command below runs outside the
   checkout, and the test checks that ``authlib_core`` is imported from the virtualenv;
3. ``authlib-core init`` writes a project into a temporary folder; its own ``pytest`` passes;
4. ``authlib-core dev`` (no flags) serves ``./functions``: sign-up, then a scaffolded mutation and query over HTTP;
5. ``sam validate --lint`` and ``sam build`` (no container) in the project; the artifact holds the project's
   ``functions/`` and the installed ``authlib_core``. authlib-core is not on PyPI in CI, so pip finds the wheel
   through ``PIP_FIND_LINKS`` (which the project's infra/Makefile passes on to pip).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.sam.conftest import sam_env, sam_venv
from tests.support.processes import stop_process

pytestmark = [pytest.mark.sam, pytest.mark.slow, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Installed:
    """The wheel, the clean virtualenv it is installed in, and a project made by its ``init``."""

    wheel: Path
    venv: Path
    project: Path
    timings: dict[str, float] = field(default_factory=dict)

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


def _clean_env() -> dict[str, str]:
    """The environment minus anything that would let the checkout leak into the installed package."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(cmd: list[str], cwd: Path, *, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    result = subprocess.run(
        cmd, cwd=cwd, env=env or _clean_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("user")
    timings: dict[str, float] = {}

    started = time.perf_counter()
    dist = base / "dist"
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], base)
    (wheel,) = dist.glob("authlib_core-*-py3-none-any.whl")
    timings["build the wheel"] = time.perf_counter() - started

    started = time.perf_counter()
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], base)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, str(wheel), "pytest>=8"], base)
    timings["install it into a clean virtualenv"] = time.perf_counter() - started

    started = time.perf_counter()
    _run([str(venv / "bin" / "authlib-core"), "init", "todo-api"], base)
    timings["authlib-core init"] = time.perf_counter() - started
    return Installed(wheel=wheel, venv=venv, project=base / "todo-api", timings=timings)


def test_the_wheel_holds_the_library_only(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"authlib_core", installed.wheel.name.split("-py3")[0] + ".dist-info"}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert "authlib_core/scaffold/shared/template.yaml" in names
    with zipfile.ZipFile(installed.wheel) as wheel:
        packaged = wheel.read("authlib_core/scaffold/shared/template.yaml").decode()
        metadata = wheel.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert packaged == (ROOT / "template.yaml").read_text(encoding="utf-8")  # the one source, byte for byte
    requires = [
        line.split(":", 1)[1].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    distributions = {re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower() for requirement in requires}
    # What a deployed function imports, nothing else (the test tool chain is the [dev] extra).
    assert distributions == {"pydantic", "aws-lambda-powertools", "botocore", "argon2-cffi", "cronsim"}
    jwt = [line for line in metadata.splitlines() if line.endswith(("extra == 'jwt'", 'extra == "jwt"'))]
    assert [line.split(";")[0] for line in jwt] == ["Requires-Dist: joserfc<2,>=1.0"], jwt  # authlib-core[jwt]
    # pip show / PyPI's sidebar: the [project.urls] of pyproject.toml, label for label.
    urls = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Project-URL:")]
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert urls == [f"{label}, {url}" for label, url in declared.items()]
    assert urls == [
        "Homepage, https://pypi.org/project/authlib-core/",
        "Documentation, https://pypi.org/project/authlib-core/#description",
    ]


def test_the_package_is_imported_from_the_virtualenv_not_the_checkout(installed: Installed) -> None:
    where = _run(
        [installed.bin("python"), "-c", "import authlib_core; print(authlib_core.__file__)"], installed.project
    ).strip()
    assert Path(where).is_relative_to(installed.venv), where


def test_the_generated_project_tests_pass(installed: Installed) -> None:
    started = time.perf_counter()
    out = _run([installed.bin("pytest"), "-q", "-p", "no:cacheprovider"], installed.project, timeout=300)
    installed.timings["the project's pytest"] = time.perf_counter() - started
    assert re.search(r"\b5 passed\b", out), out


def test_dev_serves_the_project_functions_over_http(installed: Installed) -> None:
    started = time.perf_counter()
    env = {**_clean_env(), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [installed.bin("authlib-core"), "dev", "--port", "0"],
        cwd=installed.project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = None
        deadline = time.monotonic() + 60
        lines: list[str] = []
        while url is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            url = match.group(1) if match else None
        assert url, "".join(lines)

        def post(path: str, body: dict[str, object], token: str | None = None) -> dict[str, object]:
            headers = {"content-type": "application/json"}
            if token:
                headers["authorization"] = f"Bearer {token}"
            request = urllib.request.Request(url + path, json.dumps(body).encode(), headers)
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())

        signed_up = post(
            "/api/auth/sign-up/email", {"email": "a@example.com", "password": "long-password-1", "name": "A"}
        )
        token = str(signed_up["token"])
        assert post("/api/query", {"path": "tasks:mine", "args": {}})["status"] == "error"  # signed out
        added = post("/api/mutation", {"path": "tasks:add", "args": {"text": "over HTTP"}}, token)
        assert added["status"] == "success", added
        listed = post("/api/query", {"path": "tasks:mine", "args": {}}, token)
        assert [task["text"] for task in listed["value"]] == ["over HTTP"]  # type: ignore[union-attr,index]
    finally:
        stop_process(server)
        if server.stdout is not None:
            server.stdout.close()
    installed.timings["authlib-core dev + HTTP calls"] = time.perf_counter() - started
    assert (installed.project / ".authlib").is_dir()


def test_sam_validates_and_builds_the_project(installed: Installed) -> None:
    sam = str(sam_venv() / "bin" / "sam")
    env = {**sam_env(), "PIP_FIND_LINKS": str(installed.wheel.parent)}
    env.pop("PYTHONPATH", None)
    started = time.perf_counter()
    _run([sam, "validate", "--lint"], installed.project, env=env)
    installed.timings["sam validate --lint"] = time.perf_counter() - started

    started = time.perf_counter()
    _run([sam, "build"], installed.project, env=env, timeout=900)
    installed.timings["sam build"] = time.perf_counter() - started
    for function in ("QueryFunction", "MutationFunction", "AuthFunction", "HttpActionFunction"):
        artifact = installed.project / ".aws-sam" / "build" / function
        assert (artifact / "functions" / "tasks.py").is_file()
        assert (artifact / "functions" / "schema.py").is_file()
        assert (artifact / "authlib_core" / "http" / "lambda_handler.py").is_file()
        assert list((artifact / "authlib_core" / "__pycache__").glob("*.cpython-313.pyc"))
        assert not (artifact / "tests").exists()
        assert not (artifact / "pydantic").exists()  # dependencies are in the layer, uploaded once
        (dist_info,) = artifact.glob("authlib_core-*.dist-info")
        assert dist_info.name == installed.wheel.name.split("-py3")[0] + ".dist-info"
    layer = installed.project / ".aws-sam" / "build" / "DependenciesLayer" / "python"
    assert (layer / "pydantic").is_dir()
    assert (layer / "botocore").is_dir()
    assert not (layer / "authlib_core").exists()
    assert not (layer / "joserfc").exists()

    # The artifact and the layer alone (stdlib + /var/task + /opt/python, as on Lambda) import the handler and load
    # the project's functions.
    driver = (
        "import sys; sys.path[0:0] = sys.argv[1:3]\n"
        "from pathlib import Path\n"
        "import authlib_core.http.lambda_handler\n"
        "from authlib_core.functions import load_functions\n"
        "print(' '.join(sorted(load_functions(Path(sys.argv[1]) / 'functions').registry)))\n"
    )
    artifact = installed.project / ".aws-sam" / "build" / "QueryFunction"
    loaded = _run(
        [env["AUTHLIB_LAMBDA_PYTHON"], "-I", "-S", "-c", driver, str(artifact), str(layer)], installed.project, env=env
    )
    assert loaded.split() == ["tasks:add", "tasks:complete", "tasks:mine", "tasks:purge_done"]


def test_timings(installed: Installed) -> None:
    """Prints what each step took (not asserted)."""
    total = sum(installed.timings.values())
    lines = [f"  {step:<40} {seconds:6.1f} s" for step, seconds in installed.timings.items()]
    print("\nwheel -> clean venv -> init -> pytest/dev/sam:\n" + "\n".join(lines) + f"\n  {'total':<40} {total:6.1f} s")
    shutil.rmtree(installed.project / ".aws-sam", ignore_errors=True)
