"""What the database knows about tables: their indexes (as engines see them) and how documents are checked.

Built once from the app's :class:`~authlib_core.schema.Schema` (or from nothing, for schemaless apps).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from authlib_core.database.interface import BY_CREATION_TIME, BY_ID, IndexSpec
from authlib_core.database.system_tables import SYSTEM_INDEXES
from authlib_core.errors import InvalidQueryError, InvalidValueError, SchemaDefinitionError, SchemaValidationError
from authlib_core.schema import Schema, validate_identifier
from authlib_core.values import ValidatorMismatch, Value, decode_id, table_number, to_value

if TYPE_CHECKING:
    from authlib_core.database.limits import Limits

__all__ = ["SYSTEM_FIELDS", "Catalog"]

SYSTEM_FIELDS = ("_id", "_creationTime")
_MAX_ARRAY = 8192
_MAX_FIELDS = 1024
_MAX_TOP_LEVEL_FIELD = 64


class Catalog:
    """Index specs per table, table names per id, and document validation."""

    __slots__ = ("_indexes", "_limits", "_table_numbers", "schema")

    def __init__(self, schema: Schema | None, limits: Limits) -> None:
        self.schema = schema
        self._limits = limits
        self._indexes: dict[str, dict[str, IndexSpec]] = {}
        self._table_numbers: dict[int, str] = {}
        if schema is not None:
            for name in schema.tables:
                self._register(name)
        for name, indexes in SYSTEM_INDEXES.items():
            self._register(name, indexes)

    def _register(self, table: str, system_indexes: dict[str, tuple[str, ...]] | None = None) -> dict[str, IndexSpec]:
        specs: dict[str, IndexSpec] = {}
        definition = self.schema.table(table) if self.schema is not None and system_indexes is None else None
        shards = definition.creation_time_shards if definition is not None else 1
        specs[BY_CREATION_TIME] = IndexSpec(table=table, name=BY_CREATION_TIME, fields=(), shards=shards)
        if definition is not None:
            for index in definition.indexes:
                specs[index.name] = IndexSpec(table=table, name=index.name, fields=index.fields, shards=index.shards)
        for name, fields in (system_indexes or {}).items():
            specs[name] = IndexSpec(table=table, name=name, fields=fields)
        number = table_number(table)
        other = self._table_numbers.get(number)
        if other is not None and other != table:
            raise SchemaDefinitionError(
                f"tables {other!r} and {table!r} hash to the same table number; rename one of them."
            )
        self._table_numbers[number] = table
        self._indexes[table] = specs
        return specs

    def check_table_name(self, table: object) -> str:
        """Validate a table name used by a write or a query; raise a clear error otherwise."""
        if not isinstance(table, str):
            raise InvalidQueryError(f"A table name must be a string, got {type(table).__name__}.")
        if table.startswith("_"):
            raise InvalidQueryError(
                f"System tables (prefixed with '_') are read-only: {table!r}. Read them with "
                "ctx.db.system.get(id) / ctx.db.system.query(table)."
            )
        if self.schema is not None and table not in self.schema.tables:
            raise InvalidQueryError(
                f"Table {table!r} is not declared in the schema. Add it to functions/schema.py with "
                f"define_table(...), or check the spelling (declared: {sorted(self.schema.tables)})."
            )
        try:
            validate_identifier(table, "table name")
        except SchemaDefinitionError as exc:
            raise InvalidQueryError(exc.message) from None
        return table

    def check_system_table_name(self, table: object) -> str:
        """Validate the name of a system table read through ``ctx.db.system``."""
        if not isinstance(table, str) or table not in SYSTEM_INDEXES:
            raise InvalidQueryError(
                f"{table!r} is not a system table; ctx.db.system reads {sorted(SYSTEM_INDEXES)}. Read the app's "
                "own tables with ctx.db.query(table)."
            )
        return table

    def indexes(self, table: str) -> dict[str, IndexSpec]:
        """Every index of ``table`` by name, ``by_creation_time`` included."""
        specs = self._indexes.get(table)
        return specs if specs is not None else self._register(table)

    def all_indexes(self) -> list[IndexSpec]:
        """Every index of every declared table (what :meth:`StorageEngine.ensure_indexes` expects)."""
        return [spec for table in sorted(self._indexes) for spec in self._indexes[table].values()]

    def index(self, table: str, name: str) -> IndexSpec:
        """The index ``name`` of ``table``; raises :class:`InvalidQueryError` naming the available ones."""
        if name == BY_ID:
            raise InvalidQueryError(
                f"Index {table}.by_id cannot be used in a query; fetch a document by id with db.get(id)."
            )
        specs = self.indexes(table)
        spec = specs.get(name)
        if spec is None:
            raise InvalidQueryError(
                f"Index {table}.{name} not found. Indexes of {table!r}: {sorted(specs)}. Declare it with "
                f"define_table(...).index({name!r}, [...]) in functions/schema.py."
            )
        return spec

    def table_of_id(self, document_id: str) -> str | None:
        """The table an id belongs to, when that table is known to this catalog."""
        number = decode_id(document_id)
        return None if number is None else self._table_numbers.get(number)

    def validate_document(self, table: str, document: object) -> dict[str, Value]:
        """Check and normalise a document (without system fields) about to be written to ``table``.

        Raises:
            SchemaValidationError: the document breaks the table's validator or Convex's document rules; the
                message names the table, the field path and what was expected.
        """
        if not isinstance(document, Mapping):
            raise SchemaValidationError(
                f"Failed to write to table {table!r}: a document must be a dict, got {type(document).__name__}."
            )
        for key in document:
            if not isinstance(key, str):
                raise SchemaValidationError(f"Failed to write to table {table!r}: field name {key!r} is not a string.")
            if key in SYSTEM_FIELDS:
                raise SchemaValidationError(
                    f"Failed to write to table {table!r}: {key} is a system field set by the database; remove it."
                )
            if not key or key.startswith("_") or key.startswith("$") or len(key) > _MAX_TOP_LEVEL_FIELD:
                raise SchemaValidationError(
                    f"Failed to write to table {table!r}: field name {key!r} is not allowed (top-level field names "
                    f"are 1 to {_MAX_TOP_LEVEL_FIELD} characters and may not start with '_' or '$')."
                )
        definition = self.schema.table(table) if self.schema is not None else None
        try:
            if (
                definition is not None
                and definition.validator is not None
                and self.schema is not None
                and self.schema.schema_validation
            ):
                value = definition.validator.validate(dict(document))
            else:
                value = to_value(dict(document))
        except ValidatorMismatch as exc:
            raise SchemaValidationError(
                f"Failed to insert or update a document in table {table!r} because it does not match the schema: "
                f"{exc.message}"
            ) from None
        except InvalidValueError as exc:
            raise SchemaValidationError(f"Failed to write to table {table!r}: {exc.message}") from None
        if not isinstance(value, dict):
            raise SchemaValidationError(f"Failed to write to table {table!r}: a document must be an object.")
        self._check_shape(table, value, depth=1, path="")
        return value

    def _check_shape(self, table: str, value: Value, *, depth: int, path: str) -> None:
        if depth > self._limits.max_document_depth:
            raise SchemaValidationError(
                f"Failed to write to table {table!r}: the document is nested more than "
                f"{self._limits.max_document_depth} levels deep at {path or '.'}."
            )
        if isinstance(value, dict):
            if len(value) > _MAX_FIELDS:
                raise SchemaValidationError(
                    f"Failed to write to table {table!r}: the object at {path or '.'} has {len(value)} fields; "
                    f"the limit is {_MAX_FIELDS}."
                )
            for key, item in value.items():
                self._check_shape(table, item, depth=depth + 1, path=f"{path}.{key}")
        elif isinstance(value, list):
            if len(value) > _MAX_ARRAY:
                raise SchemaValidationError(
                    f"Failed to write to table {table!r}: the array at {path or '.'} has {len(value)} elements; "
                    f"the limit is {_MAX_ARRAY}."
                )
            for position, item in enumerate(value):
                self._check_shape(table, item, depth=depth + 1, path=f"{path}[{position}]")
