from __future__ import annotations

import base64
import math
import struct

import pytest
from hypothesis import given

from authlib_core.errors import InvalidValueError
from authlib_core.values import (
    REMOVE,
    BadFormatError,
    Format,
    Int64,
    JSONValue,
    Value,
    decode,
    dumps,
    encode,
    loads,
    parse_format,
    sort_key,
)
from authlib_core.values._common import MAX_DEPTH
from tests.unit.values.strategies import NEG_NAN, float_from_bits, values

ENCODED: Format = "convex_encoded_json"


class TestParseFormat:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("json", "json"),
            ("convex_clean_json", "json"),
            ("convex_encoded_json", "convex_encoded_json"),
            ("convex_json", "convex_encoded_json"),
        ],
    )
    def test_names_and_aliases(self, name: str, expected: str) -> None:
        assert parse_format(name, "json") == expected

    def test_none_means_default(self) -> None:
        assert parse_format(None, "json") == "json"
        assert parse_format(None, "convex_encoded_json") == "convex_encoded_json"

    @pytest.mark.parametrize("name", ["", "JSON", "export_json", "xml"])
    def test_unknown_is_bad_format(self, name: str) -> None:
        with pytest.raises(BadFormatError, match="Unknown format") as info:
            parse_format(name, "json")
        assert info.value.code == "BadFormat"
        assert isinstance(info.value, InvalidValueError)


class TestReferenceEncodings:
    """The exact strings Convex's published client produces."""

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (Int64(1), {"$integer": "AQAAAAAAAAA="}),
            (Int64(-1), {"$integer": "//////////8="}),
            (Int64(2**62), {"$integer": "AAAAAAAAAEA="}),
            (Int64(3), {"$integer": "AwAAAAAAAAA="}),
            (Int64(128), {"$integer": "gAAAAAAAAAA="}),
            (math.nan, {"$float": "AAAAAAAA+H8="}),
            (math.inf, {"$float": "AAAAAAAA8H8="}),
            (-math.inf, {"$float": "AAAAAAAA8P8="}),
            (-0.0, {"$float": "AAAAAAAAAIA="}),
            (bytes([0, 16, 131]), {"$bytes": "ABCD"}),
            (b"", {"$bytes": ""}),
        ],
    )
    def test_encoded(self, value: object, expected: JSONValue) -> None:
        assert encode(value, ENCODED) == expected  # type: ignore[arg-type]
        decoded = decode(expected)
        assert sort_key(decoded) == sort_key(value)  # type: ignore[arg-type]

    def test_int64_extremes(self) -> None:
        for number in (-(2**63), 2**63 - 1):
            encoded = encode(Int64(number), ENCODED)
            assert encoded == {"$integer": base64.b64encode(struct.pack("<q", number)).decode()}
            assert decode(encoded) == number
            assert type(decode(encoded)) is Int64


