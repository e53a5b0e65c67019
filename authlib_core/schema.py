"""Schemas: ``define_schema`` and ``define_table(...).index(...)``, with Convex's naming and limit rules.

Example:
    >>> from authlib_core import define_schema, define_table, v
    >>> schema = define_schema({
    ...     "messages": define_table({"channel": v.string(), "body": v.string()})
    ...     .index("by_channel", ["channel"]),
    ... })
    >>> [i.name for i in schema.tables["messages"].indexes]
    ['by_channel']

Every table also has the built-in indexes ``by_creation_time`` and ``by_id``; every index ends with
``_creationTime``. Documents written to a table are validated against its validator when the schema
has ``schema_validation=True`` (the default); writing to a table the schema does not declare is an error.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from authlib_core.errors import SchemaDefinitionError
from authlib_core.values import JSONValue, Validator, as_object_validator
from authlib_core.values.compound_validators import VObject, VOptional, VUnion

__all__ = [
    "can_contain_field",
    "MAX_FIELDS_PER_INDEX",
    "MAX_INDEXES_PER_TABLE",
    "MAX_TABLES",
    "RESERVED_INDEX_NAMES",
    "IndexDefinition",
    "Schema",
    "TableDefinition",
    "define_schema",
    "define_table",
    "validate_identifier",
]

MAX_TABLES = 10_000
MAX_INDEXES_PER_TABLE = 32
#: Including the implicit ``_creationTime``.
MAX_FIELDS_PER_INDEX = 16
MAX_SHARDS = 64
RESERVED_INDEX_NAMES = frozenset({"by_id", "by_creation_time"})

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}\Z")


def validate_identifier(name: object, what: str) -> str:
    """Check Convex's identifier rule and return ``name``.

    Letters, digits and underscores, starting with a letter or underscore, at most 64 characters, not all
    underscores.

    Raises:
        SchemaDefinitionError: the name breaks the rule; the message names ``what`` it was for.

    Example:
        >>> validate_identifier("myData", "table name")
        'myData'
    """
    if not isinstance(name, str) or not _IDENTIFIER.match(name) or set(name) == {"_"}:
        raise SchemaDefinitionError(
            f"{what} {name!r} is not a valid identifier: use letters, digits and underscores, start with a "
            "letter or underscore, at most 64 characters, not only underscores."
        )
    return name


@dataclasses.dataclass(frozen=True, slots=True)
class IndexDefinition:
    """One user-declared index: its name, fields (dotted paths allowed) and DynamoDB shard count."""

    name: str
    fields: tuple[str, ...]
    shards: int = 1

    def to_json(self) -> dict[str, JSONValue]:
        """Convex's export form (``{"indexDescriptor", "fields"}``); ``_creationTime`` is implicit."""
        return {"indexDescriptor": self.name, "fields": list(self.fields)}


