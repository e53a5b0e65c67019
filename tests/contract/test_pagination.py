"""Pagination: stable under concurrent writes, cursors opaque and bound to their query."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.errors import InvalidCursorError
from tests.contract.conftest import insert_many

if TYPE_CHECKING:
    from authlib_core.database import Database


def _seed(db: Database, n: int, group: str = "g") -> list[str]:
    return insert_many(db, "items", [{"group": group, "rank": float(i)} for i in range(n)])


def _page(db: Database, cursor: str | None, n: int = 7, order: str = "asc") -> Any:
    return db.run_query(
        lambda r: (
            r.query("items")
            .with_index("by_group_rank", lambda q: q.eq("group", "g"))
            .order(order)
            .paginate({"numItems": n, "cursor": cursor})
        )
    )


def test_walks_every_document_once_in_order(db: Database) -> None:
    ids = _seed(db, 30)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        result = _page(db, cursor)
        pages += 1
        seen.extend(d["_id"] for d in result["page"])
        assert isinstance(result["continueCursor"], str)
        if result["isDone"]:
            break
        assert len(result["page"]) == 7
        cursor = result["continueCursor"]
    assert seen == ids
    assert pages == 5  # 7+7+7+7+2


def test_exact_multiple_reports_done_on_the_last_full_page(db: Database) -> None:
    _seed(db, 14)
    first = _page(db, None)
    second = _page(db, first["continueCursor"])
    assert (first["isDone"], len(second["page"]), second["isDone"]) == (False, 7, True)
    after_done = _page(db, second["continueCursor"])
    assert after_done == {
        "page": [],
        "isDone": True,
        "continueCursor": after_done["continueCursor"],
        "splitCursor": None,
        "pageStatus": None,
    }


def test_desc_pagination_and_empty_range(db: Database) -> None:
    ids = _seed(db, 10)
    first = _page(db, None, n=4, order="desc")
    assert [d["_id"] for d in first["page"]] == list(reversed(ids))[:4]
    empty = db.run_query(
        lambda r: (
            r.query("items")
            .with_index("by_group_rank", lambda q: q.eq("group", "none"))
            .paginate({"numItems": 5, "cursor": None})
        )
    )
    assert (empty["page"], empty["isDone"]) == ([], True)


def test_filtered_pages_are_full_pages_of_matches(db: Database) -> None:
    _seed(db, 40)
    result = db.run_query(
        lambda r: (
            r.query("items")
            .with_index("by_group_rank", lambda q: q.eq("group", "g"))
            .filter(lambda f: f.eq(f.mod(f.field("rank"), 4.0), 0.0))
            .paginate({"numItems": 3, "cursor": None})
        )
    )
    assert [d["rank"] for d in result["page"]] == [0.0, 4.0, 8.0]
    assert not result["isDone"]


def test_maximum_rows_read_ends_a_page_early(db: Database) -> None:
    _seed(db, 20)
    result = db.run_query(
        lambda r: (
            r.query("items")
            .with_index("by_group_rank", lambda q: q.eq("group", "g"))
            .filter(lambda f: f.gte(f.field("rank"), 15.0))
            .paginate({"numItems": 5, "cursor": None, "maximumRowsRead": 10})
        )
    )
    assert result["page"] == []
    assert not result["isDone"]
    rest = db.run_query(
        lambda r: (
            r.query("items")
            .with_index("by_group_rank", lambda q: q.eq("group", "g"))
            .filter(lambda f: f.gte(f.field("rank"), 15.0))
            .paginate({"numItems": 5, "cursor": result["continueCursor"]})
        )
    )
    assert [d["rank"] for d in rest["page"]] == [15.0, 16.0, 17.0, 18.0, 19.0]


def test_forged_truncated_and_foreign_cursors_are_rejected(db: Database) -> None:
    _seed(db, 10)
    cursor = _page(db, None)["continueCursor"]
    flipped = cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]
    for bad in (flipped, cursor[: len(cursor) // 2], "not a cursor", "", "x" * 200):
        with pytest.raises(InvalidCursorError):
            _page(db, bad)
    with pytest.raises(InvalidCursorError, match="different query"):
        _page(db, cursor, order="desc")
    with pytest.raises(InvalidCursorError, match="different query"):
        db.run_query(
            lambda r: (
                r.query("items")
                .with_index("by_group_rank", lambda q: q.eq("group", "h"))
                .paginate({"numItems": 7, "cursor": cursor})
            )
        )


def test_cursor_does_not_reveal_indexed_values(db: Database) -> None:
    db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0, "label": "secret-label-value"}))
    db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 2.0, "label": "secret-label-value2"}))
    import base64

    result = db.run_query(lambda r: r.query("items").with_index("by_label").paginate({"numItems": 1, "cursor": None}))
    raw = base64.urlsafe_b64decode(result["continueCursor"] + "=" * (-len(result["continueCursor"]) % 4))
    assert b"secret" not in raw


def test_pagination_is_stable_while_others_insert_and_delete(open_database) -> None:  # type: ignore[no-untyped-def]
    reader_db = open_database()
    writer_db = open_database()
    stable = _seed(reader_db, 60)
    volatile = _seed(reader_db, 30)
    volatile_set = set(volatile)
    stop = threading.Event()
    errors: list[BaseException] = []
    rounds = [0]  # writer iterations completed

    def churn() -> None:
        try:
            i = 0
            while not stop.is_set() and i < 200:
                i += 1
                started = time.monotonic()
                new_id = writer_db.run_mutation(lambda w, i=i: w.insert("items", {"group": "g", "rank": 1000.0 + i}))
                volatile_set.add(new_id)
                if volatile:
                    victim = volatile.pop()
                    writer_db.run_mutation(lambda w, v=victim: w.delete(v))
                # Half the store's capacity, not a fixed delay: wait as long as the writes took. The moto fakes serve
                # one request at a time, so an unpaced writer queues a commit to the reader's index shard between any
                # two of the reader's requests: a shard written at 100 % of the store's capacity. A query's validation
                # then needs that shard quiet for one Query + one TransactGetItems when a write landed in the same
                # shard outside the pages it read (docs/dynamodb.md, section 4), and never gets it. On DynamoDB a
                # partition's write ceiling bounds that rate; here the writer's duty cycle does.
                rounds[0] += 1
                time.sleep(time.monotonic() - started)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        seen: list[str] = []
        cursor = None
        while True:
            result = _page(reader_db, cursor, n=5)
            seen.extend(d["_id"] for d in result["page"])
            if result["isDone"]:
                break
            cursor = result["continueCursor"]
            # Let at least one insert and one delete land between every two pages (and during the next one).
            target = rounds[0] + 1
            while rounds[0] < target and thread.is_alive():
                time.sleep(0.001)
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert len(seen) == len(set(seen)), "a document appeared twice"
    assert set(stable) <= set(seen), "a document that existed throughout was skipped"
    assert set(seen) <= set(stable) | volatile_set
