"""loads_strict: the nesting cap holds whatever the interpreter's recursion limit is."""

from __future__ import annotations

import sys

import pytest

from authlib_core.values.json_text import MAX_JSON_DEPTH, JsonTextError, loads_strict


@pytest.fixture(params=[None, 100_000], ids=["default-limit", "raised-limit"])
def recursion_limit(request: pytest.FixtureRequest) -> object:
    before = sys.getrecursionlimit()
    if request.param is not None:
        sys.setrecursionlimit(request.param)
    yield request.param
    sys.setrecursionlimit(before)


@pytest.mark.usefixtures("recursion_limit")
@pytest.mark.parametrize(("open_", "close"), [("[", "]"), ('{"a":', "}")])
def test_nesting_past_the_cap_is_refused_with_a_message(open_: str, close: str) -> None:
    depth = MAX_JSON_DEPTH + 1
    with pytest.raises(JsonTextError, match=f"nested more than {MAX_JSON_DEPTH} levels"):
        loads_strict(open_ * depth + "1" + close * depth)


@pytest.mark.usefixtures("recursion_limit")
def test_nesting_at_the_cap_parses() -> None:
    depth = MAX_JSON_DEPTH - 100  # the scanner's own limit sits a little under the interpreter's
    value = loads_strict("[" * depth + "]" * depth)
    for _ in range(depth - 1):
        value = value[0]
    assert value == []


def test_many_brackets_side_by_side_are_not_nesting() -> None:
    text = "[" + ",".join(["[]"] * (MAX_JSON_DEPTH * 3)) + "]"
    assert len(loads_strict(text)) == MAX_JSON_DEPTH * 3


@pytest.mark.parametrize(
    "text",
    ['{"a": [1, 2.5, "x"]}', b'{"a": 1}', "\ufeff{}", b"\xef\xbb\xbf{}", "[NaN]", "{bad", 5],
    ids=["str", "bytes", "str-bom", "bytes-bom", "nan", "syntax", "not-text"],
)
def test_the_kept_decoder_answers_as_json_loads(text):
    import json

    from authlib_core.values._common import json_loader

    def constant(name):
        raise ValueError(f"constant {name}")

    def outcome(load):
        try:
            return ("value", load(text))
        except Exception as exc:  # the same type and message either way
            return (type(exc), str(exc))

    assert outcome(json_loader(constant)) == outcome(lambda t: json.loads(t, parse_constant=constant))