@dataclasses.dataclass(frozen=True, slots=True)
class TableDefinition:
    """A table: the validator of its documents (None = any document) and its indexes.

    Built by :func:`define_table`; ``.index()`` returns a new definition with one more index.
    """

    validator: Validator | None
    indexes: tuple[IndexDefinition, ...] = ()
    creation_time_shards: int = 1

    def index(self, name: str, fields: Sequence[str] | Mapping[str, Any], *, shards: int = 1) -> TableDefinition:
        """Declare an index over ``fields`` (in order); results are ordered by them, then ``_creationTime``.

        ``shards`` only matters on DynamoDB, which spreads every index over at least 16 partition keys; a larger
        value spreads it further, so concurrent inserts meet less (see docs/dynamodb.md, section 6). Queries
        that fix the first field with ``q.eq`` read one partition; other ranges read every partition.

        Example:
            >>> t = define_table({"userId": v.string(), "text": v.string()}).index("by_user", ["userId"])
            >>> t.indexes[0].fields
            ('userId',)

        Common mistake: adding ``"_creationTime"`` yourself — it is already the last field of every index.
        """
        if isinstance(fields, Mapping):
            if set(fields) - {"fields", "staged"}:
                raise SchemaDefinitionError(
                    f"index {name!r}: unknown options {sorted(set(fields) - {'fields', 'staged'})}"
                )
            if fields.get("staged"):
                raise SchemaDefinitionError(f"index {name!r}: staged indexes are not supported")
            fields = fields.get("fields", ())
        validate_identifier(name, "index name")
        if name in RESERVED_INDEX_NAMES:
            raise SchemaDefinitionError(f"index name {name!r} is reserved for the built-in index; choose another name.")
        if name.startswith("_"):
            raise SchemaDefinitionError(f"index name {name!r} may not start with '_'.")
        if any(existing.name == name for existing in self.indexes):
            raise SchemaDefinitionError(f"index {name!r} is declared twice on the same table.")
        if len(self.indexes) >= MAX_INDEXES_PER_TABLE:
            raise SchemaDefinitionError(
                f"a table may have at most {MAX_INDEXES_PER_TABLE} indexes; {name!r} is one too many."
            )
        if isinstance(fields, str) or not isinstance(fields, Sequence):
            raise SchemaDefinitionError(f"index {name!r}: fields must be a list of field names, got {fields!r}.")
        field_tuple = tuple(fields)
        if not field_tuple:
            raise SchemaDefinitionError(f"index {name!r} needs at least one field.")
        if len(field_tuple) + 1 > MAX_FIELDS_PER_INDEX:
            raise SchemaDefinitionError(
                f"index {name!r} has {len(field_tuple)} fields; at most {MAX_FIELDS_PER_INDEX - 1} are allowed "
                "(every index also ends with _creationTime)."
            )
        if len(set(field_tuple)) != len(field_tuple):
            raise SchemaDefinitionError(f"index {name!r} lists a field twice: {list(field_tuple)}.")
        for field in field_tuple:
            if not isinstance(field, str) or not field:
                raise SchemaDefinitionError(f"index {name!r}: field names must be non-empty strings, got {field!r}.")
            if field == "_creationTime":
                raise SchemaDefinitionError(
                    f"index {name!r}: _creationTime is added to every index automatically; remove it from the fields."
                )
            for part in field.split("."):
                if not part or part.startswith("_") or part.startswith("$"):
                    raise SchemaDefinitionError(
                        f"index {name!r}: field {field!r} is not a valid field path (parts may not be empty or "
                        "start with '_' or '$')."
                    )
        _check_shards(shards, f"index {name!r}")
        return dataclasses.replace(self, indexes=(*self.indexes, IndexDefinition(name, field_tuple, shards)))

    def with_creation_time_shards(self, shards: int) -> TableDefinition:
        """Spread the built-in ``by_creation_time`` index over ``shards`` DynamoDB partition keys (at least 16).

        Every insert and delete writes that index; more partitions spread them further, at the cost of reading
        every partition for a full-table ``query(table)``.
        """
        _check_shards(shards, "by_creation_time")
        return dataclasses.replace(self, creation_time_shards=shards)

    def index_named(self, name: str) -> IndexDefinition | None:
        """The user index called ``name``, or None."""
        for index in self.indexes:
            if index.name == name:
                return index
        return None

    def to_json(self, table_name: str) -> dict[str, JSONValue]:
        """Convex's ``schema.export()`` form of this table."""
        document_type: JSONValue = self.validator.to_json() if self.validator is not None else {"type": "any"}
        return {
            "tableName": table_name,
            "indexes": [index.to_json() for index in self.indexes],
            "stagedDbIndexes": [],
            "searchIndexes": [],
            "stagedSearchIndexes": [],
            "vectorIndexes": [],
            "stagedVectorIndexes": [],
            "documentType": document_type,
        }


def _check_shards(shards: object, what: str) -> None:
    if not isinstance(shards, int) or isinstance(shards, bool) or not 1 <= shards <= MAX_SHARDS:
        raise SchemaDefinitionError(f"{what}: shards must be an integer from 1 to {MAX_SHARDS}, got {shards!r}.")


