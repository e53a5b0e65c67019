"""define_schema / define_table: Convex's naming and limit rules and its export format."""

from __future__ import annotations

import pytest

from authlib_core.errors import SchemaDefinitionError
from authlib_core.schema import define_schema, define_table
from authlib_core.values import v


def test_export_matches_convex_schema_json() -> None:
    schema = define_schema(
        {"messages": define_table({"body": v.string(), "channel": v.id("channels")}).index("by_channel", ["channel"])}
    )
    assert schema.to_json() == {
        "tables": [
            {
                "tableName": "messages",
                "indexes": [{"indexDescriptor": "by_channel", "fields": ["channel"]}],
                "stagedDbIndexes": [],
                "searchIndexes": [],
                "stagedSearchIndexes": [],
                "vectorIndexes": [],
                "stagedVectorIndexes": [],
                "documentType": {
                    "type": "object",
                    "value": {
                        "body": {"fieldType": {"type": "string"}, "optional": False},
                        "channel": {"fieldType": {"type": "id", "tableName": "channels"}, "optional": False},
                    },
                },
            }
        ],
        "schemaValidation": True,
    }


def test_index_returns_a_new_definition_and_accepts_the_object_form() -> None:
    base = define_table({"a": v.string()})
    with_index = base.index("by_a", {"fields": ["a"]})
    assert base.indexes == ()
    assert [(i.name, i.fields) for i in with_index.indexes] == [("by_a", ("a",))]


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        ("by_id", ["a"], "reserved"),
        ("by_creation_time", ["a"], "reserved"),
        ("1bad", ["a"], "not a valid identifier"),
        ("_hidden", ["a"], "may not start with '_'"),
        ("by_a", [], "at least one field"),
        ("by_a", ["a", "a"], "twice"),
        ("by_a", ["_creationTime"], "automatically"),
        ("by_a", ["_id"], "not a valid field path"),
        ("by_a", ["a..b"], "not a valid field path"),
        ("by_a", "a", "list of field names"),
        ("by_a", [f"f{i}" for i in range(16)], "at most 15"),
    ],
)
def test_invalid_indexes_are_rejected(name: str, fields: object, message: str) -> None:
    with pytest.raises(SchemaDefinitionError, match=message):
        define_table({"a": v.string()}).index(name, fields)  # type: ignore[arg-type]


def test_duplicate_index_and_too_many_indexes() -> None:
    table = define_table({"a": v.string()}).index("by_a", ["a"])
    with pytest.raises(SchemaDefinitionError, match="declared twice"):
        table.index("by_a", ["a"])
    for i in range(31):
        table = table.index(f"i{i}", ["a"])
    with pytest.raises(SchemaDefinitionError, match="at most 32"):
        table.index("one_more", ["a"])


@pytest.mark.parametrize("shards", [0, 65, 1.5, True])
def test_shards_must_be_a_small_positive_integer(shards: object) -> None:
    with pytest.raises(SchemaDefinitionError, match="shards"):
        define_table({"a": v.string()}).index("by_a", ["a"], shards=shards)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["_users", "1table", "with-dash", "", "x" * 65, "__"])
def test_invalid_table_names(name: str) -> None:
    with pytest.raises(SchemaDefinitionError):
        define_schema({name: define_table({"a": v.string()})})


def test_table_value_must_be_a_table_definition() -> None:
    with pytest.raises(SchemaDefinitionError, match="wrap it in define_table"):
        define_schema({"t": {"a": v.string()}})  # type: ignore[dict-item]


def test_define_table_accepts_object_union_any_and_rejects_scalars() -> None:
    assert define_table(v.object({"a": v.string()})).validator is not None
    assert define_table(v.union(v.object({"k": v.literal("a")}), v.object({"k": v.literal("b")}))).validator is not None
    assert define_table(v.any()).validator is None
    assert define_table().validator is None
    with pytest.raises(SchemaDefinitionError, match="object validator"):
        define_table(v.string())
