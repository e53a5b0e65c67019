"""Offline template checks: `sam validate --lint`, and cfn-lint on the SAM-expanded template.

cfn-lint >= 1.54 no longer expands SAM, so `sam validate --lint` passes a template with an unknown
runtime or a policy that points at a resource that does not exist.
The expansion step (infra/sam_to_cfn.py) closes that gap; the broken-template tests prove it does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.sam.conftest import ROOT, run, sam_venv

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.sam

TEMPLATE = ROOT / "template.yaml"


def expand_and_lint(template: Path, out: Path) -> tuple[int, str]:
    venv = sam_venv()
    expanded = run([str(venv / "bin" / "python"), str(ROOT / "infra" / "sam_to_cfn.py"), str(template), str(out)])
    if expanded.returncode != 0:
        return expanded.returncode, expanded.stdout + expanded.stderr
    linted = run([str(venv / "bin" / "cfn-lint"), str(out)])
    return linted.returncode, linted.stdout + linted.stderr


def test_sam_validate_lint_passes() -> None:
    result = run([str(sam_venv() / "bin" / "sam"), "validate", "--lint", "--template-file", str(TEMPLATE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_translator_passes() -> None:
    result = run(
        [str(sam_venv() / "bin" / "sam"), "validate", "--template-file", str(TEMPLATE), "--region", "us-east-1"]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_expanded_template_passes_cfn_lint(tmp_path: Path) -> None:
    rc, output = expand_and_lint(TEMPLATE, tmp_path / "cfn.json")
    assert rc == 0, output


@pytest.mark.parametrize(
    ("original", "broken", "expected"),
    [
        pytest.param("Runtime: python3.13", "Runtime: python3.99", "E3030", id="unknown-runtime"),
        pytest.param(
            "Resource: [!GetAtt SessionsTable.Arn]\n",
            "Resource: [!GetAtt SessionTable.Arn]\n",
            "E1010",
            id="bad-ref-in-policy",
        ),
        pytest.param(
            "Resource: [!GetAtt DocumentsTable.Arn] # no secondary",
            "Resource: [!Ref DocumentTable] # no secondary",
            "E1020",
            id="bad-bang-ref-in-policy",
        ),
    ],
)
def test_expanded_lint_fails_on_a_broken_template(tmp_path: Path, original: str, broken: str, expected: str) -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    assert original in text, f"the fixture expects {original!r} in template.yaml"
    bad = tmp_path / "template.yaml"
    bad.write_text(text.replace(original, broken, 1), encoding="utf-8")
    rc, output = expand_and_lint(bad, tmp_path / "cfn.json")
    assert rc != 0, f"a broken template ({broken!r}) passed:\n{output}"
    assert expected in output, output
