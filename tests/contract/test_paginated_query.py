"""``paginate`` as Convex's backend answers it: options, ``endCursor`` pages, split cursors and page statuses,
per-page read maximums, and ``usePaginatedQuery``-style re-runs over a table that changes between pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.database import Database, Limits
from authlib_core.errors import InvalidQueryError, LimitExceededError
from tests.contract.conftest import CURSOR_SECRET, insert_many
from tests.contract.engines import open_engine
from tests.contract.schema import contract_schema

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.contract.engines import EngineSpec


def _seed(db: Database, ranks: list[float]) -> list[str]:
    return insert_many(db, "items", [{"group": "g", "rank": rank} for rank in ranks])


def _query(r: Any, order: str = "asc", *, even_only: bool = False) -> Any:
    query = r.query("items").with_index("by_group_rank", lambda q: q.eq("group", "g")).order(order)
    return query.filter(lambda f: f.eq(f.mod(f.field("rank"), 2.0), 0.0)) if even_only else query


def _fetch(db: Database, options: dict[str, Any], order: str = "asc", *, even_only: bool = False) -> Any:
    return db.run_query(lambda r: _query(r, order, even_only=even_only).paginate(options))


def _ranks(result: dict[str, Any]) -> list[float]:
    return [d["rank"] for d in result["page"]]


@pytest.fixture
def limited(engine_spec: EngineSpec) -> Iterator[Callable[..., Database]]:
    opened: list[Database] = []

    def make(**limits: int) -> Database:
        database = Database(
            open_engine(engine_spec), contract_schema, cursor_secret=CURSOR_SECRET, limits=Limits(**limits)
        )
        database.ensure_indexes()
        opened.append(database)
        return database

    yield make
    for database in opened:
        database.close()


# -- options -------------------------------------------------------------------------------------------------------


def test_a_missing_cursor_is_the_first_page(db: Database) -> None:
    _seed(db, [float(i) for i in range(4)])
    assert _ranks(_fetch(db, {"numItems": 2})) == [0.0, 1.0]


def test_whole_float_options_are_accepted(db: Database) -> None:
    """JSON numbers arrive as floats: ``numItems: 3.0`` is 3 (``paginationOptsValidator`` uses ``v.number()``)."""
    _seed(db, [float(i) for i in range(10)])
    first = _fetch(db, {"numItems": 3.0, "cursor": None, "maximumRowsRead": 100.0, "maximumBytesRead": 1e6, "id": 7.0})
    assert (_ranks(first), first["isDone"], first["pageStatus"]) == ([0.0, 1.0, 2.0], False, None)
    second = _fetch(db, {"numItems": 3.0, "cursor": first["continueCursor"]})
    assert _ranks(second) == [3.0, 4.0, 5.0]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"numItems": 0, "cursor": None}, "Must request at least 1 document while paginating"),
        ({"numItems": 0.0, "cursor": None, "endCursor": None}, "Must request at least 1 document"),
        ({"numItems": 2.5, "cursor": None}, "numItems must be a non-negative whole number"),
        ({"numItems": -1, "cursor": None}, "numItems must be a non-negative whole number"),
        ({"numItems": float("nan"), "cursor": None}, "numItems must be a non-negative whole number"),
        ({"numItems": "3", "cursor": None}, "numItems must be a non-negative whole number"),
        ({"numItems": True, "cursor": None}, "numItems must be a non-negative whole number"),
        ({"cursor": None}, "numItems must be a non-negative whole number"),
        ({"numItems": 32_001, "cursor": None}, "Requested too many items: 32001"),
        ({"numItems": 3, "cursor": 5}, "cursor must be a cursor string or None"),
        ({"numItems": 3, "cursor": None, "maximumRowsRead": 0}, "maximumRowsRead must be a whole number of at least 1"),
        ({"numItems": 3, "cursor": None, "maximumBytesRead": 0.5}, "maximumBytesRead must be a whole number"),
        ({"numItems": 3, "cursor": None, "pageSize": 3}, "unknown options \\['pageSize'\\]"),
        ([3, None], "paginate\\(\\) expects"),
    ],
)
def test_bad_options_are_rejected(db: Database, options: Any, message: str) -> None:
    _seed(db, [1.0, 2.0])
    with pytest.raises(InvalidQueryError, match=message):
        _fetch(db, options)


# -- endCursor -----------------------------------------------------------------------------------------------------


def test_end_cursor_page_ends_there_and_continues_from_there(db: Database) -> None:
    _seed(db, [float(i) for i in range(12)])
    first = _fetch(db, {"numItems": 5, "cursor": None})
    second = _fetch(db, {"numItems": 5, "cursor": first["continueCursor"]})
    assert (_ranks(first), _ranks(second)) == ([0.0, 1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0, 9.0])

    # numItems and the per-page maximums do not cut a page that has an end cursor.
    again = _fetch(db, {"numItems": 1, "cursor": None, "endCursor": first["continueCursor"]})
    assert (_ranks(again), again["isDone"], again["pageStatus"]) == ([0.0, 1.0, 2.0, 3.0, 4.0], False, None)
    capped = _fetch(db, {"numItems": 1, "cursor": None, "endCursor": first["continueCursor"], "maximumRowsRead": 1})
    # The whole page still comes back; like Convex, having read past 3/4 of maximumRowsRead recommends a split.
    assert (_ranks(capped), capped["pageStatus"]) == (_ranks(again), "SplitRecommended")
    # Its continueCursor is the end cursor's position: the next page is unchanged.
    assert _ranks(_fetch(db, {"numItems": 5, "cursor": again["continueCursor"]})) == _ranks(second)

    db.run_mutation(lambda w: [w.insert("items", {"group": "g", "rank": r}) for r in (2.5, 4.5, 9.5)])
    grown = _fetch(db, {"numItems": 5, "cursor": None, "endCursor": first["continueCursor"]})
    assert _ranks(grown) == [0.0, 1.0, 2.0, 2.5, 3.0, 4.0]
    middle = _fetch(db, {"numItems": 5, "cursor": grown["continueCursor"], "endCursor": second["continueCursor"]})
    assert (_ranks(middle), middle["isDone"]) == ([4.5, 5.0, 6.0, 7.0, 8.0, 9.0], False)


def test_end_cursor_at_the_end_takes_everything_after_the_cursor(db: Database) -> None:
    _seed(db, [float(i) for i in range(6)])
    first = _fetch(db, {"numItems": 4, "cursor": None})
    last = _fetch(db, {"numItems": 4, "cursor": first["continueCursor"]})
    assert (_ranks(last), last["isDone"]) == ([4.0, 5.0], True)
    db.run_mutation(lambda w: [w.insert("items", {"group": "g", "rank": r}) for r in (4.5, 50.0, 60.0)])
    rerun = _fetch(db, {"numItems": 4, "cursor": first["continueCursor"], "endCursor": last["continueCursor"]})
    assert (_ranks(rerun), rerun["isDone"]) == ([4.0, 4.5, 5.0, 50.0, 60.0], True)
    after_end = _fetch(db, {"numItems": 4, "cursor": last["continueCursor"], "endCursor": first["continueCursor"]})
    assert (after_end["page"], after_end["isDone"]) == ([], False)  # Convex: the page continues at endCursor
    assert _ranks(_fetch(db, {"numItems": 2, "cursor": after_end["continueCursor"]})) == [4.0, 4.5]


def test_end_cursor_must_come_from_the_same_query(db: Database) -> None:
    from authlib_core.errors import InvalidCursorError

    _seed(db, [float(i) for i in range(6)])
    desc = _fetch(db, {"numItems": 2, "cursor": None}, order="desc")
    with pytest.raises(InvalidCursorError, match="different query"):
        _fetch(db, {"numItems": 2, "cursor": None, "endCursor": desc["continueCursor"]})


# -- split pages ---------------------------------------------------------------------------------------------------


def _split(
    db: Database, page: dict[str, Any], cursor: str | None, *, even_only: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What ``usePaginatedQuery`` does with a split page: ``(cursor, splitCursor]`` and
    ``(splitCursor, continueCursor]``."""
    assert page["splitCursor"] is not None
    left = _fetch(db, {"numItems": 1, "cursor": cursor, "endCursor": page["splitCursor"]}, even_only=even_only)
    right = _fetch(
        db,
        {"numItems": 1, "cursor": page["splitCursor"], "endCursor": page["continueCursor"]},
        even_only=even_only,
    )
    return left, right


