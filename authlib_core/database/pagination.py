"""``paginate``: Convex's options, one page read, its continue and split cursors and its page status.

This follows Convex's backend (``query_page`` / ``read_page_from_query``):

* Without ``endCursor`` a page holds up to ``numItems`` matching documents after ``cursor``. It also ends early,
  with ``pageStatus: "SplitRequired"``, when it has scanned ``maximumRowsRead`` documents or
  ``maximumBytesRead`` bytes (at least one document is always scanned), or when the transaction's own read
  limits are reached — the page returned so far is kept instead of the function failing.
* With ``endCursor`` (what ``usePaginatedQuery`` sends when it re-runs a page) the page is every matching
  document in ``(cursor, endCursor]``, whatever ``numItems`` and the per-page maximums say, and its
  ``continueCursor`` *is* ``endCursor``: the next page still starts there, so re-running pages never drops or
  repeats a document. ``isDone`` is true only when ``endCursor`` is the end of the results.
* ``splitCursor`` is the position half-way through the documents the page scanned (once it scanned more than
  two), and ``pageStatus`` is ``"SplitRecommended"`` once a page scanned more than 3/4 of what it may read or
  holds more than 6,144 documents: the client may re-fetch the page as ``(cursor, splitCursor]`` and
  ``(splitCursor, continueCursor]``.

One deliberate difference: when a page fills up exactly at the end of the results, ``isDone`` is already true
(the scan looks one entry ahead); Convex reports that one page later, with an empty page.

Example:
    >>> PaginationOptions.parse({"numItems": 3.0, "cursor": None}, max_items=32_000).num_items
    3
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from authlib_core.errors import InvalidQueryError, LimitExceededError
from authlib_core.values._common import describe

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.database.transaction import Scan
    from authlib_core.values import Value

__all__ = ["PageStatus", "PaginationOptions", "PaginationResult", "read_page", "whole_number"]

PageStatus = Literal["SplitRecommended", "SplitRequired"]

#: A page is returned as an array, which holds at most 8,192 values; past 3/4 of that a split is recommended.
SOFT_MAX_PAGE_LEN = 8192 * 3 // 4

_OPTION_NAMES = frozenset({"numItems", "cursor", "endCursor", "maximumRowsRead", "maximumBytesRead", "id"})


class PaginationResult(TypedDict):
    """What ``paginate`` returns, with Convex's keys (``splitCursor`` and ``pageStatus`` may be None)."""

    page: list[dict[str, Value]]
    isDone: bool
    continueCursor: str
    splitCursor: str | None
    pageStatus: PageStatus | None


def whole_number(value: object, method: str, name: str, *, minimum: int = 0) -> int:
    """``value`` as an ``int`` if it is a whole number ``>= minimum``; a float with no fraction counts.

    JSON numbers reach a function as floats (``v.number()``), so ``3.0`` must work wherever Convex's
    JavaScript accepts ``3``.

    Example:
        >>> whole_number(3.0, "take()", "n")
        3
        >>> whole_number(2.5, "take()", "n")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        authlib_core.errors.InvalidQueryError: take(): n must be a non-negative whole number ... got 2.5.
    """
    number: int | None = None
    if isinstance(value, float):
        number = int(value) if value.is_integer() else None
    elif isinstance(value, int) and not isinstance(value, bool):
        number = int(value)
    if number is None or number < minimum:
        expected = "a non-negative whole number" if minimum == 0 else f"a whole number of at least {minimum}"
        raise InvalidQueryError(f"{method}: {name} must be {expected} (3 and 3.0 both work), got {describe(value)}.")
    return number


