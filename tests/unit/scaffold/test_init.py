"""``authlib-core init``: what it writes, that it never overwrites, and that its deployment files ARE this
repository's (one source: authlib_core/scaffold/shared.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from authlib_core import __version__
from authlib_core.cli.main import main
from authlib_core.errors import ConfigError
from authlib_core.scaffold import ScaffoldError, init_project, project_files, project_name
from authlib_core.scaffold.shared import SHARED_FILES, TEMPLATE_SUBSTITUTIONS, render_shared, shared_text
from tests.sam.cfn_yaml import load_template

ROOT = Path(__file__).resolve().parents[3]

EXPECTED_FILES = {
    ".gitignore",
    "README.md",
    "functions/schema.py",
    "functions/tasks.py",
    "infra/Makefile",
    "infra/requirements-tracing.txt",
    "pyproject.toml",
    "requirements-dev.txt",
    "requirements.txt",
    "samconfig.toml",
    "template.yaml",
    "tests/conftest.py",
    "tests/test_tasks.py",
}


def _with_name(value: Any, name: str) -> Any:
    """``value`` with the project name put back to the repository's, in every string."""
    if isinstance(value, dict):
        return {key: _with_name(item, name) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_name(item, name) for item in value]
    return value.replace(name, "authlib-core") if isinstance(value, str) else value


def test_the_generated_template_is_the_repository_template_with_the_project_name(tmp_path: Path) -> None:
    init_project(tmp_path / "todo-api")
    generated = load_template(tmp_path / "todo-api" / "template.yaml")
    repository = load_template(ROOT / "template.yaml")
    assert _with_name(generated, "todo-api") == repository
    assert "todo-api" in json.dumps(generated)
    assert "authlib-core-" not in json.dumps(generated["Globals"])
    text = (tmp_path / "todo-api" / "template.yaml").read_text()
    assert "/todo-api/prod/secrets" in text
    assert "tests/" not in text  # comments about this repository's own tests are left out


def test_every_required_substitution_still_finds_its_text() -> None:
    # Fails when an edit to template.yaml removed a value the substitutions adapt: update shared.py with it.
    text = (ROOT / "template.yaml").read_text()
    for substitution in TEMPLATE_SUBSTITUTIONS:
        if substitution.required:
            assert re.search(substitution.pattern, text), f"template.yaml lost {substitution.pattern!r}"


def test_build_files_are_copied_verbatim_and_samconfig_gets_the_stack_name(tmp_path: Path) -> None:
    init_project(tmp_path / "p", name="todo-api")
    for relative in ("infra/Makefile", "infra/requirements-tracing.txt"):
        assert (tmp_path / "p" / relative).read_text() == (ROOT / relative).read_text()
    samconfig = (tmp_path / "p" / "samconfig.toml").read_text()
    assert 'stack_name = "todo-api-prod"' in samconfig
    assert samconfig == (ROOT / "samconfig.toml").read_text().replace("authlib-core-prod", "todo-api-prod")
    assert shared_text("template.yaml") == (ROOT / "template.yaml").read_text()


def test_a_changed_shared_file_that_lost_a_substituted_value_is_reported() -> None:
    with pytest.raises(ConfigError, match=r"update authlib_core/scaffold/shared.py"):
        render_shared("template.yaml", "Resources: {}\n", name="x")
    with pytest.raises(ValueError, match="not a shared file"):
        shared_text("pyproject.toml")


def test_init_writes_the_project_and_pins_this_version(tmp_path: Path) -> None:
    written = init_project(tmp_path / "todo-api")
    assert {str(path) for path in written} == EXPECTED_FILES
    assert set(map(str, written)) == {str(p) for p in project_files("todo-api")}
    assert f"authlib-core=={__version__}" in (tmp_path / "todo-api" / "requirements.txt").read_text()
    gitignore = (tmp_path / "todo-api" / ".gitignore").read_text().split()
    assert ".authlib/" in gitignore
    assert ".aws-sam/" in gitignore
    assert set(SHARED_FILES) <= EXPECTED_FILES


def test_the_generated_tests_pass_with_plain_pytest(tmp_path: Path) -> None:
    init_project(tmp_path / "todo-api")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path / "todo-api",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_init_never_overwrites_and_writes_nothing_when_a_file_is_in_the_way(tmp_path: Path) -> None:
    project = tmp_path / "todo-api"
    (project / "functions").mkdir(parents=True)
    (project / "functions" / "tasks.py").write_text("# mine\n")
    (project / "notes.txt").write_text("unrelated files are fine\n")
    with pytest.raises(ScaffoldError, match=r"already has functions/tasks.py; init never overwrites files"):
        init_project(project)
    assert (project / "functions" / "tasks.py").read_text() == "# mine\n"
    assert sorted(p.name for p in project.rglob("*")) == ["functions", "notes.txt", "tasks.py"]


def test_a_file_given_as_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ScaffoldError, match="is not a folder"):
        init_project(tmp_path / "file")


@pytest.mark.parametrize(
    ("folder", "name", "expected"),
    [("My Todo_API", None, "my-todo-api"), ("x", "shop-2", "shop-2"), ("app", None, "app")],
)
def test_project_names(tmp_path: Path, folder: str, name: str | None, expected: str) -> None:
    assert project_name(tmp_path / folder, name) == expected


@pytest.mark.parametrize(("folder", "name"), [("9lives", None), ("x", "Bad_Name"), ("x", "a" * 41), ("x", "a--b")])
def test_unusable_names_are_refused(tmp_path: Path, folder: str, name: str | None) -> None:
    with pytest.raises(ScaffoldError, match="not a usable project name"):
        project_name(tmp_path / folder, name)


def test_the_cli_reports_success_and_refusal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "shop"), "--name", "shop-api"]) == 0
    out = capsys.readouterr().out
    assert 'project "shop-api"' in out
    assert "template.yaml" in out
    assert main(["init", str(tmp_path / "shop")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'shop'} already has .gitignore, README.md")
    assert err.count("\n") == 1


def test_the_next_step_quotes_a_folder_the_shell_would_split(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "my shop"
    assert main(["init", str(folder)]) == 0
    next_step = capsys.readouterr().out.splitlines()[1]
    assert next_step.startswith(f"next: cd '{folder}' && python3 -m venv .venv")


def test_the_next_step_has_no_cd_for_the_current_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "."]) == 0
    next_step = capsys.readouterr().out.splitlines()[1]
    assert next_step == "next: python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements-dev.txt"


def test_a_write_that_fails_halfway_keeps_nothing(tmp_path: Path) -> None:
    project = tmp_path / "todo-api"
    project.mkdir()
    (project / "tests").write_text("a file where init needs a folder\n")  # fails on tests/conftest.py, after others
    with pytest.raises(ScaffoldError, match=r"cannot write .*todo-api/tests: File exists; nothing was kept"):
        init_project(project)
    assert sorted(p.name for p in project.rglob("*")) == ["tests"]


def test_the_cli_reports_an_unwritable_folder_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["init", str(tmp_path / "file" / "app")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write {tmp_path / 'file' / 'app'}")
    assert err.count("\n") == 1
    assert "Traceback" not in err