def test_maximum_rows_read_ends_the_page_with_split_required(db: Database) -> None:
    _seed(db, [float(i) for i in range(20)])
    page = _fetch(db, {"numItems": 8, "cursor": None, "maximumRowsRead": 10}, even_only=True)
    assert (_ranks(page), page["isDone"], page["pageStatus"]) == ([0.0, 2.0, 4.0, 6.0, 8.0], False, "SplitRequired")
    left, right = _split(db, page, None, even_only=True)
    assert (_ranks(left), _ranks(right)) == ([0.0, 2.0, 4.0], [6.0, 8.0])  # split half-way through 10 scanned rows
    assert right["isDone"] is False
    rest = _fetch(db, {"numItems": 8, "cursor": page["continueCursor"]}, even_only=True)
    assert (_ranks(rest), rest["isDone"]) == ([10.0, 12.0, 14.0, 16.0, 18.0], True)


def test_maximum_rows_read_that_reaches_the_end_is_done(db: Database) -> None:
    _seed(db, [float(i) for i in range(5)])
    page = _fetch(db, {"numItems": 10, "cursor": None, "maximumRowsRead": 5})
    assert (len(page["page"]), page["isDone"]) == (5, True)
    assert page["pageStatus"] != "SplitRequired"


def test_maximum_bytes_read_reads_at_least_one_document(db: Database) -> None:
    _seed(db, [float(i) for i in range(6)])
    page = _fetch(db, {"numItems": 5, "cursor": None, "maximumBytesRead": 1})
    assert (_ranks(page), page["isDone"], page["pageStatus"], page["splitCursor"]) == (
        [0.0],
        False,
        "SplitRequired",
        None,
    )
    following = _fetch(db, {"numItems": 5, "cursor": page["continueCursor"], "maximumBytesRead": 10**6})
    assert (_ranks(following), following["pageStatus"]) == ([1.0, 2.0, 3.0, 4.0, 5.0], None)


