from __future__ import annotations

import copy
import math
import pickle
from collections import OrderedDict

import pytest

from authlib_core.errors import InvalidValueError, SchemaDefinitionError
from authlib_core.values import (
    REMOVE,
    Int64,
    JSONValue,
    Validator,
    ValidatorMismatch,
    as_object_validator,
    new_id,
    v,
)
from authlib_core.values.validators import (
    VAny,
    VArray,
    VBoolean,
    VBytes,
    VFloat64,
    VId,
    VInt64,
    VLiteral,
    VNull,
    VObject,
    VOptional,
    VRecord,
    VString,
    VUnion,
)


def mismatch(validator: Validator, value: object, path: str = "") -> ValidatorMismatch:
    with pytest.raises(ValidatorMismatch) as info:
        validator.validate(value, path)
    return info.value


# (validator, accepted value, normalised result, rejected values, to_json, repr)
CASES: list[tuple[Validator, object, object, list[object], dict[str, JSONValue], str]] = [
    (v.string(), "hé", "hé", [1.0, b"x", None, ["a"]], {"type": "string"}, "v.string()"),
    (v.number(), 3, 3.0, [True, Int64(3), "3", None], {"type": "number"}, "v.float64()"),
    (v.float64(), -0.5, -0.5, [False, Int64(0), b""], {"type": "number"}, "v.float64()"),
    (v.int64(), 7, Int64(7), [True, 7.0, "7", 2**63], {"type": "bigint"}, "v.int64()"),
    (v.bigint(), Int64(-1), Int64(-1), [1.5, None], {"type": "bigint"}, "v.int64()"),
    (v.boolean(), False, False, [0, 1.0, None, "true"], {"type": "boolean"}, "v.boolean()"),
    (v.null(), None, None, [0.0, "", False, []], {"type": "null"}, "v.null()"),
    (v.bytes(), bytearray(b"\x00"), b"\x00", ["x", [0]], {"type": "bytes"}, "v.bytes()"),
    (v.any(), {"n": 1, "t": (1,)}, {"n": 1.0, "t": [1.0]}, [], {"type": "any"}, "v.any()"),
    (
        v.array(v.float64()),
        (1, 2.5),
        [1.0, 2.5],
        [[1.0, "x"], "ab", {"a": 1.0}, None],
        {"type": "array", "value": {"type": "number"}},
        "v.array(v.float64())",
    ),
    (
        v.object({"a": v.string(), "b": v.optional(v.int64())}),
        {"a": "x", "b": 1},
        {"a": "x", "b": Int64(1)},
        [{}, {"a": "x", "c": 1.0}, {"a": 1.0}, ["a"], {"a": "x", "b": None}],
        {
            "type": "object",
            "value": {
                "a": {"fieldType": {"type": "string"}, "optional": False},
                "b": {"fieldType": {"type": "bigint"}, "optional": True},
            },
        },
        'v.object({"a": v.string(), "b": v.optional(v.int64())})',
    ),
    (
        v.union(v.string(), v.null()),
        None,
        None,
        [1.0, False],
        {"type": "union", "value": [{"type": "string"}, {"type": "null"}]},
        "v.union(v.string(), v.null())",
    ),
    (
        v.nullable(v.float64()),
        2,
        2.0,
        ["2"],
        {"type": "union", "value": [{"type": "number"}, {"type": "null"}]},
        "v.union(v.float64(), v.null())",
    ),
    (
        v.record(v.string(), v.boolean()),
        OrderedDict(a=True),
        {"a": True},
        [{"a": 1.0}, [True], {"_a": True}, {"$a": True}, {"": True}, {1: True}],
        {"type": "record", "keys": {"type": "string"}, "values": {"fieldType": {"type": "boolean"}, "optional": False}},
        "v.record(v.string(), v.boolean())",
    ),
    (v.literal("a"), "a", "a", ["b", 1.0, None], {"type": "literal", "value": "a"}, 'v.literal("a")'),
    (v.literal(3), 3, 3.0, [Int64(3), "3", True], {"type": "literal", "value": 3}, "v.literal(3.0)"),
    (v.literal(2.5), 2.5, 2.5, [2.4], {"type": "literal", "value": 2.5}, "v.literal(2.5)"),
    (
        v.literal(Int64(3)),
        Int64(3),
        Int64(3),
        [3.0, Int64(4), "3", True],
        {"type": "literal", "value": {"$integer": "AwAAAAAAAAA="}},
        "v.literal(Int64(3))",
    ),
    (v.literal(True), True, True, [1.0, 1, Int64(1), False], {"type": "literal", "value": True}, "v.literal(True)"),
]


