"""Check a new schema against the documents already stored, before it takes over (what ``npx convex dev`` does).

A schema that stored documents do not match would let reads return documents that break it and make every later
write of those documents fail. :class:`StoredDocumentsCheck` reads the documents of each table whose validator
changed and refuses the schema, naming the first few documents by id and what is wrong with each; the dev server
then keeps serving the last schema that was accepted.

The work is bounded: a table whose validator is unchanged since it was last checked is skipped (every write since
was validated against it), and at most ``max_documents`` documents are read per check (the message says when the
check stopped short).

Example:
    >>> check = StoredDocumentsCheck()                          # doctest: +SKIP
    >>> report = check(Database(engine, new_schema, ...))         # doctest: +SKIP
    >>> report.checked, report.tables                           # doctest: +SKIP
    (120, ('todos',))
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Final

from authlib_core.errors import SchemaValidationError
from authlib_core.values import ValidatorMismatch

if TYPE_CHECKING:
    from collections.abc import Mapping

    from authlib_core.database.access import DatabaseReader
    from authlib_core.database.database import Database
    from authlib_core.database.query import PaginationResult
    from authlib_core.values import Validator

__all__ = ["MIGRATION_HINT", "CheckReport", "StoredDocumentsCheck"]

#: How to change the shape of stored data, appended to every refusal.
MIGRATION_HINT: Final = (
    "To change the shape of stored data: make the field optional (v.optional(...)), backfill the documents with "
    'an internal mutation (authlib-core run), then make it required; see "Changing a schema" in docs/database.md.'
)
_PAGE: Final = 256


@dataclasses.dataclass(frozen=True, slots=True)
class CheckReport:
    """What a passing check read: ``checked`` documents of ``tables`` (tables whose validator changed)."""

    checked: int
    tables: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class _Mismatch:
    table: str
    document_id: str
    problem: str


class StoredDocumentsCheck:
    """Refuses a schema that documents already stored do not match; remembers the validators it has accepted.

    Call it with a :class:`~authlib_core.database.Database` over the new schema *before* the stored indexes are
    brought in line with it (nothing is written either way).

    ``max_documents`` bounds the documents read per call; ``max_reported`` how many mismatches the message lists.
    """

    def __init__(self, *, max_documents: int = 100_000, max_reported: int = 5) -> None:
        self.max_documents = max_documents
        self.max_reported = max_reported
        self._accepted: dict[str, str] = {}  # table -> JSON of the validator its stored documents were checked against

    def __call__(self, database: Database) -> CheckReport:
        """Check ``database``'s stored documents against its schema.

        Raises:
            SchemaValidationError: some stored documents do not match; the message lists the first few by table,
                id and problem, and says how to migrate.
        """
        schema = database.schema
        if schema is None or not schema.schema_validation:
            return CheckReport(0, ())
        pending: dict[str, tuple[Validator, str]] = {}
        for table, definition in schema.tables.items():
            if definition.validator is None:
                continue
            fingerprint = json.dumps(definition.validator.to_json(), sort_keys=True)
            if self._accepted.get(table) != fingerprint:
                pending[table] = (definition.validator, fingerprint)
        mismatches: list[_Mismatch] = []
        checked = 0
        complete = True
        for table, (validator, _) in pending.items():
            cursor: str | None = None
            while True:
                if checked >= self.max_documents:
                    complete = False
                    break
                page = _read_page(database, table, cursor, min(_PAGE, self.max_documents - checked))
                for document in page["page"]:
                    checked += 1
                    problem = _problem(validator, document)
                    if problem is not None:
                        mismatches.append(_Mismatch(table, str(document["_id"]), problem))
                if page["isDone"] or not page["page"]:
                    break
                cursor = page["continueCursor"]
            if not complete:
                break
        if mismatches:
            raise SchemaValidationError(self._message(mismatches, checked, complete))
        for table, (_, fingerprint) in pending.items():
            self._accepted[table] = fingerprint
        return CheckReport(checked, tuple(pending))

    def _message(self, mismatches: list[_Mismatch], checked: int, complete: bool) -> str:
        count = len(mismatches)
        noun = "document does" if count == 1 else "documents do"
        scope = f"of the {checked} checked" if complete else f"of the first {checked} checked (the check stops there)"
        lines = [f"Schema refused: {count} stored {noun} not match it ({scope}); the previous schema stays in force."]
        for found in mismatches[: self.max_reported]:
            lines.append(f'  table "{found.table}", document {found.document_id}: {found.problem}')
        if count > self.max_reported:
            lines.append(f"  ... and {count - self.max_reported} more")
        lines.append(MIGRATION_HINT)
        return "\n".join(lines)


def _read_page(database: Database, table: str, cursor: str | None, size: int) -> PaginationResult:
    def read(reader: DatabaseReader) -> PaginationResult:
        return reader.query(table).paginate({"numItems": size, "cursor": cursor})

    return database.run_query(read)


def _problem(validator: Validator, document: Mapping[str, object]) -> str | None:
    fields = {key: value for key, value in document.items() if key not in ("_id", "_creationTime")}
    try:
        validator.validate(fields)
    except ValidatorMismatch as exc:
        return exc.message
    return None