class TestEncodedFormat:
    def test_finite_floats_are_json_numbers(self) -> None:
        assert encode(3.0, ENCODED) == 3
        assert type(encode(3.0, ENCODED)) is int
        assert encode(0.0, ENCODED) == 0
        assert encode(2.0**53, ENCODED) == 2**53
        assert type(encode(2.0**53 * 2, ENCODED)) is float
        assert encode(0.5, ENCODED) == 0.5
        assert dumps(encode(1e300, ENCODED)) == "1e+300"

    def test_plain_int_is_a_float64(self) -> None:
        assert encode(3, ENCODED) == 3
        with pytest.raises(InvalidValueError, match="Int64"):
            encode(2**53 + 1, ENCODED)

    def test_negative_nan_keeps_its_sign(self) -> None:
        encoded = encode(NEG_NAN, ENCODED)
        assert encoded == {"$float": "AAAAAAAA+P8="}
        decoded = decode(encoded)
        assert isinstance(decoded, float)
        assert math.isnan(decoded)
        assert math.copysign(1.0, decoded) < 0

    def test_nan_payload_round_trips(self) -> None:
        odd_nan = float_from_bits(0x7FF0_0000_0000_0001)
        assert sort_key(decode(encode(odd_nan, ENCODED))) == sort_key(odd_nan)

    def test_nested_objects_have_sorted_keys(self) -> None:
        value: Value = {"b": {"z": 1.0, "a": [Int64(1), b"\x00"]}, "a": None}
        encoded = encode(value, ENCODED)
        assert dumps(encoded) == '{"a":null,"b":{"a":[{"$integer":"AQAAAAAAAAA="},{"$bytes":"AA=="}],"z":1}}'

    def test_tuples_and_bytes_like(self) -> None:
        assert encode((True, bytearray(b"\x01")), ENCODED) == [True, {"$bytes": "AQ=="}]  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("value", "fragment"),
        [
            ({"$x": 1.0}, "starts with '$'"),
            ({1: 1.0}, "must be str"),
            ({"a": {1, 2}}, "at .a"),
            ({"a": REMOVE}, "at .a"),
            ("\udc00", "lone surrogate"),
        ],
    )
    def test_invalid_values(self, value: object, fragment: str) -> None:
        for fmt in ("json", ENCODED):
            with pytest.raises(InvalidValueError) as info:
                encode(value, fmt)  # type: ignore[arg-type]
            assert fragment in str(info.value)

    def test_depth_limit(self) -> None:
        deep: object = 1.0
        for _ in range(MAX_DEPTH + 1):
            deep = [deep]
        with pytest.raises(InvalidValueError, match="nested more than"):
            encode(deep, ENCODED)  # type: ignore[arg-type]


class TestCleanFormat:
    def test_lossy_forms(self) -> None:
        value: Value = {
            "i": Int64(-(2**63)),
            "b": bytes([0, 16, 131]),
            "nan": math.nan,
            "neg_nan": NEG_NAN,
            "inf": math.inf,
            "ninf": -math.inf,
            "nz": -0.0,
            "f": 3.0,
            "s": "x",
            "l": [None, True],
        }
        encoded = encode(value, "json")
        assert encoded == {
            "b": "ABCD",
            "f": 3,
            "i": "-9223372036854775808",
            "inf": "Infinity",
            "l": [None, True],
            "nan": "NaN",
            "neg_nan": "NaN",
            "ninf": "-Infinity",
            "nz": -0.0,
            "s": "x",
        }
        assert isinstance(encoded, dict)
        assert dumps(encoded["nz"]) == "-0.0"
        assert list(encoded) == sorted(encoded)

    def test_int64_max(self) -> None:
        assert encode(Int64(2**63 - 1), "json") == "9223372036854775807"


