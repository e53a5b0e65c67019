from __future__ import annotations

import pytest

from authlib_core.functions.paths import canonicalize_path, identifier_problem, is_valid_identifier


@pytest.mark.parametrize("name", ["getMyData", "_private", "a", "x1_y2", "A" * 64, "_a_"])
def test_valid_identifiers(name: str) -> None:
    assert is_valid_identifier(name)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("9lives", "must start"),
        ("my-data", "must start"),
        ("café", "must start"),
        ("", "must start"),
        ("A" * 65, "65 characters"),
        ("_", "only of underscores"),
        ("___", "only of underscores"),
    ],
)
def test_invalid_identifiers_say_why(name: str, why: str) -> None:
    problem = identifier_problem(name)
    assert problem is not None
    assert why in problem


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("myData:getMyData", "myData:getMyData"),
        ("myData.js:getMyData", "myData:getMyData"),
        ("myData", "myData:default"),
        ("myData.js", "myData:default"),
        ("admin/users:list", "admin/users:list"),
        ("admin/users.js:list", "admin/users:list"),
    ],
)
def test_canonicalize_path(given: str, canonical: str) -> None:
    assert canonicalize_path(given) == canonical
