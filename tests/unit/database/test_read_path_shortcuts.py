"""The read path's shortcuts give what the long way gives: memoised range keys, read sets built only on demand."""

from __future__ import annotations

import pytest

from authlib_core.database.engines.dynamodb import layout
from authlib_core.database.interface import IndexSpec
from authlib_core.database.readset import ReadSet, collect_read_set, recording_reads
from authlib_core.values import Int64, index_key

BY_USER = IndexSpec("notes", "by_user", ("userId",))
BY_SHARDED = IndexSpec("notes", "by_group", ("group", "rank"), shards=40)

# Values equal in Python but stored differently must not share a memo entry (True == 1.0 == Int64(1)).
VALUES = ["ann", "", "ü", 1.0, -0.0, 0.0, True, False, None, Int64(1), b"\x00\x01", [1.0, "a"], {"a": 1.0}]


@pytest.mark.parametrize("spec", [BY_USER, BY_SHARDED], ids=["16 partitions", "40 partitions"])
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_eq_range_keys_are_the_partition_and_value_version_of_the_value(spec: IndexSpec, value: object) -> None:
    for _ in range(2):  # computed, then from the memo
        partition, value_pk = layout.eq_range_pks(spec, index_key([value]))  # type: ignore[list-item]
        assert partition == layout.shard_pk(spec, layout.shard_of_value(spec, value))
        assert partition in [layout.shard_pk(spec, s) for s in range(layout.partitions(spec))]
        assert value_pk == layout.value_version_pk(spec, value)


def test_equal_python_values_of_different_types_get_their_own_value_versions() -> None:
    pks = {layout.eq_range_pks(BY_USER, index_key([value]))[1] for value in (True, 1.0, Int64(1))}
    assert len(pks) == 3


def test_a_read_set_is_built_only_while_someone_records_reads() -> None:
    built: list[int] = []

    def read_set() -> ReadSet:
        built.append(1)
        return ReadSet(documents=frozenset({"doc1"}))

    collect_read_set(read_set)
    assert built == []
    with recording_reads() as reads:
        collect_read_set(read_set)
        collect_read_set(lambda: None)  # an engine that keeps no read set: every write intersects it
    assert built == [1]
    assert reads[0].documents == frozenset({"doc1"})
    assert reads[1].complete is False
