"""Workloads on the model: N simulated Lambda instances running real mutations through the real engine.

Each instance is one Lambda instance: its own client, its own ``DynamoDBEngine`` and ``Database`` (retry policy,
backoff, contended lane — all the production code), handling one request at a time, back to back (a closed loop)
for ``duration_s`` of virtual time. The schema is the benchmark app's (``bench/app/schema.py``): ``notes`` with
the index ``by_user`` and no ``shards=``, ``counters``.

* ``independent users`` — instance *i* is user *i*: read the user's own notes (``by_user``, ``eq``, ``take(100)``),
  then insert a note (while the user has fewer than 5) or patch one of them.
* ``shared feed`` — insert a note, then query the newest 20 notes (``by_creation_time``, ``desc``, ``take(20)``)
  in a separate read-only call, as a feed page would.
* ``hot counter`` — everyone increments one document (read it, patch it with ``n + 1``).

Example:
    >>> run_workload("hot counter", instances=2, duration_s=0.1, seed=1).commits > 0  # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
import random
import statistics
from typing import TYPE_CHECKING, Any

from authlib_core.database import Database
from authlib_core.database.engines.dynamodb import DynamoDBEngine
from authlib_core.errors import AuthlibError
from bench.app.schema import schema
from bench.dynamosim.client import SimClient
from bench.dynamosim.scheduler import Scheduler
from bench.dynamosim.store import ModelConfig, Store

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from authlib_core.schema import Schema

TABLE = "authlib-documents"
WORKLOADS = ("independent users", "shared feed", "hot counter")
_NOTES_PER_USER = 5


@dataclasses.dataclass
class Result:
    """The figures of one run (virtual time)."""

    workload: str
    instances: int
    duration_s: float
    commits: int
    failures: int
    retries: int
    latencies_ms: list[float]
    throttles: int
    transaction_conflicts: int
    busiest_partition: str
    busiest_share_pct: float
    busiest_kind: str
    busiest_conflict_item: str
    calls: dict[str, int]
    queries: int = 0

    @property
    def commits_per_s(self) -> float:
        return self.commits / self.duration_s

    @property
    def retries_per_commit(self) -> float:
        return self.retries / self.commits if self.commits else float("nan")

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(q) - 1]


class _VirtualPool:
    """The engine's shard-query thread pool, in virtual time (real pool threads would run outside the scheduler)."""

    def __init__(self, sim: Scheduler, workers: int) -> None:
        self._sim = sim
        self._workers = workers

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        return iter(self._sim.parallel_map(fn, items, self._workers))


class ModelEngine(DynamoDBEngine):
    """The production engine; its multi-partition ``Query`` fan-out runs on simulated threads and its pauses (a
    commit whose items were busy) in virtual time, with seeded jitter."""

    def __init__(
        self, client: SimClient, table_name: str, sim: Scheduler, *, seed: int = 0, max_parallel_queries: int = 8
    ) -> None:
        super().__init__(client, table_name, max_parallel_queries=max_parallel_queries, sleep=sim.sleep)  # type: ignore[arg-type]
        self.random = random.Random(seed)
        self._pool = _VirtualPool(sim, max(1, max_parallel_queries))

    def executor(self) -> Any:
        return self._pool


class Model:
    """One modelled table with its scheduler; :meth:`database` gives each simulated instance its own stack."""

    def __init__(self, seed: int = 0, config: ModelConfig | None = None, schema: Schema = schema) -> None:
        self.seed = seed
        self.schema = schema
        self.sim = Scheduler()
        self.store = Store(self.sim, config, seed=seed)
        self._instances = 0

    def database(self, clock: Callable[[], float] | None = None) -> tuple[Database, SimClient]:
        """A new instance's ``Database`` over its own client and engine (seeded from the model's seed)."""
        self._instances += 1
        seed = self.seed * 100_003 + self._instances
        client = SimClient(self.sim, self.store, seed=seed)
        engine = ModelEngine(client, TABLE, self.sim, seed=seed)
        database = Database(
            engine,
            self.schema,
            cursor_secret=b"model-cursor-secret-" + b"x" * 16,
            clock=clock or self.sim.clock,
            sleep=self.sim.sleep,
            rng=random.Random(seed),
        )
        return database, client

    def run_one(self, body: Callable[[Database], Any], clock: Callable[[], float] | None = None) -> Any:
        """Run ``body`` on a fresh instance to completion (setup, and single-client comparisons)."""
        database, _ = self.database(clock)
        out: list[Any] = []
        self.sim.spawn(lambda: out.append(body(database)))
        self.sim.run()
        return out[0]