class TestDecode:
    def test_json_numbers_are_floats(self) -> None:
        result = decode({"a": 3, "b": [1.5, -0]})
        assert result == {"a": 3.0, "b": [1.5, 0.0]}
        assert isinstance(result, dict)
        assert type(result["a"]) is float

    def test_large_json_int_rounds_like_javascript(self) -> None:
        assert decode(2**53 + 1) == 2.0**53

    def test_huge_json_int_is_an_error(self) -> None:
        with pytest.raises(InvalidValueError, match="too large"):
            decode(10**400)

    def test_scalars_and_nesting(self) -> None:
        assert decode(None) is None
        assert decode(True) is True
        assert decode("s") == "s"
        assert decode({"x": {"y": [{"$bytes": "AQ=="}]}}) == {"x": {"y": [b"\x01"]}}

    @pytest.mark.parametrize(
        ("obj", "fragment"),
        [
            ({"$integer": "AQAAAAAAAA=="}, "exactly 8 bytes, not 7"),
            ({"$integer": "AQAAAAAAAAA"}, "not valid base64"),
            ({"$integer": 5}, "base64 string"),
            ({"$float": base64.b64encode(struct.pack("<d", 1.0)).decode()}, "finite number 1.0"),
            ({"$float": base64.b64encode(struct.pack("<d", 0.0)).decode()}, "finite number 0.0"),
            ({"$float": "AAAA"}, "exactly 8 bytes"),
            ({"$bytes": "A"}, "not valid base64"),
            ({"$bytes": "AB!D"}, "not valid base64"),
            ({"$bytes": None}, "base64 string"),
            ({"$set": []}, "starts with '$'"),
            ({"$map": []}, "starts with '$'"),
            ({"$commitTs": None}, "starts with '$'"),
            ({"$undefined": None}, "starts with '$'"),
            ({"$integer": "AQAAAAAAAAA=", "x": 1}, "starts with '$'"),
            ({"bad\nkey": 1}, "printable ASCII"),
            ("\ud800", "lone surrogate"),
            ((1, 2), "not JSON"),
            (b"x", "not JSON"),
        ],
    )
    def test_invalid(self, obj: object, fragment: str) -> None:
        with pytest.raises(InvalidValueError) as info:
            decode(obj)  # type: ignore[arg-type]
        assert fragment in str(info.value)

    def test_errors_name_the_path(self) -> None:
        with pytest.raises(InvalidValueError, match=r"at \.args\[1\]\.n"):
            decode({"args": [None, {"n": {"$integer": "AA=="}}]})
        with pytest.raises(InvalidValueError, match=r"at \.x"):
            decode({"$integer": "AA=="}, ".x")

    def test_depth_limit(self) -> None:
        with pytest.raises(InvalidValueError, match="nested more than"):
            decode(loads("[" * 100 + "]" * 100))


class TestRoundTrips:
    @given(values)
    def test_encoded_is_lossless(self, value: object) -> None:
        encoded = encode(value, ENCODED)  # type: ignore[arg-type]
        assert sort_key(decode(encoded)) == sort_key(value)  # type: ignore[arg-type]
        assert sort_key(decode(loads(dumps(encoded)))) == sort_key(value)  # type: ignore[arg-type]

    @given(values)
    def test_clean_is_valid_json(self, value: object) -> None:
        text = dumps(encode(value, "json"))  # type: ignore[arg-type]
        assert loads(text) == loads(text.encode("utf-8"))


class TestLoadsDumps:
    def test_loads_accepts_text_and_bytes(self) -> None:
        assert loads('{"a": [1, "é"]}') == {"a": [1, "é"]}
        assert loads('{"a": "é"}'.encode()) == {"a": "é"}

    def test_duplicate_keys_last_wins(self) -> None:
        assert loads('{"a": 1, "a": 2}') == {"a": 2}

    @pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
    def test_nan_and_infinity_literals_are_rejected(self, literal: str) -> None:
        with pytest.raises(InvalidValueError, match=f"'{literal}' is not valid JSON"):
            loads(f'{{"x": [{literal}]}}')

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("{", "line 1, column 2"),
            ("", "Expecting value"),
            ("[1,]", "Invalid JSON"),
            (b"\xff\xfe\xfd", "Invalid JSON"),
            (b'"\xc3"', "not valid UTF-8"),
            ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
        ],
    )
    def test_malformed_text(self, text: str | bytes, fragment: str) -> None:
        with pytest.raises(InvalidValueError) as info:
            loads(text)
        assert fragment in str(info.value)

    def test_dumps_is_compact_and_keeps_unicode(self) -> None:
        assert dumps({"a": [1, 2.5, None, True, "é😀"]}) == '{"a":[1,2.5,null,true,"é😀"]}'

    @pytest.mark.parametrize("bad", [math.nan, math.inf, {"a": b"x"}, {"a": object()}])
    def test_dumps_refuses_what_json_cannot_hold(self, bad: object) -> None:
        with pytest.raises(InvalidValueError, match="encode"):
            dumps(bad)  # type: ignore[arg-type]

    def test_dumps_circular(self) -> None:
        loop: list[object] = []
        loop.append(loop)
        with pytest.raises(InvalidValueError, match="Cannot write JSON"):
            dumps(loop)  # type: ignore[arg-type]