def define_table(document: Mapping[str, Validator] | Validator | None = None) -> TableDefinition:
    """Declare a table whose documents match ``document``.

    ``document`` is a dict of field validators (like ``v.object``), a ``v.object``/``v.union`` of objects, or
    ``v.any()`` / None for documents of any shape. System fields ``_id`` and ``_creationTime`` are implicit.

    Example:
        >>> t = define_table({"userId": v.id("users"), "text": v.string()})
        >>> t.validator.to_json()["type"]
        'object'
    """
    if document is None:
        return TableDefinition(validator=None)
    if isinstance(document, Mapping):
        return TableDefinition(validator=as_object_validator(document))
    if isinstance(document, Validator):
        kind = document.to_json().get("type")
        if kind not in ("object", "union", "any"):
            raise SchemaDefinitionError(
                f"define_table expects an object validator (or a dict of field validators), a union of objects or "
                f"v.any(); got {document!r}."
            )
        return TableDefinition(validator=document if kind != "any" else None)
    raise SchemaDefinitionError(
        f"define_table expects a dict of validators or a validator, got {type(document).__name__}."
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Schema:
    """A set of tables. Build it with :func:`define_schema`."""

    tables: Mapping[str, TableDefinition]
    schema_validation: bool = True
    strict_table_name_types: bool = True

    def table(self, name: str) -> TableDefinition | None:
        """The definition of table ``name``, or None when the schema does not declare it."""
        return self.tables.get(name)

    def to_json(self) -> dict[str, JSONValue]:
        """Convex's ``schema.export()`` JSON."""
        return {
            "tables": [definition.to_json(name) for name, definition in self.tables.items()],
            "schemaValidation": self.schema_validation,
        }


def define_schema(
    tables: Mapping[str, TableDefinition],
    *,
    schema_validation: bool = True,
    strict_table_name_types: bool = True,
) -> Schema:
    """Declare the tables of the app (``functions/schema.py`` exports it as ``schema``).

    Example:
        >>> from authlib_core.auth import auth_tables
        >>> schema = define_schema({**auth_tables, "myData": define_table({"text": v.string()})})
        >>> "users" in schema.tables
        True

    Raises:
        SchemaDefinitionError: a table name is invalid, starts with ``_``, or a value is not a table.
    """
    if not isinstance(tables, Mapping):
        raise SchemaDefinitionError("define_schema expects a dict of table name -> define_table(...).")
    if len(tables) > MAX_TABLES:
        raise SchemaDefinitionError(f"a schema may declare at most {MAX_TABLES} tables.")
    for name, definition in tables.items():
        validate_identifier(name, "table name")
        if name.startswith("_"):
            raise SchemaDefinitionError(f"table name {name!r} may not start with '_' (reserved for system tables).")
        if not isinstance(definition, TableDefinition):
            raise SchemaDefinitionError(
                f"table {name!r}: expected define_table(...), got {type(definition).__name__}. "
                "Common mistake: passing the dict of fields directly; wrap it in define_table()."
            )
    if schema_validation:
        for name, definition in tables.items():
            _check_index_fields(name, definition)
    return Schema(
        tables=dict(tables),
        schema_validation=schema_validation,
        strict_table_name_types=strict_table_name_types,
    )


def _check_index_fields(table: str, definition: TableDefinition) -> None:
    """Refuse an index over a field no document of the table can have (Convex's ``check_index_references``)."""
    if definition.validator is None:
        return
    for index in definition.indexes:
        for field in index.fields:
            if not can_contain_field(definition.validator, field.split(".")):
                raise SchemaDefinitionError(
                    f'In table "{table}" the index "{index.name}" is invalid because it references the field {field} '
                    "that does not exist. Add the field to the table's validator (v.optional(...) if stored "
                    "documents lack it) or remove it from the index."
                )


def can_contain_field(validator: Validator, path: Sequence[str]) -> bool:
    """Whether a value ``validator`` accepts can have a field at ``path`` (``["a", "b"]`` for ``a.b``).

    Convex's rule: ``v.any()`` can have any field; a union can when one of its members can; an object can when it
    declares the first part (optional or not) and that field's validator can have the rest; nothing else (a record,
    a scalar, an array) can.

    Example:
        >>> from authlib_core import v
        >>> can_contain_field(v.object({"a": v.optional(v.object({"b": v.string()}))}), ["a", "b"])
        True
        >>> can_contain_field(v.object({"a": v.record(v.string(), v.string())}), ["a", "b"])
        False
    """
    if not path or validator.kind == "any":
        return True
    if isinstance(validator, VOptional):
        return can_contain_field(validator.inner, path)
    if isinstance(validator, VUnion):
        return any(can_contain_field(member, path) for member in validator.members)
    if isinstance(validator, VObject):
        field = validator.fields.get(path[0])
        return field is not None and can_contain_field(field, path[1:])
    return False
