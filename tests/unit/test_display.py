"""Values in messages read as JSON, the way Convex's ``stringifyValueForError`` prints them."""

from __future__ import annotations

import datetime
import doctest

import pytest

import authlib_core.display
from authlib_core import ConvexError
from authlib_core.display import MAX_DISPLAY_LENGTH, display_number, display_value, terminal_text
from authlib_core.values import REMOVE, UNDEFINED, Int64, v
from authlib_core.values.validators import ValidatorMismatch


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (5.0, "5"),
        (-3.0, "-3"),
        (0.0, "0"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (1.5e-5, "0.000015"),
        (1e-7, "1e-7"),
        (1.25e-7, "1.25e-7"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (123456789012345680000.0, "123456789012345680000"),
        (2.0**53, "9007199254740992"),
        (1 / 3, "0.3333333333333333"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
    ],
)
def test_numbers_read_as_javascript_writes_them(number: float, text: str) -> None:
    assert display_number(number) == text
    assert display_value(number) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (5, "5"),  # a plain int is a float64
        (Int64(5), '"5n"'),  # an int64 is a bigint: Convex prints "5n"
        (Int64(-9223372036854775808), '"-9223372036854775808n"'),
        ('héllo "q"', '"héllo \\"q\\""'),
        (b"\x01\x02\xff", '{"$bytes":"AQL/"}'),
        ({"done": False}, '{"done":false}'),
        ({"b": 1.0, "a": [None, Int64(2)]}, '{"b":1,"a":[null,"2n"]}'),  # insertion order, as JSON.stringify
        (("a", 2.5), '["a",2.5]'),
        ({"gone": REMOVE, "missing": UNDEFINED}, '{"gone":"undefined","missing":"undefined"}'),
    ],
)
def test_values_read_as_json(value: object, text: str) -> None:
    assert display_value(value) == text


def test_objects_that_are_not_values_show_their_python_type() -> None:
    assert display_value(datetime.date(2024, 1, 2)) == "datetime.date(2024, 1, 2)"
    assert display_value({"when": {1, 2}}) == '{"when":{1, 2}}'


def test_long_text_is_cut_as_convex_cuts_it() -> None:
    text = display_value(["x" * 100] * 1000)
    assert len(text) == MAX_DISPLAY_LENGTH
    assert text.endswith("[...truncated]")
    assert display_value("a" * 40, limit=20) == '"aaaaa[...truncated]'


def test_cycles_and_failing_reprs_do_not_raise() -> None:
    loop: list[object] = []
    loop.append(loop)
    assert display_value(loop) == '["[Circular]"]'

    class Weird:
        def __repr__(self) -> str:
            raise RuntimeError

    assert display_value(Weird()).startswith("<Weird instance at 0x")


def test_convex_error_message_is_the_data_as_convex_prints_it() -> None:
    error = ConvexError({"code": "TOO_LONG", "max": Int64(128), "raw": b"\x01\x02"})
    assert error.message == '{"code":"TOO_LONG","max":"128n","raw":{"$bytes":"AQI="}}'
    assert ConvexError("Not authenticated").message == "Not authenticated"
    assert ConvexError(5.0).message == "5"
    assert ConvexError(None).message == "null"


def test_validator_messages_show_json_not_python() -> None:
    with pytest.raises(ValidatorMismatch) as info:
        v.object({"n": v.string()}).validate({"n": 5.0})
    assert info.value.message == "Value does not match validator. Path: .n. Value: 5. Validator: v.string()"
    with pytest.raises(ValidatorMismatch) as info:
        v.string().validate(None)
    assert info.value.message == "Value does not match validator. Value: null. Validator: v.string()"
    with pytest.raises(ValidatorMismatch) as info:
        v.string().validate({"done": False})
    assert info.value.message == 'Value does not match validator. Value: {"done":false}. Validator: v.string()'
    with pytest.raises(ValidatorMismatch) as info:
        v.float64().validate(Int64(5))
    assert info.value.message == 'Value does not match validator. Value: "5n". Validator: v.float64()'


def test_docstring_examples_run() -> None:
    assert doctest.testmod(authlib_core.display).failed == 0


def test_type_hinted_arguments_show_json_too() -> None:
    from authlib_core import mutation
    from authlib_core.errors import ArgumentValidationError

    @mutation
    def add(ctx: object, text: str, tags: list[str] | None = None) -> None:
        return None

    with pytest.raises(ArgumentValidationError) as info:
        add.bind_arguments({"text": 5.0}, "todos:add")
    assert info.value.message == "todos:add: argument `text` is invalid: Input should be a valid string; got 5"
    with pytest.raises(ArgumentValidationError) as info:
        add.bind_arguments({"text": "a", "tags": [None]}, "todos:add")
    assert info.value.message == (
        "todos:add: argument `tags` is invalid (at `tags.0`): Input should be a valid string; got null"
    )


def test_terminal_text_leaves_no_character_a_terminal_acts_on() -> None:
    every = "".join(map(chr, range(0x200)))
    safe = terminal_text(every)
    acted_on = [c for c in safe if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F]
    assert acted_on == ["\t", "\n"]
    assert safe.startswith("\\x00\\x01")
    for part in ("\\x1b\\x1c", "~\\x7f\\x80", "\\x9f\xa0"):
        assert part in safe
    assert safe.endswith("".join(map(chr, range(0xA0, 0x200))))  # printable text is left as it is