def test_transaction_read_limit_ends_the_page_instead_of_failing(limited: Callable[..., Database]) -> None:
    db = limited(max_documents_read=10)
    _seed(db, [float(i) for i in range(15)])
    page = _fetch(db, {"numItems": 8, "cursor": None}, even_only=True)  # would scan 16 documents
    assert (_ranks(page), page["isDone"], page["pageStatus"]) == ([0.0, 2.0, 4.0, 6.0, 8.0], False, "SplitRequired")
    rest = _fetch(db, {"numItems": 8, "cursor": page["continueCursor"]}, even_only=True)
    assert (_ranks(rest), rest["isDone"]) == ([10.0, 12.0, 14.0], True)

    def after_other_reads(r: Any, cursor: str | None) -> Any:
        assert len(r.query("items").take(10)) == 10
        return _query(r, even_only=True).paginate({"numItems": 3, "cursor": cursor})

    with pytest.raises(LimitExceededError, match="Too many documents read"):  # no position to return yet
        db.run_query(lambda r: after_other_reads(r, None))
    stuck = db.run_query(lambda r: after_other_reads(r, page["continueCursor"]))
    assert (stuck["page"], stuck["isDone"], stuck["pageStatus"]) == ([], False, "SplitRequired")
    assert _ranks(_fetch(db, {"numItems": 2, "cursor": stuck["continueCursor"]}, even_only=True)) == [10.0, 12.0]


def test_index_range_limit_ends_a_continued_page(limited: Callable[..., Database]) -> None:
    db = limited(max_index_ranges=2)
    ids = _seed(db, [float(i) for i in range(6)])
    first = _fetch(db, {"numItems": 2, "cursor": None})

    def after_gets(r: Any, cursor: str | None) -> Any:
        assert r.get(ids[0]) is not None
        assert r.get(ids[1]) is not None
        return _query(r).paginate({"numItems": 2, "cursor": cursor})

    with pytest.raises(LimitExceededError, match="Too many reads"):
        db.run_query(lambda r: after_gets(r, None))
    stuck = db.run_query(lambda r: after_gets(r, first["continueCursor"]))
    assert (stuck["page"], stuck["isDone"], stuck["pageStatus"]) == ([], False, "SplitRequired")
    assert _ranks(_fetch(db, {"numItems": 2, "cursor": stuck["continueCursor"]})) == [2.0, 3.0]


