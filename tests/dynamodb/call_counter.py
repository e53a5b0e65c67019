"""Count DynamoDB API calls per operation with botocore's event hooks (no mocks of our code).

Example:
    >>> counter = CallCounter(client)                       # doctest: +SKIP
    >>> with counter.measure() as calls:                     # doctest: +SKIP
    ...     engine.begin("read").get(some_id)
    >>> calls == {"GetItem": 1}                              # doctest: +SKIP
"""

from __future__ import annotations

import collections
import contextlib
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator


class ScanCalledError(AssertionError):
    """A DynamoDB Scan was issued; the engine must answer every range with Query/GetItem."""


class CallCounter:
    """Counts every DynamoDB operation a client sends (thread-safe) and refuses ``Scan`` outright."""

    def __init__(self, client: Any) -> None:
        self._lock = threading.Lock()
        self.total: collections.Counter[str] = collections.Counter()
        self._windows: list[collections.Counter[str]] = []
        client.meta.events.register("before-call.dynamodb", self._on_call, unique_id=f"call-counter-{id(self)}")

    def _on_call(self, model: Any, **_: Any) -> None:
        if model.name == "Scan":
            raise ScanCalledError("the DynamoDB engine issued a Scan; every range must be a Query")
        with self._lock:
            self.total[model.name] += 1
            for window in self._windows:
                window[model.name] += 1

    @contextlib.contextmanager
    def measure(self) -> Iterator[collections.Counter[str]]:
        """Count the calls made inside the block into the yielded Counter."""
        window: collections.Counter[str] = collections.Counter()
        with self._lock:
            self._windows.append(window)
        try:
            yield window
        finally:
            with self._lock:
                self._windows.remove(window)
