"""Virtual time for the model: events in a heap, and instance threads of which exactly one runs at a time.

Each simulated Lambda instance is an ordinary thread running the real engine code. It runs until it makes a
storage call or sleeps (the conflict backoff); then it hands the turn back to the scheduler and waits to be
resumed by an event. The scheduler pops events in (time, sequence) order, so a run is a deterministic function
of its seed: no two threads ever run at once, and wall-clock time never enters the results.

Example:
    >>> sim = Scheduler()
    >>> seen = []
    >>> sim.spawn(lambda: (sim.sleep(0.5), seen.append(sim.now)))
    >>> sim.run()
    >>> seen
    [0.5]
"""

from __future__ import annotations

import heapq
import itertools
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

#: Epoch seconds that virtual time 0 stands for (documents get ``_creationTime`` from the virtual clock).
EPOCH = 1_767_225_600.0


class Scheduler:
    """Virtual time and the one-thread-at-a-time hand-off between the scheduler and the instance threads."""

    def __init__(self) -> None:
        self.now = 0.0
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._turn = threading.Semaphore(0)
        self._local = threading.local()
        self.errors: list[BaseException] = []

    def at(self, when: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the scheduler at virtual time ``when`` (never earlier than now)."""
        heapq.heappush(self._events, (max(when, self.now), next(self._sequence), callback))

    def spawn(self, body: Callable[[], object]) -> None:
        """Start ``body`` in a new instance thread at the current virtual time."""
        wake = threading.Semaphore(0)

        def main() -> None:
            wake.acquire()
            self._local.wake = wake
            try:
                body()
            except BaseException as error:  # reported by run(); the instance is gone
                self.errors.append(error)
            finally:
                self._turn.release()

        threading.Thread(target=main, daemon=True).start()
        self.at(self.now, lambda: self.resume(wake))

    def resume(self, wake: threading.Semaphore) -> None:
        """(Scheduler side) let one instance thread run until it blocks again or ends."""
        wake.release()
        self._turn.acquire()

    def current(self) -> threading.Semaphore:
        """(Instance side) the calling instance's wake-up handle."""
        wake: threading.Semaphore = self._local.wake
        return wake

    def block(self) -> None:
        """(Instance side) give the turn back and wait until an event resumes this instance."""
        wake = self.current()
        self._turn.release()
        wake.acquire()

    def sleep(self, seconds: float) -> None:
        """(Instance side) sleep in virtual time — the ``sleep`` the instances' ``Database`` backs off with."""
        wake = self.current()
        self.at(self.now + seconds, lambda: self.resume(wake))
        self.block()

    def parallel_map(self, fn: Callable[[Any], Any], items: Iterable[Any], workers: int) -> list[Any]:
        """(Instance side) ``fn`` over ``items`` on ``workers`` simulated threads, as a thread pool would; in order."""
        work = list(enumerate(items))
        results: list[Any] = [None] * len(work)
        failures: list[BaseException] = []
        parent = self.current()
        running = [min(workers, len(work))]
        if not work:
            return []

        def worker() -> None:
            try:
                while work:
                    index, item = work.pop(0)
                    results[index] = fn(item)
            except BaseException as error:  # handed to the caller, like Future.result()
                failures.append(error)
            finally:
                running[0] -= 1
                if running[0] == 0:
                    self.at(self.now, lambda: self.resume(parent))

        for _ in range(running[0]):
            self.spawn(worker)
        self.block()
        if failures:
            raise failures[0]
        return results

    def clock(self) -> float:
        """Virtual epoch seconds — the ``clock`` of the instances' ``Database``."""
        return EPOCH + self.now

    def run(self) -> None:
        """Process events until none are left; re-raise the first error an instance died of."""
        while self._events:
            when, _, callback = heapq.heappop(self._events)
            self.now = when
            callback()
        if self.errors:
            raise self.errors[0]
