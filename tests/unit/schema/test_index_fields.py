"""An index over a field the table's documents can never have is a schema error (Convex's rule)."""

from __future__ import annotations

import pytest

from authlib_core import define_schema, define_table, v
from authlib_core.errors import SchemaDefinitionError
from authlib_core.schema import can_contain_field


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"author": v.string()}, "author"),
        ({"author": v.optional(v.string())}, "author"),  # optional fields may be indexed
        ({"meta": v.object({"owner": v.string()})}, "meta.owner"),
        ({"meta": v.optional(v.object({"owner": v.optional(v.string())}))}, "meta.owner"),
        ({"meta": v.any()}, "meta.owner.name"),  # anything below v.any() may exist
        ({"meta": v.union(v.null(), v.object({"owner": v.string()}))}, "meta.owner"),  # one union member has it
        (v.union(v.object({"kind": v.literal("a"), "x": v.string()}), v.object({"kind": v.literal("b")})), "x"),
        (v.any(), "anything"),
        (None, "anything"),
    ],
)
def test_indexes_over_fields_the_documents_can_have_are_accepted(document: object, field: str) -> None:
    table = define_table(document).index("by_field", [field])  # type: ignore[arg-type]
    assert define_schema({"posts": table}).tables["posts"].indexes[0].fields == (field,)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"author": v.string()}, "auther"),
        ({"author": v.string()}, "author.name"),  # a string has no fields
        ({"meta": v.record(v.string(), v.string())}, "meta.owner"),  # Convex: a record's keys are not fields
        ({"meta": v.array(v.object({"owner": v.string()}))}, "meta.owner"),
        ({"meta": v.union(v.null(), v.string())}, "meta.owner"),
        (v.union(v.object({"kind": v.literal("a")}), v.object({"kind": v.literal("b")})), "x"),
    ],
)
def test_an_index_over_a_field_that_cannot_exist_is_a_load_error(document: object, field: str) -> None:
    table = define_table(document).index("by_field", [field])  # type: ignore[arg-type]
    with pytest.raises(SchemaDefinitionError) as info:
        define_schema({"posts": table})
    assert info.value.message == (
        f'In table "posts" the index "by_field" is invalid because it references the field {field} that does not '
        "exist. Add the field to the table's validator (v.optional(...) if stored documents lack it) or remove it "
        "from the index."
    )


def test_without_schema_validation_indexes_are_not_checked() -> None:
    table = define_table({"a": v.string()}).index("by_b", ["b"])
    assert define_schema({"t": table}, schema_validation=False).tables["t"].indexes[0].fields == ("b",)


def test_can_contain_field_follows_convex() -> None:
    nested = v.object({"a": v.optional(v.object({"b": v.union(v.string(), v.object({"c": v.any()}))}))})
    assert can_contain_field(nested, ["a", "b", "c", "d"])
    assert can_contain_field(nested, [])
    assert not can_contain_field(nested, ["a", "x"])
