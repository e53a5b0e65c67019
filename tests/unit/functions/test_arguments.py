from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from authlib_core.errors import ArgumentValidationError, FunctionLoadError
from authlib_core.functions import mutation, query
from authlib_core.values import Int64, v

# -- args= validators --------------------------------------------------------------------------------------------


@mutation(args={"text": v.string(), "count": v.number()})
def add(ctx: Any, text: str, count: float) -> None:
    return None


def test_validators_accept_matching_arguments() -> None:
    assert add.bind_arguments({"text": "hi", "count": 2.0}, "myData:add") == {"text": "hi", "count": 2.0}


def test_validators_reject_a_wrong_type_naming_the_field_and_function() -> None:
    with pytest.raises(ArgumentValidationError) as info:
        add.bind_arguments({"text": 3.0, "count": 2.0}, "myData:add")
    assert "myData:add" in info.value.message
    assert "`text`" in info.value.message


def test_validators_reject_a_missing_field() -> None:
    with pytest.raises(ArgumentValidationError, match="count"):
        add.bind_arguments({"text": "hi"}, "myData:add")


def test_validators_reject_an_unexpected_field() -> None:
    with pytest.raises(ArgumentValidationError, match="extra"):
        add.bind_arguments({"text": "hi", "count": 1.0, "extra": True}, "myData:add")


def test_validators_accept_a_v_object() -> None:
    @query(args=v.object({"text": v.string()}))
    def handler(ctx: Any, text: str) -> str:
        return text

    assert handler.bind_arguments({"text": "a"}, "m:f") == {"text": "a"}


def test_optional_field_may_be_absent_and_the_default_applies() -> None:
    @query(args={"text": v.optional(v.string())})
    def handler(ctx: Any, text: str | None = None) -> str | None:
        return text

    assert handler.bind_arguments({}, "m:f") == {}
    assert handler.bind_arguments({"text": "a"}, "m:f") == {"text": "a"}


def test_var_keyword_receives_every_declared_argument() -> None:
    @query(args={"a": v.string(), "b": v.string()})
    def handler(ctx: Any, a: str, **rest: Any) -> None:
        return None

    assert handler.bind_arguments({"a": "1", "b": "2"}, "m:f") == {"a": "1", "b": "2"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f(ctx, text, extra): ...", "parameter `extra` is not declared in args="),
        ("def f(ctx): ...", "args= declares `text`"),
        ("def f(ctx, *args): ...", "`*args` cannot receive arguments"),
        ("def f(ctx, text, /): ...", "parameter `text` is positional-only"),
        ("def f(): ...", "must take `ctx`"),
        ("def f(*, text): ...", "must take `ctx`"),
        ("async def f(ctx, text): ...", "is `async def`; handlers here are plain functions"),
        (
            "def f(ctx, args): ...",
            'not declared in args=; add "args": v.<type>() to args= or remove the parameter '
            "(arguments arrive one keyword parameter each, `def f(ctx, text)`, not as Convex's `args` object)",
        ),
        ("async def f(ctx, text):\n    yield text", "write `def f(ctx, ...)` and drop the `await`s"),
    ],
)
def test_args_that_do_not_match_the_handler_fail_at_definition(source: str, expected: str) -> None:
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    with pytest.raises(FunctionLoadError) as info:
        query(args={"text": v.string()})(namespace["f"])
    assert expected in info.value.message
    assert "function `f`" in info.value.message


def test_optional_field_without_a_default_fails_at_definition() -> None:
    def handler(ctx: Any, text: str) -> None:
        return None

    with pytest.raises(FunctionLoadError, match=r"`text` is v\.optional\(\.\.\.\).*text=None"):
        query(args={"text": v.optional(v.string())})(handler)


def test_args_that_is_not_an_object_validator_fails_at_definition() -> None:
    def handler(ctx: Any, text: str) -> None:
        return None

    with pytest.raises(FunctionLoadError, match="args= must be a dict of validators"):
        query(args=v.string())(handler)


def test_the_error_names_the_file_of_the_handler() -> None:
    def handler(ctx: Any, other: str) -> None:
        return None

    with pytest.raises(FunctionLoadError) as info:
        query(args={"text": v.string()})(handler)
    assert __file__ in info.value.message


# -- no arguments ------------------------------------------------------------------------------------------------


