"""The subscription index's keys never miss an intersecting pair of a read set and a write set.

For random index keys and intervals, whenever ``ReadSet.intersects`` says a write can change a read, the read's watch
keys and the write's lookup keys share one; and a read confined to one first-field value is not found by writes of
other values (the index is precise where live queries usually read).
"""

from __future__ import annotations

import random

import pytest

from authlib_core.database.readset import ReadSet, Write, WriteSet
from authlib_core.live.watch import ALL, first_component, read_keys, write_keys
from authlib_core.values import index_key, prefix_successor

VALUES: list[object] = [
    None,
    False,
    True,
    0,
    -3,
    7,
    2**40,
    1.5,
    -0.25,
    "",
    "a",
    "ab",
    "b\x00c",
    b"\x00\x01",
    [1, "x"],
    {"k": [2]},
]


def _key(rng: random.Random) -> bytes:
    return index_key([rng.choice(VALUES), rng.choice(VALUES), rng.random()])  # type: ignore[list-item]


def _interval(rng: random.Random) -> tuple[bytes, bytes]:
    kind = rng.randrange(3)
    if kind == 0:  # eq on the first field: the prefix interval of one value
        prefix = index_key([rng.choice(VALUES)])  # type: ignore[list-item]
        return prefix, prefix_successor(prefix)
    if kind == 1:  # eq on the first field, range on the second
        first = rng.choice(VALUES)
        low, high = sorted([index_key([first, rng.choice(VALUES)]), index_key([first, rng.choice(VALUES)])])  # type: ignore[list-item]
        return low, high + b"\x00"
    low, high = sorted([_key(rng), _key(rng)])  # anything
    return low, high


@pytest.mark.parametrize("seed", range(20))
def test_every_intersecting_pair_shares_a_key(seed: int) -> None:
    rng = random.Random(seed)
    intersecting = 0
    for _ in range(500):
        lower, upper = _interval(rng)
        reads = ReadSet(ranges=(("t", "i", lower, upper),))  # intervals only: documents are tested below
        before = _key(rng) if rng.random() < 0.5 else None
        after = _key(rng) if before is None or rng.random() < 0.5 else None
        writes = WriteSet((Write(rng.choice(["t", "u"]), f"d{rng.randrange(5)}", {"i": (before, after)}),))
        if reads.intersects(writes):
            intersecting += 1
            assert read_keys(reads) & write_keys(writes), (reads, writes)
    assert intersecting >= 15  # the property was exercised, not vacuously true


def test_an_equality_read_is_not_found_by_writes_of_other_values() -> None:
    prefix = index_key(["alice"])
    reads = ReadSet(ranges=(("notes", "by_owner", prefix, prefix_successor(prefix)),))
    other = WriteSet((Write("notes", "n1", {"by_owner": (None, index_key(["bob", 1.0]))}),))
    same = WriteSet((Write("notes", "n2", {"by_owner": (index_key(["alice", 2.0]), None)}),))
    assert not read_keys(reads) & write_keys(other)
    assert read_keys(reads) & write_keys(same)


def test_first_component_of_every_value_kind_and_of_malformed_keys() -> None:
    for value in VALUES:
        assert first_component(index_key([value, "rest"])) == index_key([value])  # type: ignore[list-item]
    assert first_component(b"") is None
    assert first_component(b"\x10abc") is None  # a string without its end
    assert first_component(b"\xff") is None  # no such tag


def test_an_unrecorded_read_set_is_found_by_every_write_and_everything_cannot_be_looked_up() -> None:
    assert read_keys(None) == read_keys(ReadSet(complete=False)) == {ALL}
    assert ALL in write_keys(WriteSet((Write("t", "d", {}),)))
    with pytest.raises(ValueError, match="everything"):
        write_keys(WriteSet((), everything=True))
