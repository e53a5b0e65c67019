"""The package surface: exports, layering, and the docstring examples."""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import authlib_core.values as values

if TYPE_CHECKING:
    from types import ModuleType

PACKAGE_DIR = Path(values.__file__).parent
MODULES = sorted(
    ["authlib_core.values"] + [f"authlib_core.values.{info.name}" for info in pkgutil.iter_modules([str(PACKAGE_DIR)])]
)

API = [
    "v",
    "Validator",
    "Int64",
    "Value",
    "JSONValue",
    "REMOVE",
    "UNDEFINED",
    "to_value",
    "encode",
    "decode",
    "loads",
    "dumps",
    "Format",
    "parse_format",
    "BadFormatError",
    "ValidatorMismatch",
    "as_object_validator",
    "validator_from_json",
    "new_id",
    "decode_id",
    "is_id_for",
    "table_number",
    "compare",
    "sort_key",
    "index_key",
    "prefix_successor",
    "value_size",
    "document_size",
]


def test_all_is_sorted_and_complete() -> None:
    assert values.__all__ == sorted(values.__all__)
    assert set(API) <= set(values.__all__)
    for name in values.__all__:
        assert hasattr(values, name), name


@pytest.mark.parametrize("module_name", MODULES)
def test_imports_only_errors_and_the_standard_library(module_name: str) -> None:
    module = importlib.import_module(module_name)
    tree = ast.parse(Path(inspect.getfile(module)).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            allowed = top == "__future__" or top in sys.stdlib_module_names
            allowed = allowed or name in ("authlib_core.errors", "authlib_core.display")
            allowed = allowed or name.startswith("authlib_core.values")
            assert allowed, f"{module_name} imports {name}"


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name: str) -> None:
    module: ModuleType = importlib.import_module(module_name)
    namespace = {name: getattr(values, name) for name in values.__all__}
    result = doctest.testmod(module, extraglobs=namespace, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0


def _public_callables() -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            item = getattr(module, name)
            if inspect.isclass(item) or inspect.isfunction(item) or hasattr(item, "cache_info"):
                found.append((f"{module_name}.{name}", item))
    builders = type(values.v)
    for name, item in vars(builders).items():
        if isinstance(item, staticmethod):
            found.append((f"v.{name}", item.__func__))
    return found


@pytest.mark.parametrize(("name", "item"), _public_callables(), ids=lambda x: x if isinstance(x, str) else "")
def test_public_api_has_docstrings_with_examples(name: str, item: object) -> None:
    doc = inspect.getdoc(item) or ""
    assert "Example:" in doc, name