def test_a_handler_with_only_ctx_accepts_only_empty_arguments() -> None:
    @query
    def handler(ctx: Any) -> None:
        return None

    assert handler.bind_arguments({}, "m:f") == {}
    with pytest.raises(ArgumentValidationError, match=r"m:f takes no arguments.*`surprise`"):
        handler.bind_arguments({"surprise": 1.0}, "m:f")


# -- type hints (pydantic) ---------------------------------------------------------------------------------------


@query
def hinted(ctx: Any, count: int, name: str, tags: list[str], big: Int64 | None = None, blob: bytes = b"") -> None:
    return None


def test_hint_int_accepts_an_integral_float_like_pydantic_lax_mode() -> None:
    kwargs = hinted.bind_arguments({"count": 3.0, "name": "n", "tags": []}, "m:hinted")
    assert kwargs == {"count": 3, "name": "n", "tags": [], "big": None, "blob": b""}
    assert type(kwargs["count"]) is int


def test_hint_int_rejects_a_fraction_naming_the_field() -> None:
    with pytest.raises(ArgumentValidationError) as info:
        hinted.bind_arguments({"count": 3.5, "name": "n", "tags": []}, "m:hinted")
    assert "m:hinted" in info.value.message
    assert "`count`" in info.value.message


def test_hint_str_rejects_a_number() -> None:
    with pytest.raises(ArgumentValidationError, match="`name`"):
        hinted.bind_arguments({"count": 1.0, "name": 2.0, "tags": []}, "m:hinted")


def test_the_path_inside_a_field_is_named() -> None:
    with pytest.raises(ArgumentValidationError, match=r"`tags`.*at `tags\.1`"):
        hinted.bind_arguments({"count": 1.0, "name": "n", "tags": ["a", 2.0]}, "m:hinted")


def test_missing_and_unexpected_hinted_arguments_are_named() -> None:
    with pytest.raises(ArgumentValidationError, match="argument `name` is required"):
        hinted.bind_arguments({"count": 1.0, "tags": []}, "m:hinted")
    with pytest.raises(ArgumentValidationError, match="unexpected argument `other`"):
        hinted.bind_arguments({"count": 1.0, "name": "n", "tags": [], "other": 1.0}, "m:hinted")


def test_hint_int64_accepts_int64_and_rejects_a_float() -> None:
    kwargs = hinted.bind_arguments({"count": 1.0, "name": "n", "tags": [], "big": Int64(2**40)}, "m:hinted")
    assert kwargs["big"] == 2**40
    assert isinstance(kwargs["big"], Int64)
    with pytest.raises(ArgumentValidationError, match="`big`"):
        hinted.bind_arguments({"count": 1.0, "name": "n", "tags": [], "big": 1.5}, "m:hinted")


def test_hint_bytes_accepts_bytes() -> None:
    kwargs = hinted.bind_arguments({"count": 1.0, "name": "n", "tags": [], "blob": b"\x00\xff"}, "m:hinted")
    assert kwargs["blob"] == b"\x00\xff"


def test_parameter_names_that_clash_with_pydantic_attributes_work() -> None:
    @query
    def handler(ctx: Any, json: str, model_config: int, _private: str = "p") -> None:
        return None

    assert handler.bind_arguments({"json": "j", "model_config": 1.0}, "m:f") == {
        "json": "j",
        "model_config": 1,
        "_private": "p",
    }


def test_unannotated_parameter_without_args_fails_at_definition() -> None:
    def handler(ctx, text):  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(FunctionLoadError, match=r"`text` has no type hint; annotate it .* or declare .*args="):
        query(handler)


def test_var_keyword_without_args_fails_at_definition() -> None:
    def handler(ctx: Any, **rest: Any) -> None:
        return None

    with pytest.raises(FunctionLoadError, match=r"`\*\*kwargs` needs args="):
        query(handler)


def test_unresolvable_hint_fails_at_definition() -> None:
    def handler(ctx: Any, item: NoSuchType) -> None:  # type: ignore[name-defined]  # noqa: F821
        return None

    with pytest.raises(FunctionLoadError, match="cannot resolve the parameter type hints"):
        query(handler)


def test_pydantic_is_imported_only_for_functions_that_use_hints(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from authlib_core import query, mutation
        from authlib_core.values import v

        @query
        def no_args(ctx):
            return None

        @mutation(args={"text": v.string()})
        def with_validators(ctx, text):
            return text

        with_validators.bind_arguments({"text": "a"}, "m:f")
        before = "pydantic" in sys.modules

        @query
        def hinted(ctx, n: int):
            return n

        print(before, "pydantic" in sys.modules)
        """
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["False", "True"]
