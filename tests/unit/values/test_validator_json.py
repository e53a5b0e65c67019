from __future__ import annotations

import math

import pytest

from authlib_core.errors import SchemaDefinitionError
from authlib_core.values import Int64, JSONValue, Validator, loads, v, validator_from_json

ROUND_TRIP: list[Validator] = [
    v.string(),
    v.float64(),
    v.int64(),
    v.boolean(),
    v.null(),
    v.bytes(),
    v.any(),
    v.id("users"),
    v.literal("x"),
    v.literal(3),
    v.literal(Int64(-5)),
    v.literal(False),
    v.literal(math.inf),
    v.array(v.array(v.string())),
    v.object({}),
    v.object({"a": v.optional(v.nullable(v.string())), "_id": v.id("t"), "n": v.object({"m": v.bytes()})}),
    v.union(v.literal("a"), v.literal("b"), v.object({"k": v.optional(v.any())})),
    v.record(v.union(v.id("a"), v.literal("x")), v.array(v.int64())),
]


@pytest.mark.parametrize("validator", ROUND_TRIP, ids=repr)
def test_round_trip(validator: Validator) -> None:
    assert validator_from_json(validator.to_json()) == validator


def test_reference_example() -> None:
    # Convex: the documentType of a schema export.
    exported = loads(
        '{"type":"object","value":{"body":{"fieldType":{"type":"string"},"optional":false},'
        '"channel":{"fieldType":{"type":"id","tableName":"channels"},"optional":false}}}'
    )
    assert validator_from_json(exported) == v.object({"body": v.string(), "channel": v.id("channels")})


def test_pagination_opts_validator_json() -> None:
    # Convex's paginationOptsValidator.
    validator = v.object(
        {
            "numItems": v.number(),
            "cursor": v.union(v.string(), v.null()),
            "endCursor": v.optional(v.union(v.string(), v.null())),
            "id": v.optional(v.number()),
        }
    )
    assert validator.to_json()["value"] == {
        "numItems": {"fieldType": {"type": "number"}, "optional": False},
        "cursor": {"fieldType": {"type": "union", "value": [{"type": "string"}, {"type": "null"}]}, "optional": False},
        "endCursor": {
            "fieldType": {"type": "union", "value": [{"type": "string"}, {"type": "null"}]},
            "optional": True,
        },
        "id": {"fieldType": {"type": "number"}, "optional": True},
    }


def test_missing_optional_flag_means_required() -> None:
    assert validator_from_json({"type": "object", "value": {"a": {"fieldType": {"type": "null"}}}}) == v.object(
        {"a": v.null()}
    )


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ([], "expected a JSON object"),
        ({}, "unknown or unsupported validator type None"),
        ({"type": "commitTs"}, "'commitTs'"),
        ({"type": "float64"}, "'float64'"),
        ({"type": "id"}, "tableName"),
        ({"type": "literal", "value": None}, "a literal must be"),
        ({"type": "literal", "value": {"$integer": "x"}}, "bad literal value"),
        ({"type": "array"}, "at .value"),
        ({"type": "object", "value": {"a": {"fieldType": {"type": "string"}, "optional": "yes"}}}, "'optional'"),
        ({"type": "object", "value": {"a": {"fieldType": {"type": "nope"}}}}, "at .value.a.fieldType"),
        ({"type": "union", "value": {}}, "list 'value'"),
        ({"type": "union", "value": [{"type": "x"}]}, "at .value[0]"),
        (
            {"type": "record", "keys": {"type": "string"}, "values": {"fieldType": {"type": "null"}, "optional": True}},
            "cannot be optional",
        ),
    ],
)
def test_invalid_json(obj: JSONValue, fragment: str) -> None:
    with pytest.raises(SchemaDefinitionError, match="Invalid validator JSON") as info:
        validator_from_json(obj)
    assert fragment in str(info.value)


def test_construction_rules_still_apply() -> None:
    with pytest.raises(SchemaDefinitionError, match=r"v\.object\(\)"):
        validator_from_json({"type": "object", "value": {"$bad": {"fieldType": {"type": "null"}}}})
    with pytest.raises(SchemaDefinitionError, match="at least one"):
        validator_from_json({"type": "union", "value": []})
