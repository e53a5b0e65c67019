"""``RememberedSessions``: bounded, expiring with the session, least recently used out first, safe across threads."""

from __future__ import annotations

import random
import threading

import pytest

from authlib_core.auth.remembered import RememberedSessions
from authlib_core.database.sessions import SessionRecord


def record(n: int, ends: int = 10_000) -> SessionRecord:
    return SessionRecord(f"u{n}", f"s{n}", f"h{n}", 0, 0, expires_at=ends, absolute_expires_at=ends + 5)


def test_an_entry_lasts_until_its_session_ends() -> None:
    memory = RememberedSessions()
    memory.update("h1", record(1, ends=5_000))
    assert memory.get("h1", 4_999) == record(1, ends=5_000)
    assert memory.get("h1", 5_000) is None
    assert len(memory) == 0  # an ended session is dropped, not kept


def test_the_absolute_expiry_caps_the_idle_one() -> None:
    memory = RememberedSessions()
    memory.update("h1", SessionRecord("u1", "s1", "h1", 0, 0, expires_at=9_000, absolute_expires_at=3_000))
    assert memory.get("h1", 3_000) is None


def test_a_lookup_that_finds_no_session_forgets_it() -> None:
    memory = RememberedSessions()
    memory.update("h1", record(1))
    memory.update("h1", None)
    assert memory.get("h1", 0) is None
    memory.update("h2", None)  # forgetting what was never remembered is fine
    assert len(memory) == 0


def test_the_least_recently_used_leaves_first() -> None:
    memory = RememberedSessions(capacity=2)
    memory.update("h1", record(1))
    memory.update("h2", record(2))
    assert memory.get("h1", 0) is not None  # h1 is now the most recently used
    memory.update("h3", record(3))
    assert [memory.get(key, 0) is not None for key in ("h1", "h2", "h3")] == [True, False, True]
    assert len(memory) == 2


@pytest.mark.parametrize("capacity", [0, -1, 1.5, True, "10"])
def test_capacity_must_be_a_positive_integer(capacity: object) -> None:
    with pytest.raises(ValueError, match="capacity must be a positive integer"):
        RememberedSessions(capacity)  # type: ignore[arg-type]


def test_threads_updating_and_reading_never_see_a_wrong_record_or_exceed_the_bound() -> None:
    memory = RememberedSessions(capacity=8)
    failures: list[str] = []
    start = threading.Barrier(8)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        for _ in range(3_000):
            n = rng.randrange(20)
            action = rng.random()
            if action < 0.4:
                memory.update(f"h{n}", record(n))
            elif action < 0.5:
                memory.update(f"h{n}", None)
            else:
                found = memory.get(f"h{n}", 0)
                if found is not None and found.token_hash != f"h{n}":
                    failures.append(f"h{n} -> {found.token_hash}")
            if len(memory) > 8:
                failures.append(f"{len(memory)} entries")

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(memory) <= 8