@pytest.mark.parametrize(("validator", "good", "normalised", "bad", "json", "text"), CASES, ids=lambda x: repr(x))
class TestEveryValidator:
    def test_accepts_and_normalises(
        self, validator: Validator, good: object, normalised: object, bad: object, json: object, text: str
    ) -> None:
        result = validator.validate(good)
        assert result == normalised
        assert type(result) is type(normalised)

    def test_rejects_with_path(
        self, validator: Validator, good: object, normalised: object, bad: list[object], json: object, text: str
    ) -> None:
        for value in bad:
            error = mismatch(validator, {"outer": [value]}["outer"][0], ".items[2].x")
            assert error.path.startswith(".items[2].x")
            assert "Path: .items[2].x" in str(error)
            assert "Validator: " in str(error)
            assert "Value: " in str(error)
            assert isinstance(error, InvalidValueError)

    def test_json(
        self, validator: Validator, good: object, normalised: object, bad: object, json: object, text: str
    ) -> None:
        assert validator.to_json() == json

    def test_repr(
        self, validator: Validator, good: object, normalised: object, bad: object, json: object, text: str
    ) -> None:
        assert repr(validator) == text


class TestMismatchMessage:
    def test_nested_path_value_and_validator(self) -> None:
        validator = v.object({"items": v.array(v.object({"text": v.string()}))})
        error = mismatch(validator, {"items": [{"text": "a"}, {"text": "b"}, {"text": 3.0}]})
        assert error.path == ".items[2].text"
        assert error.expected == "v.string()"
        assert error.got == "3"  # JSON, as Convex shows values: the float64 3.0 is 3
        assert str(error) == "Value does not match validator. Path: .items[2].text. Value: 3. Validator: v.string()"

    def test_root_has_no_path_part(self) -> None:
        error = mismatch(v.string(), 3.0)
        assert error.path == ""
        assert str(error) == "Value does not match validator. Value: 3. Validator: v.string()"

    def test_long_values_are_truncated(self) -> None:
        error = mismatch(v.float64(), "x" * 10_000)
        assert len(error.got) <= 120
        assert len(str(error)) < 300

    def test_long_validators_are_truncated_in_the_message_only(self) -> None:
        big = v.object({f"field{i}": v.string() for i in range(50)})
        error = mismatch(big, None)
        assert error.expected == repr(big)
        assert len(str(error)) < 400

    def test_unprintable_value(self) -> None:
        class Weird:
            def __repr__(self) -> str:
                raise RuntimeError

        assert "Weird" in mismatch(v.string(), Weird()).got

    def test_survives_pickle_and_copy(self) -> None:
        error = mismatch(v.union(v.string(), v.null()), 1.0, ".a")
        for clone in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
            assert isinstance(clone, ValidatorMismatch)
            assert str(clone) == str(error)
            assert clone.path == ".a"
            assert len(clone.alternatives) == 2

    def test_remove_is_not_a_value(self) -> None:
        assert mismatch(v.object({"a": v.optional(v.string())}), {"a": REMOVE}).got == '"undefined"'
        with pytest.raises(InvalidValueError, match=r"ctx\.db\.patch"):
            v.any().validate({"a": REMOVE})


