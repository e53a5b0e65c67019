"""The database: runs functions in transactions and retries them on conflicts.

* :meth:`Database.run_query` runs a read-only function. On engines whose reads are not one snapshot
  (DynamoDB), the reads are validated afterwards and the function re-runs if a mutation committed in between —
  so a query never observes part of a mutation.
* :meth:`Database.run_mutation` runs a read-write function as one serializable transaction: it commits
  atomically if nothing it read changed, and otherwise re-runs the whole function after a jittered backoff.
  After several conflicts it asks the engine for an exclusive transaction where the engine offers one
  (SQLite), so a mutation cannot starve. When the retries run out it raises
  :class:`~authlib_core.errors.ConflictError` and nothing was written.

Because a mutation may run several times, it must be deterministic: no side effects besides ``ctx.db``
(use an action for the rest).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import random
import threading
import time
from typing import TYPE_CHECKING, TypeVar

from authlib_core.database.access import DatabaseReader, DatabaseWriter
from authlib_core.database.catalog import Catalog
from authlib_core.database.cursors import CursorCodec
from authlib_core.database.deadline import remaining
from authlib_core.database.limits import Limits
from authlib_core.database.readset import WriteSet, collect_read_set, write_set
from authlib_core.database.receipts import take_receipt_maker
from authlib_core.database.transaction import Transaction
from authlib_core.errors import BudgetSpentError, ConflictError, SystemFailure, ThrottledWriteError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from authlib_core.database.interface import StorageEngine, TransactionMode
    from authlib_core.database.receipts import Receipt
    from authlib_core.schema import Schema

__all__ = ["Database", "RetryPolicy", "TransactionStats"]

T = TypeVar("T")

logger = logging.getLogger("authlib_core.database")


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How conflicts are retried: full-jitter exponential backoff, bounded attempts.

    ``exclusive_after``: after this many conflicts, engines that support it run the next attempt holding
    the write lock for the whole function, which guarantees progress.
    """

    max_attempts: int = 40
    initial_backoff_s: float = 0.002
    max_backoff_s: float = 0.25
    exclusive_after: int = 4
    #: A retry starts only if the request's time budget (:mod:`authlib_core.database.deadline`) still has the
    #: backoff plus this much left.
    min_attempt_s: float = 0.05

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        ceiling = min(self.max_backoff_s, self.initial_backoff_s * (2 ** (attempt - 1)))
        return rng.uniform(0.0, ceiling)


@dataclasses.dataclass(slots=True)
class TransactionStats:
    """Counters for monitoring and benchmarks (not exact under threads; good enough for ratios)."""

    commits: int = 0
    conflicts: int = 0
    #: Commits the store refused for throughput (retried like conflicts).
    throttled: int = 0
    exhausted: int = 0