@dataclasses.dataclass(frozen=True, slots=True)
class PaginationOptions:
    """Checked ``paginate`` options (Convex's ``PaginationOptions``)."""

    num_items: int
    cursor: str | None
    end_cursor: str | None
    maximum_rows_read: int | None
    maximum_bytes_read: int | None

    @classmethod
    def parse(cls, options: object, *, max_items: int) -> PaginationOptions:
        """Check ``options`` as Convex does; ``max_items`` is the transaction's documents-read limit.

        Raises:
            InvalidQueryError: a missing or malformed option, with what was given and what is expected.
        """
        if not isinstance(options, Mapping):
            raise InvalidQueryError(
                'paginate() expects {"numItems": number, "cursor": string | None}, got ' + f"{describe(options)}."
            )
        mapping: Mapping[str, Any] = options
        unknown = set(mapping) - _OPTION_NAMES
        if unknown:
            raise InvalidQueryError(
                f"paginate() got unknown options {sorted(unknown)}; it accepts {sorted(_OPTION_NAMES)}."
            )
        num_items = whole_number(mapping.get("numItems"), "paginate()", "numItems")
        if num_items == 0:
            raise InvalidQueryError(
                "Must request at least 1 document while paginating: paginate() got numItems 0. Ask for at least "
                "one document per page."
            )
        if num_items > max_items:
            raise InvalidQueryError(
                f"Requested too many items: {num_items}. A page may hold at most {max_items} documents (the "
                "documents-read limit of one transaction)."
            )
        maximums = [mapping.get(name) for name in ("maximumRowsRead", "maximumBytesRead")]
        checked = [
            None if value is None else whole_number(value, "paginate()", name, minimum=1)
            for name, value in zip(("maximumRowsRead", "maximumBytesRead"), maximums, strict=True)
        ]
        return cls(
            num_items=num_items,
            cursor=_cursor_option(mapping, "cursor"),  # missing = null, as Convex's syscall reads it
            end_cursor=_cursor_option(mapping, "endCursor"),
            maximum_rows_read=checked[0],
            maximum_bytes_read=checked[1],
        )


def _cursor_option(options: Mapping[str, Any], name: str) -> str | None:
    value = options.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidQueryError(
            f"paginate(): {name} must be a cursor string or None (None for the first page, then the previous "
            f"page's continueCursor), got {describe(value)}."
        )
    return value


@dataclasses.dataclass(slots=True)
class _Page:
    documents: list[dict[str, Value]] = dataclasses.field(default_factory=list)
    positions: list[bytes] = dataclasses.field(default_factory=list)
    status: PageStatus | None = None
    exhausted: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class PageLimits:
    """The transaction's read limits, which bound a page's "approaching the limit" thresholds."""

    documents_read: int
    bytes_read: int


def read_page(
    scan: Scan,
    matches: Callable[[dict[str, Value]], bool],
    options: PaginationOptions,
    *,
    bounded: bool,
    limits: PageLimits,
) -> tuple[list[dict[str, Value]], bool, bytes | None, PageStatus | None]:
    """Read one page from ``scan``.

    ``bounded``: the page ends at an end cursor (``scan`` stops there); then ``numItems`` and the per-page
    maximums are ignored, as in Convex. Returns the documents, whether the scan reached the end of its range,
    the position to split the page at (or None), and the page status.

    Raises:
        LimitExceededError: a transaction read limit was hit before the page could scan anything.
    """
    page = _Page()
    while bounded or len(page.documents) < options.num_items:
        if not bounded and _over_maximum(scan, options):
            page.status = "SplitRequired"
            break
        try:
            item = scan.next()
        except LimitExceededError:
            if scan.last_key is None:
                raise
            page.status = "SplitRequired"
            break
        if item is None:
            page.exhausted = True
            break
        page.positions.append(item[0])
        if matches(item[1]):
            page.documents.append(item[1])
    if page.status is None and not page.exhausted:
        page.exhausted = scan.at_end
    elif page.status == "SplitRequired" and not bounded and _over_maximum(scan, options) and scan.at_end:
        page.status, page.exhausted = None, True  # the per-page maximum ended the page exactly at the end
    if page.status is None and (_approaching(scan, options, limits) or len(page.documents) > SOFT_MAX_PAGE_LEN):
        page.status = "SplitRecommended"
    split = page.positions[len(page.positions) // 2] if len(page.positions) > 2 else None
    return page.documents, page.exhausted, split, page.status


def _over_maximum(scan: Scan, options: PaginationOptions) -> bool:
    return (options.maximum_rows_read is not None and scan.rows >= options.maximum_rows_read) or (
        options.maximum_bytes_read is not None and scan.bytes >= options.maximum_bytes_read
    )


def _approaching(scan: Scan, options: PaginationOptions, limits: PageLimits) -> bool:
    rows = min(options.maximum_rows_read or limits.documents_read, limits.documents_read)
    size = min(options.maximum_bytes_read or limits.bytes_read, limits.bytes_read)
    return scan.rows > rows * 3 // 4 or scan.bytes > size * 3 // 4