class TestObject:
    def test_missing_fields_are_named(self) -> None:
        error = mismatch(v.object({"a": v.string(), "b": v.string(), "c": v.optional(v.string())}), {}, ".x")
        assert error.reason == "Object is missing the required fields `a`, `b`."
        assert error.path == ".x"

    def test_extra_fields_are_named(self) -> None:
        error = mismatch(v.object({"a": v.string()}), {"a": "x", "zz": 1.0})
        assert error.reason == "Object contains extra field `zz` not in the validator."

    def test_optional_field_may_be_absent_but_none_is_null(self) -> None:
        validator = v.object({"a": v.optional(v.string())})
        assert validator.validate({}) == {}
        assert mismatch(validator, {"a": None}).path == ".a"

    def test_odd_keys_in_paths(self) -> None:
        validator = v.object({"a b": v.string()})
        assert mismatch(validator, {"a b": 1.0}).path == '["a b"]'

    def test_result_is_a_new_dict(self) -> None:
        source = {"a": "x"}
        result = v.object({"a": v.string()}).validate(source)
        assert result == source
        assert result is not source

    def test_system_fields_are_allowed_in_object_validators(self) -> None:
        # returns= validators describe documents, which carry _id and _creationTime.
        doc = v.object({"_id": v.id("users"), "_creationTime": v.float64()})
        user_id = new_id("users")
        assert doc.validate({"_id": user_id, "_creationTime": 1.5}) == {"_id": user_id, "_creationTime": 1.5}

    def test_fields_are_immutable_and_validators_hashable(self) -> None:
        fields = {"a": v.string()}
        validator = v.object(fields)
        fields["b"] = v.string()
        assert list(validator.fields) == ["a"]
        with pytest.raises(TypeError):
            validator.fields["c"] = v.string()  # type: ignore[index]
        assert hash(validator) == hash(v.object({"a": v.string()}))
        assert {validator, v.object({"a": v.string()})} == {validator}


class TestNumbers:
    def test_float64_rejects_inexact_ints(self) -> None:
        error = mismatch(v.float64(), 2**53 + 1)
        assert "Int64" in error.reason

    def test_float64_keeps_special_values(self) -> None:
        assert math.isnan(v.float64().validate(math.nan))  # type: ignore[arg-type]
        assert math.copysign(1.0, v.float64().validate(-0.0)) < 0  # type: ignore[arg-type]

    def test_int64_range(self) -> None:
        assert v.int64().validate(-(2**63)) == -(2**63)
        assert "out of the int64 range" in mismatch(v.int64(), 2**63).reason

    def test_union_falls_through_to_int64(self) -> None:
        assert v.union(v.float64(), v.int64()).validate(2**62 + 1) == Int64(2**62 + 1)


class TestString:
    def test_lone_surrogate_is_invalid_not_a_mismatch(self) -> None:
        with pytest.raises(InvalidValueError, match="lone surrogate") as info:
            v.union(v.string(), v.null()).validate("\ud800")
        assert not isinstance(info.value, ValidatorMismatch)

    def test_subclass_is_normalised(self) -> None:
        class Name(str):
            pass

        assert type(v.string().validate(Name("x"))) is str


class TestId:
    def test_accepts_ids_of_its_table(self) -> None:
        user_id = new_id("users")
        assert v.id("users").validate(user_id) == user_id

    def test_id_of_another_table(self) -> None:
        error = mismatch(v.id("users"), new_id("posts"), ".author")
        assert "another table" in error.reason
        assert "'users'" in error.reason
        assert error.path == ".author"

    def test_garbage(self) -> None:
        assert "not a valid document id" in mismatch(v.id("users"), "abc").reason
        assert mismatch(v.id("users"), 5.0).reason == "Value does not match validator."

    def test_json_and_repr(self) -> None:
        assert v.id("users").to_json() == {"type": "id", "tableName": "users"}
        assert repr(v.id("users")) == 'v.id("users")'

    @pytest.mark.parametrize("bad", ["", None, 3])
    def test_table_name_required(self, bad: object) -> None:
        with pytest.raises(SchemaDefinitionError, match="table name"):
            v.id(bad)  # type: ignore[arg-type]