class Database:
    """A storage engine plus schema, limits, retry policy and cursor keys.

    Example:
        >>> db = Database(engine, schema, cursor_secret=b"...")  # doctest: +SKIP
        >>> db.run_mutation(lambda w: w.insert("myData", {"text": "hi"}))  # doctest: +SKIP
    """

    def __init__(
        self,
        engine: StorageEngine,
        schema: Schema | None = None,
        *,
        cursor_secret: bytes,
        limits: Limits | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.limits = limits or Limits()
        self.catalog = Catalog(schema, self.limits)
        self.retry = retry or RetryPolicy()
        self.stats = TransactionStats()
        self._codec = CursorCodec(cursor_secret)
        self._clock = clock
        self._sleep = sleep
        #: Backoff jitter; pass a seeded ``random.Random`` for reproducible runs (simulations, benchmarks).
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._lane = threading.Lock()
        #: Called with the write set of every commit that wrote something, in the committing thread, after the
        #: commit (the change feed of live queries subscribes here). A listener must be quick and must not raise.
        self.commit_listeners: list[Callable[[WriteSet], object]] = []

    def now_ms(self) -> float:
        """The database's clock in milliseconds since the epoch (what ``_creationTime`` and job times use)."""
        return self._clock() * 1000.0

    @property
    def schema(self) -> Schema | None:
        """The schema the database validates against, if any."""
        return self.catalog.schema

    def ensure_indexes(self) -> None:
        """Build or drop stored index entries so they match the schema (see ``StorageEngine.ensure_indexes``)."""
        self.engine.ensure_indexes(self.catalog.all_indexes())

    def _transaction(self, mode: TransactionMode) -> Transaction:
        return Transaction(
            self.engine.begin(mode), self.catalog, self.limits, writable=mode != "read", clock=self._clock
        )

    def _wait(self, attempt: int, error: SystemFailure) -> None:
        """Sleep before the next attempt, or raise when the attempts or the request's time budget are spent.

        ``error`` is a conflict or a throttled commit (:class:`ThrottledWriteError`); both wrote nothing. When the
        attempts run out, a throttled commit is reported as itself (the store is overloaded), a conflict as
        :class:`ConflictError` naming the attempts.
        """
        if isinstance(error, ThrottledWriteError):
            self.stats.throttled += 1
        else:
            self.stats.conflicts += 1
        pause = self.retry.backoff(attempt, self._rng)
        left = remaining()
        needed = pause + max(self.retry.min_attempt_s, self.engine.call_budget_s)
        out_of_time = left is not None and left < needed
        if attempt >= self.retry.max_attempts or out_of_time:
            raise self._given_up(attempt, error, out_of_time=out_of_time)
        self._sleep(pause)

    def _given_up(self, attempts: int, error: SystemFailure, *, out_of_time: bool) -> SystemFailure:
        """The error for a call whose ``attempts`` all conflicted (or were throttled, ``error`` the last)."""
        self.stats.exhausted += 1
        if isinstance(error, ThrottledWriteError):
            return error
        spent = "this request's time budget" if out_of_time else f"all {self.retry.max_attempts} attempts"
        given_up = ConflictError(
            f"This call conflicted with concurrent writes on {attempts} attempts ({spent}) and made no change. "
            "Retry later; if it keeps happening, many calls write the same document or index range "
            "(see docs/database.md, hot documents).",
            detail=f"{error.message} {error.detail}".strip(),
        )
        given_up.__cause__ = error
        return given_up

    def run_query(self, fn: Callable[[DatabaseReader], T]) -> T:
        """Run ``fn`` with a read-only ``db`` in one consistent transaction and return its result."""
        attempt = 0
        last: SystemFailure | None = None
        while True:
            attempt += 1
            tx = self._transaction("read")
            try:
                try:
                    result = fn(DatabaseReader(tx, self._codec))
                except ConflictError:
                    raise
                except Exception:
                    self._validate_before_raising(tx)
                    raise
                tx.validate()
                collect_read_set(tx.read_set)
                return result
            except ConflictError as error:
                self._wait(attempt, error)
                last = error
            except BudgetSpentError as spent:  # a retry that ran out of time reports what it retried
                collect_read_set(tx.read_set)
                if last is None:
                    raise
                raise self._given_up(attempt - 1, last, out_of_time=True) from spent
            except Exception:
                collect_read_set(tx.read_set)  # a failed query is re-run too when what it read changes
                raise
            finally:
                tx.close()

    def run_mutation(self, fn: Callable[[DatabaseWriter], T]) -> T:
        """Run ``fn`` with a read-write ``db`` as one serializable transaction; retry it on conflicts.

        Inside :func:`~authlib_core.database.receipts.receipt_on_commit`, the receipt made from ``fn``'s result is
        written in the same commit (or, when the commit has no room for it or writes nothing, right after it).
        """
        make_receipt = take_receipt_maker()
        attempt = 0
        last: SystemFailure | None = None
        while True:
            attempt += 1
            contended = attempt > self.retry.exclusive_after
            exclusive = self.engine.supports_exclusive and contended
            try:
                with self._contended_lane(contended and not exclusive):
                    tx = self._transaction("exclusive" if exclusive else "write")
                    try:
                        try:
                            result = fn(DatabaseWriter(tx, self._codec))
                        except ConflictError:
                            raise
                        except Exception:
                            self._validate_before_raising(tx)
                            raise
                        receipt = make_receipt(result) if make_receipt is not None else None  # type: ignore[arg-type]
                        ops, carried = tx.commit(receipt)
                    finally:
                        tx.close()
                self.stats.commits += 1
                if receipt is not None and not carried:
                    self._keep_receipt(receipt, bool(ops))
                if ops:
                    self._publish(write_set(ops))
                return result
            except (ConflictError, ThrottledWriteError) as error:  # nothing was written: run it again
                self._wait(attempt, error)
                last = error
            except BudgetSpentError as spent:
                # A retry that ran out of time before sending a call (nothing of it was written): the store
                # answered every call, so the client is told of the conflicts (or throttling) it was retrying.
                if last is None:
                    raise
                raise self._given_up(attempt - 1, last, out_of_time=True) from spent

    @contextlib.contextmanager
    def _contended_lane(self, take: bool) -> Iterator[None]:
        """For engines without exclusive transactions: this process's repeatedly conflicting mutations take turns.

        A mutation that has conflicted ``exclusive_after`` times runs its next attempts holding a process-wide
        lock, so the threads of one server (the dev server) stop crowding each other out of a hot document; first
        attempts do not wait for it. Other processes (Lambda instances) are unaffected: there backoff alone spreads
        the writers. Waiting for the lock counts against the request's time budget.
        """
        if not take:
            yield
            return
        left = remaining()
        timeout = -1.0 if left is None else max(0.0, left - self.engine.call_budget_s)
        if not self._lane.acquire(timeout=timeout):
            raise ConflictError(
                "This call waited for its turn at a hot document until its time budget ran out.",
                detail="the contended lane stayed busy",
            )
        try:
            yield
        finally:
            self._lane.release()

    def _keep_receipt(self, receipt: Receipt, wrote: bool) -> None:
        """A receipt the commit could not carry: kept now. A mutation that wrote nothing needs no atomicity (running
        it again changes nothing); one that did is logged, since a re-send after a crash in between runs again."""
        if wrote:
            logger.warning(
                "a mutation's receipt (%s) did not fit in its commit and is kept right after it", receipt.scope
            )
        try:
            self.engine.write_receipt(receipt)
        except Exception:  # the mutation has committed: its caller still gets its result
            logger.exception("could not keep a mutation's receipt (%s)", receipt.scope)

    def _publish(self, writes: WriteSet) -> None:
        for listener in list(self.commit_listeners):
            try:
                listener(writes)
            except Exception:  # a listener's failure never turns a committed mutation into an error
                logger.exception("a commit listener failed")

    def _validate_before_raising(self, tx: Transaction) -> None:
        """A function that failed may have failed *because* its reads were inconsistent; if so, retry it."""
        if not self.engine.snapshot_reads:
            tx.validate()

    def close(self) -> None:
        """Close the engine."""
        self.engine.close()
