"""The limits of one transaction and one document, defined once for every engine.

The numbers follow Convex's documented limits, except where DynamoDB forces a tighter one: a DynamoDB item
holds at most 400 KB and a sort key at most 1,024 bytes, so documents and index keys are limited to what fits
on *every* engine. An app that stays within these limits on SQLite in development fits on DynamoDB in
production. The DynamoDB engine has one more, engine-specific ceiling — 100 items / 4 MB per
``TransactWriteItems`` — which it checks before calling AWS (docs/dynamodb.md).

Every check runs before anything is written and raises :class:`~authlib_core.errors.LimitExceededError`
with the limit, the amount used and what to do.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal

from authlib_core.errors import LimitExceededError

if TYPE_CHECKING:
    from collections.abc import Hashable

__all__ = ["Limits", "RangeKind", "TransactionUsage"]

_RANGE_NOUNS = {"get": "db.get", "write": "write (which reads its document by id)", "query": "query range"}


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """Per-transaction and per-document limits (Convex's, tightened where DynamoDB requires)."""

    #: Canonical encoded JSON of one document, system fields included (DynamoDB item: 400 KB incl. keys).
    max_document_bytes: int = 384 * 1024
    #: Encoded index key (DynamoDB sort key: 1,024 bytes).
    max_index_key_bytes: int = 1024
    #: Nesting depth of a document.
    max_document_depth: int = 16
    #: Documents scanned per transaction, including those a filter drops.
    max_documents_read: int = 32_000
    #: Bytes of documents scanned per transaction.
    max_bytes_read: int = 16 * 1024 * 1024
    #: Distinct index ranges read per transaction: each document read by id (``db.get``, and the read behind
    #: every ``db.patch`` / ``db.replace`` / ``db.delete`` of a stored document, as in Convex) and each query
    #: range. Reading the same document or the same range again does not count again.
    max_index_ranges: int = 4_096
    #: Documents inserted, patched, replaced or deleted per transaction.
    max_documents_written: int = 16_000
    #: Bytes of documents written per transaction.
    max_bytes_written: int = 16 * 1024 * 1024


#: What a read range was for, in the limit's message.
RangeKind = Literal["get", "write", "query"]

_RANGE_KINDS: tuple[tuple[RangeKind, str], ...] = (
    ("get", "documents read by id with db.get"),
    ("write", "documents read by id by db.patch / db.replace / db.delete (each reads the document it changes)"),
    ("query", "query index ranges"),
)


@dataclasses.dataclass(slots=True)
class TransactionUsage:
    """What one transaction has used so far; each ``add_*`` checks the matching limit first."""

    limits: Limits
    documents_read: int = 0
    bytes_read: int = 0
    index_ranges: int = 0
    ranges_by_kind: dict[RangeKind, int] = dataclasses.field(default_factory=dict)
    _seen_ranges: set[Hashable] = dataclasses.field(default_factory=set)

    def add_range(self, key: Hashable, kind: RangeKind) -> None:
        """Count the index range ``key`` (a document id, or a query's index and bounds) unless already read.

        Convex keeps a transaction's reads as a set of index intervals and limits how many distinct intervals
        it holds; reading the same document or range twice adds nothing.
        """
        if key in self._seen_ranges:
            return
        if self.index_ranges + 1 > self.limits.max_index_ranges:
            counted = ", ".join(f"{self.ranges_by_kind.get(name, 0):,} {label}" for name, label in _RANGE_KINDS)
            raise LimitExceededError(
                f"Too many reads in one transaction: the limit is {self.limits.max_index_ranges:,} distinct index "
                f"ranges, and this {_RANGE_NOUNS[kind]} would be one more. Counted so far: {counted}; reading the "
                "same document or range again does not count again. Split the work over several mutations (for "
                "example paginate the table and handle one page per mutation), or read documents together "
                "through one index range instead of one by one."
            )
        self._seen_ranges.add(key)
        self.index_ranges += 1
        self.ranges_by_kind[kind] = self.ranges_by_kind.get(kind, 0) + 1

    def add_read(self, size: int) -> None:
        """Count one scanned document of ``size`` bytes."""
        if self.documents_read + 1 > self.limits.max_documents_read:
            raise LimitExceededError(
                f"Too many documents read in one transaction: the limit is {self.limits.max_documents_read} "
                "(filtered-out documents count too). Use an index that narrows the range, or paginate."
            )
        if self.bytes_read + size > self.limits.max_bytes_read:
            raise LimitExceededError(
                f"Too much data read in one transaction: the limit is {self.limits.max_bytes_read} bytes. "
                "Use an index that narrows the range, or paginate."
            )
        self.documents_read += 1
        self.bytes_read += size

    def check_writes(self, count: int, size: int) -> None:
        """Check the totals of a transaction's writes before commit."""
        if count > self.limits.max_documents_written:
            raise LimitExceededError(
                f"Too many documents written in one transaction: {count}, the limit is "
                f"{self.limits.max_documents_written}. Split the work over several mutations."
            )
        if size > self.limits.max_bytes_written:
            raise LimitExceededError(
                f"Too much data written in one transaction: {size} bytes, the limit is "
                f"{self.limits.max_bytes_written}. Split the work over several mutations."
            )
