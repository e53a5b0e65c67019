"""mypy sees through the decorators: a definition keeps its handler's signature."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_mypy_sees_the_handler_signature_in_both_decorator_forms(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    sample = tmp_path / "sample.py"
    sample.write_text(
        textwrap.dedent(
            """
            from typing import Any
            from authlib_core import mutation, query
            from authlib_core.values import v

            @query
            def bare(ctx: Any, n: int) -> str:
                return str(n)

            @mutation(args={"text": v.string()})
            def called(ctx: Any, text: str) -> int:
                return len(text)

            reveal_type(bare(None, n=1))
            reveal_type(called(None, text="x"))
            called(None, text=3)
            """
        )
    )
    options = ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), "--python-version", "3.11"]
    stdout, _, _ = api.run([*options, str(sample)])
    assert 'Revealed type is "str"' in stdout
    assert 'Revealed type is "int"' in stdout
    assert 'Argument "text" to "__call__" of "FunctionDefinition" has incompatible type "int"; expected "str"' in stdout
