"""The document database: ``ctx.db`` and the transactions behind it.

Layer 3. The interface (:mod:`~authlib_core.database.interface`) is what engines implement; everything
else here is engine-neutral and shared by every engine. Concrete engines live in
:mod:`authlib_core.database.engines` and are chosen by the composition root (``authlib_core.runtime``).
"""

from __future__ import annotations

from authlib_core.database.access import DatabaseReader, DatabaseWriter
from authlib_core.database.database import Database, RetryPolicy, TransactionStats
from authlib_core.database.filters import Expression, FilterBuilder
from authlib_core.database.interface import StorageEngine
from authlib_core.database.limits import Limits
from authlib_core.database.pagination import PaginationResult
from authlib_core.database.query import Query, QueryInitializer
from authlib_core.database.ranges import IndexRangeBuilder

__all__ = [
    "Database",
    "DatabaseReader",
    "DatabaseWriter",
    "Expression",
    "FilterBuilder",
    "IndexRangeBuilder",
    "Limits",
    "PaginationResult",
    "Query",
    "QueryInitializer",
    "RetryPolicy",
    "StorageEngine",
    "TransactionStats",
]
