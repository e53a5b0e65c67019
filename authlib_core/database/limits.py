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

from authlib_core.errors import LimitExceededError

__all__ = ["Limits", "TransactionUsage"]


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
    #: ``db.get`` calls plus ``db.query`` ranges per transaction.
    max_index_ranges: int = 4_096
    #: Documents inserted, patched, replaced or deleted per transaction.
    max_documents_written: int = 16_000
    #: Bytes of documents written per transaction.
    max_bytes_written: int = 16 * 1024 * 1024


@dataclasses.dataclass(slots=True)
class TransactionUsage:
    """What one transaction has used so far; each ``add_*`` checks the matching limit first."""

    limits: Limits
    documents_read: int = 0
    bytes_read: int = 0
    index_ranges: int = 0

    def add_range(self) -> None:
        """Count one ``get`` or one query range."""
        if self.index_ranges + 1 > self.limits.max_index_ranges:
            raise LimitExceededError(
                f"Too many index ranges read in one transaction: the limit is {self.limits.max_index_ranges} "
                "db.get/db.query calls. Read fewer documents one by one, or use an index range that returns them "
                "together."
            )
        self.index_ranges += 1

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
