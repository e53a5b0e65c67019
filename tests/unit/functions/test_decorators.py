from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from authlib_core.functions import (
    FunctionDefinition,
    Kind,
    Visibility,
    action,
    internal_action,
    internal_mutation,
    internal_query,
    mutation,
    query,
)
from authlib_core.values import v

DECORATORS = [
    (query, Kind.QUERY, Visibility.PUBLIC),
    (mutation, Kind.MUTATION, Visibility.PUBLIC),
    (action, Kind.ACTION, Visibility.PUBLIC),
    (internal_query, Kind.QUERY, Visibility.INTERNAL),
    (internal_mutation, Kind.MUTATION, Visibility.INTERNAL),
    (internal_action, Kind.ACTION, Visibility.INTERNAL),
]


@pytest.mark.parametrize(("decorator", "kind", "visibility"), DECORATORS)
def test_bare_form_tags_the_handler(decorator: Any, kind: Kind, visibility: Visibility) -> None:
    def handler(ctx: object) -> str:
        return f"called with {ctx}"

    definition = decorator(handler)
    assert isinstance(definition, FunctionDefinition)
    assert (definition.kind, definition.visibility) == (kind, visibility)
    assert definition.handler is handler
    assert definition.args is None
    assert definition.returns is None
    assert definition.args_model is None
    assert definition.module == __name__
    assert definition("ctx") == "called with ctx"


@pytest.mark.parametrize(("decorator", "kind", "visibility"), DECORATORS)
def test_called_form_takes_args_and_returns(decorator: Any, kind: Kind, visibility: Visibility) -> None:
    returns = v.string()

    @decorator(args={"text": v.string()}, returns=returns)
    def handler(ctx: object, text: str) -> str:
        return text.upper()

    assert (handler.kind, handler.visibility) == (kind, visibility)
    assert handler.args is not None
    assert handler.returns is returns
    assert handler.module == __name__
    assert handler(None, text="hi") == "HI"


def test_called_form_without_options_behaves_like_bare() -> None:
    @query()
    def handler(ctx: object) -> int:
        return 1

    assert handler.kind is Kind.QUERY
    assert handler.bind_arguments({}, "m:f") == {}


def test_definitions_are_frozen_and_compare_by_identity() -> None:
    def handler(ctx: object) -> None:
        return None

    first, second = query(handler), query(handler)
    assert first != second
    assert first == first
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.kind = Kind.MUTATION  # type: ignore[misc]


def test_hints_build_an_argument_model() -> None:
    @mutation
    def handler(ctx: object, count: int, label: str = "x") -> None:
        return None

    assert handler.args is None
    assert handler.args_model is not None
    assert handler.bind_arguments({"count": 2.0}, "m:f") == {"count": 2, "label": "x"}