def test_split_recommended_near_the_read_limit(limited: Callable[..., Database]) -> None:
    db = limited(max_documents_read=8)
    _seed(db, [float(i) for i in range(20)])
    small = _fetch(db, {"numItems": 6, "cursor": None})
    assert (small["pageStatus"], small["splitCursor"] is not None) == (None, True)  # 6 rows: not over 3/4 of 8
    page = _fetch(db, {"numItems": 7, "cursor": None})
    assert (len(page["page"]), page["isDone"], page["pageStatus"]) == (7, False, "SplitRecommended")
    left, right = _split(db, page, None)
    assert (_ranks(left), _ranks(right)) == ([0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert (left["pageStatus"], right["pageStatus"]) == (None, None)
    tiny = _fetch(db, {"numItems": 2, "cursor": None})
    assert tiny["splitCursor"] is None  # at most two rows scanned: nothing to split


# -- usePaginatedQuery over a changing table -----------------------------------------------------------------------


class _PaginatedQuery:
    """The page bookkeeping of ``usePaginatedQuery``: each loaded page keeps its start cursor, and every re-run of
    a page pins ``endCursor`` to where the page ended before (the query journal), so pages stay gapless."""

    def __init__(self, db: Database, order: str, num_items: int) -> None:
        self.db, self.order, self.num_items = db, order, num_items
        self.pages: list[dict[str, Any]] = []

    def _fetch(self, cursor: str | None, end: str | None) -> dict[str, Any]:
        options: dict[str, Any] = {"numItems": self.num_items, "cursor": cursor}
        if end is not None:
            options["endCursor"] = end
        result: dict[str, Any] = _fetch(self.db, options, self.order)
        return result

    def load_more(self) -> bool:
        if self.pages and self.pages[-1]["result"]["isDone"]:
            return False
        cursor = self.pages[-1]["result"]["continueCursor"] if self.pages else None
        self.pages.append({"cursor": cursor, "result": self._fetch(cursor, None)})
        return True

    def rerun(self) -> None:
        for page in self.pages:
            page["result"] = self._fetch(page["cursor"], page["result"]["continueCursor"])

    def results(self) -> list[dict[str, Any]]:
        return [doc for page in self.pages for doc in page["result"]["page"]]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_paginated_query_neither_drops_nor_repeats_while_the_table_changes(db: Database, order: str) -> None:
    ranks = [float(i) for i in range(30)]
    by_rank = dict(zip(ranks, _seed(db, ranks), strict=True))
    client = _PaginatedQuery(db, order, num_items=5)

    def check(boundary: float | None) -> None:
        """The pages hold exactly the current documents up to the last page's end, each once."""
        client.rerun()
        got = client.results()
        everything = db.run_query(lambda r: _query(r, order).collect())
        if boundary is not None:
            everything = [d for d in everything if (d["rank"] <= boundary if order == "asc" else d["rank"] >= boundary)]
        assert [d["_id"] for d in got] == [d["_id"] for d in everything]

    def change(inserts: list[float], deletes: list[float]) -> None:
        def write(w: Any) -> None:
            for rank in inserts:
                by_rank[rank] = w.insert("items", {"group": "g", "rank": rank})
            for rank in deletes:
                w.delete(by_rank.pop(rank))

        db.run_mutation(write)

    for _ in range(3):
        client.load_more()
    boundary = client.results()[-1]["rank"]  # where the third page ended
    assert boundary == (14.0 if order == "asc" else 15.0)
    # Inserts inside loaded pages, right after a page's end, and past the loaded pages; deletes of page-end
    # documents (the cursors' positions) and of documents inside pages.
    edge = 4.0 if order == "asc" else 25.0
    change(inserts=[2.5, 9.5, 14.5, 15.5, 27.5], deletes=[0.0, edge, 7.0, boundary])
    check(boundary)
    change(inserts=[1.5, 3.5, 100.0], deletes=[20.0, 29.0])
    check(boundary)
    while client.load_more():
        change(inserts=[min(by_rank) - 1.0, max(by_rank) + 1.0], deletes=[sorted(by_rank)[len(by_rank) // 2]])
        check(None if client.pages[-1]["result"]["isDone"] else client.results()[-1]["rank"])
    assert client.pages[-1]["result"]["isDone"]
    change(inserts=[-50.0, 500.0], deletes=[])
    check(None)  # the last page's end is "the end": documents added at either end still show up
    assert len(client.results()) == len(by_rank)
