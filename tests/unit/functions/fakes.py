"""A minimal in-memory stand-in for the database layer (``authlib_core.database`` is another layer's work).

It implements only what the executor relies on: read transactions, write transactions that commit on success and
are retried when a conflict is injected, and savepoints that undo their writes on an exception.
"""

from __future__ import annotations

import contextlib
import copy
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

T = TypeVar("T")


class FakeQuery:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self._docs = docs

    def collect(self) -> list[dict[str, Any]]:
        return list(self._docs)


class FakeReader:
    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self._docs = docs

    def get(self, id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self._docs.get(id))

    def query(self, table: str) -> FakeQuery:
        return FakeQuery([copy.deepcopy(d) for i, d in sorted(self._docs.items()) if i.startswith(table + "|")])

    def normalize_id(self, table: str, id: str) -> str | None:
        return id if id.startswith(table + "|") else None


class FakeWriter(FakeReader):
    def __init__(self, docs: dict[str, dict[str, Any]], counter: list[int]) -> None:
        super().__init__(docs)
        self._counter = counter

    def insert(self, table: str, document: dict[str, Any]) -> str:
        self._counter[0] += 1
        new_id = f"{table}|{self._counter[0]}"
        self._docs[new_id] = {"_id": new_id, **copy.deepcopy(document)}
        return new_id

    def patch(self, id: str, fields: dict[str, Any]) -> None:
        self._docs[id].update(copy.deepcopy(fields))

    def replace(self, id: str, document: dict[str, Any]) -> None:
        self._docs[id] = {"_id": id, **copy.deepcopy(document)}

    def delete(self, id: str) -> None:
        del self._docs[id]

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        saved = copy.deepcopy(self._docs)
        try:
            yield
        except BaseException:
            self._docs.clear()
            self._docs.update(saved)
            raise


class FakeDatabase:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.counter = [0]
        self.log: list[str] = []
        self.inject_conflicts = 0

    def run_query(self, fn: Callable[[FakeReader], T]) -> T:
        self.log.append("query")
        return fn(FakeReader(copy.deepcopy(self.docs)))

    def run_mutation(self, fn: Callable[[FakeWriter], T]) -> T:
        while True:
            self.log.append("mutation")
            working = copy.deepcopy(self.docs)
            result = fn(FakeWriter(working, self.counter))
            if self.inject_conflicts:
                self.inject_conflicts -= 1
                continue  # as if the commit found a conflicting write: run the handler again
            self.docs = working
            return result