class TestLiteral:
    def test_type_exactness(self) -> None:
        mismatch(v.literal(3), Int64(3))
        mismatch(v.literal(Int64(3)), 3.0)
        mismatch(v.literal(True), 1)
        mismatch(v.literal(1), True)
        mismatch(v.literal(0.0), -0.0)

    def test_plain_int_value_for_int64_literal(self) -> None:
        assert v.literal(Int64(3)).validate(3) == Int64(3)

    def test_special_floats(self) -> None:
        assert repr(v.literal(math.nan)) == 'v.literal(float("nan"))'
        assert repr(v.literal(-math.inf)) == 'v.literal(float("-inf"))'
        assert repr(v.literal(math.inf)) == 'v.literal(float("inf"))'
        assert math.isnan(v.literal(math.nan).validate(math.nan))  # type: ignore[arg-type]
        assert v.literal(-0.0).to_json() == {"type": "literal", "value": {"$float": "AAAAAAAAAIA="}}

    def test_huge_int_value_does_not_crash(self) -> None:
        mismatch(v.literal(1.0), 10**400)

    @pytest.mark.parametrize("bad", [None, b"x", [1], 2**60 + 1, "\ud800"])
    def test_invalid_literals(self, bad: object) -> None:
        with pytest.raises(SchemaDefinitionError, match=r"v\.literal"):
            v.literal(bad)  # type: ignore[arg-type]

    def test_null_literal_hint(self) -> None:
        with pytest.raises(SchemaDefinitionError, match=r"v\.null\(\)"):
            v.literal(None)  # type: ignore[arg-type]


class TestUnion:
    def test_first_match_wins(self) -> None:
        assert type(v.union(v.any(), v.int64()).validate(3)) is float

    def test_reports_all_alternatives(self) -> None:
        validator = v.union(v.object({"kind": v.literal("a"), "n": v.float64()}), v.object({"kind": v.literal("b")}))
        error = mismatch(validator, {"kind": "a", "n": "x"}, ".shape")
        assert error.path == ".shape"
        assert len(error.alternatives) == 2
        assert 'v.literal("b")' in error.expected
        assert "Closest member" in str(error)
        assert ".shape.n" in str(error)

    def test_needs_members(self) -> None:
        with pytest.raises(SchemaDefinitionError, match="at least one"):
            v.union()


class TestRecord:
    def test_key_validators(self) -> None:
        user_id = new_id("users")
        assert v.record(v.id("users"), v.float64()).validate({user_id: 1}) == {user_id: 1.0}
        keys = v.union(v.literal("a"), v.literal("b"))
        assert v.record(keys, v.null()).validate({"a": None}) == {"a": None}
        error = mismatch(v.record(keys, v.null()), {"c": None}, ".r")
        assert error.path == ".r.c"
        assert error.reason == "Record key does not match validator."

    def test_value_mismatch_path(self) -> None:
        assert mismatch(v.record(v.string(), v.float64()), {"k": "x"}).path == ".k"

    def test_reserved_keys(self) -> None:
        validator = v.record(v.string(), v.null())
        assert "reserved for system fields" in mismatch(validator, {"_id": None}).reason
        assert "'$'" in mismatch(validator, {"$x": None}).reason
        assert "is empty" in mismatch(validator, {"": None}).reason
        assert "not a string" in mismatch(validator, {1: None}).reason

    @pytest.mark.parametrize("keys", [v.float64(), v.literal(1.0), v.union(v.string(), v.null()), v.any()])
    def test_key_validator_must_be_string_like(self, keys: Validator) -> None:
        with pytest.raises(SchemaDefinitionError, match="keys must be"):
            v.record(keys, v.null())


