from __future__ import annotations

import sys
import textwrap
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Write a functions folder: ``make_app({"myData.py": "..."})`` → the folder (named ``functions``)."""
    names: set[str] = set()

    def make(files: dict[str, str], name: str = "functions") -> Path:
        names.add(name)
        root = tmp_path / name
        root.mkdir(exist_ok=True)
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return root

    yield make
    for module in list(sys.modules):
        if module.split(".")[0] in names:
            del sys.modules[module]
