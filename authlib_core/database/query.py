"""``ctx.db.query(table)``: index ranges, order, filters, and the terminal methods.

Query objects are immutable: every builder method returns a new query, and a query can be run any number of
times. Results come in index order (index fields, then ``_creationTime``); without ``with_index`` the built-in
``by_creation_time`` index is used.

Example:
    >>> ctx.db.query("messages").with_index("by_channel", lambda q: q.eq("channel", "general")) \\
    ...     .order("desc").take(10)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import TYPE_CHECKING, Any

from authlib_core.database.filters import MAX_FILTER_OPERATORS, Expression, FilterBuilder, as_boolean, as_predicate
from authlib_core.database.interface import BY_CREATION_TIME, IndexSpec, Order
from authlib_core.database.journal import current_journal
from authlib_core.database.pagination import (
    PageLimits,
    PageStatus,
    PaginationOptions,
    PaginationResult,
    read_page,
    whole_number,
)
from authlib_core.database.ranges import IndexRangeBuilder, RangeOp, compile_range
from authlib_core.display import missing_attribute
from authlib_core.errors import InvalidQueryError, LimitExceededError
from authlib_core.values import JSONValue, Value, dumps

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from authlib_core.database.cursors import CursorCodec
    from authlib_core.database.transaction import Scan, Transaction

__all__ = ["PaginationResult", "Query", "QueryInitializer"]


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    table: str
    index: IndexSpec
    ops: tuple[RangeOp, ...] = ()
    order: Order = "asc"
    order_set: bool = False
    filters: tuple[Expression, ...] = ()


class Query:
    """An index range with an order and filters; run it with a terminal method or iterate it."""

    __slots__ = ("_codec", "_plan", "_tx")

    def __init__(self, tx: Transaction, plan: _Plan, codec: CursorCodec) -> None:
        self._tx = tx
        self._plan = plan
        self._codec = codec

    if not TYPE_CHECKING:  # invisible to mypy: a misspelt method stays a type error

        def __getattr__(self, name: str) -> object:
            raise missing_attribute(self, name)  # `withIndex` says it is `with_index` here

    # -- builders --------------------------------------------------------------------------------------
    def order(self, order: str) -> Query:
        """``"asc"`` (default) or ``"desc"`` index order. At most once per query."""
        if order not in ("asc", "desc"):
            raise InvalidQueryError(f'order() expects "asc" or "desc", got {order!r}.')
        if self._plan.order_set:
            raise InvalidQueryError("order() was called twice on the same query; call it once.")
        return Query(self._tx, dataclasses.replace(self._plan, order=order, order_set=True), self._codec)  # type: ignore[arg-type]

    def filter(self, predicate: Callable[[FilterBuilder], Expression]) -> Query:
        """Keep documents for which ``predicate(q)`` is true; filtered-out documents still count as read.

        Example:
            >>> query.filter(lambda q: q.eq(q.field("done"), False))  # doctest: +SKIP

        Common mistake: filtering where an index range would do — a filter reads every document of the range.
        """
        if not callable(predicate):
            raise InvalidQueryError(
                f"filter() expects a function of q (for example lambda q: q.eq(q.field('done'), False)), got "
                f"{type(predicate).__name__}."
            )
        expression = as_predicate(predicate(FilterBuilder()))
        filters = (*self._plan.filters, expression)
        if len(filters) > MAX_FILTER_OPERATORS:
            raise InvalidQueryError(
                f"Can't construct query with more than {MAX_FILTER_OPERATORS} operators: this query calls "
                "filter() too many times. Combine the conditions with q.and_(...) in one filter."
            )
        return Query(self._tx, dataclasses.replace(self._plan, filters=filters), self._codec)

    # -- execution -------------------------------------------------------------------------------------
    def _fingerprint(self) -> bytes:
        plan = self._plan
        description: dict[str, JSONValue] = {
            "table": plan.table,
            "index": plan.index.name,
            "range": [op.to_json() for op in plan.ops],
            "order": plan.order,
            "filters": [f.to_json() for f in plan.filters],
        }
        return hashlib.sha256(dumps(description).encode()).digest()

    def _matches(self, document: Mapping[str, Value]) -> bool:
        return all(as_boolean(f.evaluate(document)) for f in self._plan.filters)

    def _scan(self, *, after: bytes | None = None, stop: bytes | None = None, batch_hint: int = 100) -> Scan:
        key_range = compile_range(self._plan.index, self._plan.ops)
        return self._tx.scan(key_range, self._plan.order, after=after, stop=stop, batch_hint=batch_hint)

    def __iter__(self) -> Iterator[dict[str, Value]]:
        scan = self._scan()
        while (item := scan.next()) is not None:
            if self._matches(item[1]):
                yield item[1]

    def take(self, n: float) -> list[dict[str, Value]]:
        """The first ``n`` matching documents.

        ``n`` is a non-negative whole number; a float with no fractional part (``3.0``, what a JSON number
        argument such as ``v.number()`` arrives as) counts as that integer, as in Convex.

        Example:
            >>> ctx.db.query("messages").order("desc").take(args["limit"])  # doctest: +SKIP
        """
        n = whole_number(n, "take()", "n")
        if n == 0:
            return []
        results: list[dict[str, Value]] = []
        scan = self._scan(batch_hint=n if not self._plan.filters else max(n, 100))
        while len(results) < n and (item := scan.next()) is not None:
            if self._matches(item[1]):
                results.append(item[1])
        return results

    def collect(self) -> list[dict[str, Value]]:
        """Every matching document. Prefer ``take`` or ``paginate`` for ranges that can grow large."""
        return list(self)

    def first(self) -> dict[str, Value] | None:
        """The first matching document, or None."""
        found = self.take(1)
        return found[0] if found else None

    def unique(self) -> dict[str, Value] | None:
        """The only matching document, or None; an error if there are several."""
        found = self.take(2)
        if len(found) > 1:
            raise InvalidQueryError(
                f"unique() query returned more than one result from table {self._plan.table!r}: "
                f"[{found[0]['_id']!s}, {found[1]['_id']!s}, ...]"
            )
        return found[0] if found else None

    def paginate(self, options: Mapping[str, Any]) -> PaginationResult:
        """One page: ``{"numItems": n, "cursor": None | str}`` →
        ``{"page", "isDone", "continueCursor", "splitCursor", "pageStatus"}``.

        Pass the returned ``continueCursor`` as ``cursor`` to get the next page; cursors only work with the same
        query. Convex's optional ``endCursor`` (the page is everything up to that position, inclusive, and
        continues from there), ``maximumRowsRead`` and ``maximumBytesRead`` (end the page early with
        ``pageStatus: "SplitRequired"``) work as in Convex; see :mod:`authlib_core.database.pagination`.

        Example:
            >>> ctx.db.query("messages").order("desc").paginate({"numItems": 20, "cursor": None})  # doctest: +SKIP
        """
        limits = self._tx.limits
        opts = PaginationOptions.parse(options, max_items=limits.max_documents_read)
        journal = current_journal()
        if journal is None or journal.used:
            return self._paginate(opts)
        # a live query's first paginate(): re-runs keep the page's end where the first run put it
        journal.used = True
        if opts.end_cursor is None and journal.end_cursor is not None:
            opts = dataclasses.replace(opts, end_cursor=journal.end_cursor)
        result = self._paginate(opts)
        journal.record(result["continueCursor"])
        return result

    def _paginate(self, opts: PaginationOptions) -> PaginationResult:
        limits = self._tx.limits
        fingerprint = self._fingerprint()
        start = self._codec.open(opts.cursor, fingerprint) if opts.cursor is not None else None
        end = self._codec.open(opts.end_cursor, fingerprint) if opts.end_cursor is not None else None
        bounded = opts.end_cursor is not None
        if opts.cursor is not None and start is None:  # the cursor is "end": nothing is left after it
            continue_at = end if bounded else None
            return self._page_result(fingerprint, [], continue_at, done=continue_at is None, split=None, status=None)
        batch = opts.num_items + 1 if not self._plan.filters and not bounded else max(opts.num_items + 1, 100)
        try:
            scan = self._scan(after=start, stop=end, batch_hint=batch)
        except LimitExceededError:  # the index-range limit: as in Convex, a page that has a position ends there
            if start is None:
                raise
            at = end if bounded else start
            return self._page_result(
                fingerprint, [], at, done=bounded and end is None, split=None, status="SplitRequired"
            )
        page, exhausted, split, status = read_page(
            scan,
            self._matches,
            opts,
            bounded=bounded,
            limits=PageLimits(documents_read=limits.max_documents_read, bytes_read=limits.max_bytes_read),
        )
        if bounded:  # the page ends at endCursor whatever was read: the next page starts there
            result = self._page_result(fingerprint, page, end, done=end is None, split=split, status=status)
            assert opts.end_cursor is not None
            result["continueCursor"] = opts.end_cursor  # the very string given: a re-run returns the same page
            return result
        continue_at = None if exhausted else scan.last_key
        return self._page_result(fingerprint, page, continue_at, done=exhausted, split=split, status=status)

    def _page_result(
        self,
        fingerprint: bytes,
        page: list[dict[str, Value]],
        continue_at: bytes | None,
        *,
        done: bool,
        split: bytes | None,
        status: PageStatus | None,
    ) -> PaginationResult:
        return {
            "page": page,
            "isDone": done,
            "continueCursor": self._codec.seal(fingerprint, continue_at),
            "splitCursor": self._codec.seal(fingerprint, split) if split is not None else None,
            "pageStatus": status,
        }


class QueryInitializer(Query):
    """``db.query(table)``: choose an index with ``with_index``, or use ``by_creation_time``."""

    __slots__ = ()

    def __init__(self, tx: Transaction, table: str, codec: CursorCodec, *, system: bool = False) -> None:
        table = tx.catalog.check_system_table_name(table) if system else tx.catalog.check_table_name(table)
        super().__init__(tx, _Plan(table=table, index=tx.catalog.index(table, BY_CREATION_TIME)), codec)

    def with_index(
        self, name: str, range_expression: Callable[[IndexRangeBuilder], IndexRangeBuilder] | None = None
    ) -> Query:
        """Read the index ``name``, restricted by ``range_expression`` (``q.eq`` ... ``q.gt``/``q.lt``).

        Example:
            >>> ctx.db.query("myData").with_index("by_user", lambda q: q.eq("userId", user_id))  # doctest: +SKIP

        Common mistake: ``q.gt`` on a field before every earlier index field is fixed by ``q.eq`` — Convex
        ranges need eq on a prefix of the index fields first.
        """
        table = self._plan.table
        spec = self._tx.catalog.index(table, name)
        fields = (*spec.fields, "_creationTime")
        ops: tuple[RangeOp, ...] = ()
        if range_expression is not None:
            builder = range_expression(IndexRangeBuilder(spec.qualified_name, fields))
            if not isinstance(builder, IndexRangeBuilder):
                raise InvalidQueryError(
                    f"with_index({name!r}, ...) expects a function returning q with its range calls "
                    f"(for example lambda q: q.eq('field', value)); got {type(builder).__name__}."
                )
            ops = builder.ops
        plan = self._plan  # built directly: dataclasses.replace costs more than the rest of with_index
        return Query(self._tx, _Plan(table, spec, ops, plan.order, plan.order_set, plan.filters), self._codec)

    def full_table_scan(self) -> Query:
        """Read the whole table in ``_creationTime`` order (same as not choosing an index)."""
        return Query(self._tx, self._plan, self._codec)