class TestConstructionChecks:
    @pytest.mark.parametrize("name", ["", "$a", "é", "a" * 1025, "\n"])
    def test_bad_field_names(self, name: str) -> None:
        with pytest.raises(SchemaDefinitionError, match=r"v\.object\(\)"):
            v.object({name: v.string()})

    def test_non_string_field_name(self) -> None:
        with pytest.raises(SchemaDefinitionError, match="non-empty strings"):
            v.object({1: v.string()})  # type: ignore[dict-item]

    def test_non_validator_field(self) -> None:
        with pytest.raises(SchemaDefinitionError, match="field 'a' is not a validator"):
            v.object({"a": str})  # type: ignore[dict-item]

    def test_forgotten_parentheses(self) -> None:
        with pytest.raises(SchemaDefinitionError, match=r"v\.string\(\) instead of v\.string"):
            v.object({"a": v.string})  # type: ignore[dict-item]

    def test_object_needs_a_mapping(self) -> None:
        with pytest.raises(SchemaDefinitionError, match="dict of field name"):
            v.object([("a", v.string())])  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "build",
        [
            lambda: v.array(v.optional(v.string())),
            lambda: v.union(v.string(), v.optional(v.null())),
            lambda: v.nullable(v.optional(v.string())),
            lambda: v.optional(v.optional(v.string())),
            lambda: v.record(v.string(), v.optional(v.string())),
            lambda: v.record(v.optional(v.string()), v.string()),
        ],
    )
    def test_optional_only_as_object_field(self, build: object) -> None:
        with pytest.raises(SchemaDefinitionError, match=r"only allowed as a field of v\.object\(\)"):
            build()  # type: ignore[operator]

    def test_array_of_non_validator(self) -> None:
        with pytest.raises(SchemaDefinitionError, match="not a validator"):
            v.array("string")  # type: ignore[arg-type]


class TestOptional:
    def test_behaves_as_its_inner_validator_when_present(self) -> None:
        validator = v.optional(v.int64())
        assert validator.is_optional
        assert validator.validate(1) == Int64(1)
        assert validator.to_json() == {"type": "bigint"}
        assert repr(validator) == "v.optional(v.int64())"
        mismatch(validator, "x")


class TestKinds:
    def test_every_class_has_a_distinct_kind(self) -> None:
        validators: list[Validator] = [
            v.string(),
            v.float64(),
            v.int64(),
            v.boolean(),
            v.null(),
            v.bytes(),
            v.any(),
            v.id("t"),
            v.literal("x"),
            v.array(v.null()),
            v.object({}),
            v.optional(v.null()),
            v.union(v.null()),
            v.record(v.string(), v.null()),
        ]
        classes = [VString, VFloat64, VInt64, VBoolean, VNull, VBytes, VAny, VId, VLiteral, VArray, VObject]
        classes += [VOptional, VUnion, VRecord]
        assert [type(item) for item in validators] == classes
        kinds = [item.kind for item in validators]
        assert kinds == [
            "string",
            "float64",
            "int64",
            "boolean",
            "null",
            "bytes",
            "any",
            "id",
            "literal",
            "array",
            "object",
            "optional",
            "union",
            "record",
        ]
        assert [item.is_optional for item in validators].count(True) == 1

    def test_validators_are_frozen_values(self) -> None:
        assert v.string() == v.string()
        assert v.array(v.string()) != v.array(v.float64())
        assert v.number() == v.float64()
        assert v.nullable(v.string()) == v.union(v.string(), v.null())
        with pytest.raises(AttributeError):
            v.id("a").table = "b"  # type: ignore[misc]

    def test_namespace_repr(self) -> None:
        assert repr(v) == "v"


class TestAsObjectValidator:
    def test_dict_becomes_object(self) -> None:
        assert as_object_validator({"a": v.string()}) == v.object({"a": v.string()})

    def test_object_passes_through(self) -> None:
        validator = v.object({"a": v.string()})
        assert as_object_validator(validator) is validator

    def test_other_validators_are_rejected_with_a_hint(self) -> None:
        with pytest.raises(SchemaDefinitionError, match=r'\{"value": v\.string\(\)\}'):
            as_object_validator(v.string())

    def test_garbage(self) -> None:
        with pytest.raises(SchemaDefinitionError, match="Expected a dict"):
            as_object_validator([1])  # type: ignore[arg-type]