def _independent(i: int) -> Callable[[Any], Any]:
    user = f"user-{i}"

    def mutation(w: Any) -> None:
        mine = w.query("notes").with_index("by_user", lambda q: q.eq("userId", user)).take(100)
        if len(mine) < _NOTES_PER_USER:
            w.insert("notes", {"userId": user, "text": f"note {len(mine)}"})
        else:
            oldest = min(mine, key=lambda note: note["_creationTime"])
            w.patch(oldest["_id"], {"text": oldest["text"] + "+"})

    return mutation


def _feed_insert(i: int) -> Callable[[Any], Any]:
    return lambda w: w.insert("notes", {"userId": f"user-{i}", "text": "post"})


def _feed_page(r: Any) -> list[Any]:
    page: list[Any] = r.query("notes").order("desc").take(20)
    return page


def run_workload(
    workload: str,
    *,
    instances: int,
    duration_s: float,
    seed: int = 0,
    config: ModelConfig | None = None,
    schema: Schema = schema,
) -> Result:
    """Run ``workload`` with ``instances`` simulated Lambda instances for ``duration_s`` of virtual time.

    ``schema`` defaults to the benchmark app's; pass a variant (e.g. ``shards=``) to measure a what-if.
    """
    if workload not in WORKLOADS:
        raise ValueError(f"unknown workload {workload!r}; choose one of {', '.join(WORKLOADS)}")
    model = Model(seed, config, schema)
    counter_id = ""
    if workload == "hot counter":
        counter_id = model.run_one(lambda db: db.run_mutation(lambda w: w.insert("counters", {"name": "c", "n": 0.0})))
    start = model.sim.now
    end = start + duration_s
    stats = {"commits": 0, "failures": 0, "queries": 0, "applied": 0}
    latencies: list[float] = []
    databases: list[Database] = []

    def bump(w: Any) -> None:
        counter = w.get(counter_id)
        w.patch(counter_id, {"n": counter["n"] + 1})

    def instance(i: int, database: Database) -> None:
        mutation = _independent(i) if workload == "independent users" else _feed_insert(i)
        if workload == "hot counter":
            mutation = bump
        while model.sim.now < end:
            began = model.sim.now
            try:
                database.run_mutation(mutation)
            except AuthlibError:
                stats["failures"] += 1
                continue
            stats["applied"] += 1
            if model.sim.now <= end:
                stats["commits"] += 1
                latencies.append((model.sim.now - began) * 1000)
            if workload == "shared feed" and model.sim.now < end:
                try:
                    database.run_query(_feed_page)
                    stats["queries"] += 1
                except AuthlibError:
                    stats["failures"] += 1

    before = dict(model.store.stats.calls)
    throttles_before = model.store.stats.throttles
    for i in range(instances):
        database, _ = model.database()
        databases.append(database)
        model.sim.spawn(lambda i=i, database=database: instance(i, database))  # type: ignore[misc]
    model.sim.run()
    if workload == "hot counter":
        final = model.run_one(lambda db: db.run_query(lambda r: r.get(counter_id)["n"]))
        if final != stats["applied"]:
            raise AssertionError(f"hot counter: {stats['applied']} increments committed, the counter holds {final}")
    store = model.store.stats
    busiest, share, kind = store.busiest()
    hottest = store.conflict_items.most_common(1)

    def name(pk: str) -> str:
        item = model.store.item((pk, b"\x00")) if pk.startswith("d#") else None
        return f"a {item['tbl']['S']} document" if item and "tbl" in item else pk

    return Result(
        workload=workload,
        instances=instances,
        duration_s=duration_s,
        commits=stats["commits"],
        failures=stats["failures"],
        retries=sum(db.stats.conflicts for db in databases),
        latencies_ms=latencies,
        throttles=store.throttles - throttles_before,
        transaction_conflicts=store.transaction_conflicts,
        busiest_partition=name(busiest),
        busiest_share_pct=share,
        busiest_kind=kind,
        busiest_conflict_item=name(hottest[0][0][0]) if hottest else "-",
        calls={op: n - before.get(op, 0) for op, n in store.calls.items()},
        queries=stats["queries"],
    )
