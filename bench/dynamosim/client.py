"""The low-level DynamoDB client the engine is given inside the model: the operations it calls, in virtual time.

A call made by an instance thread travels for ``one_way_s``, is served by :class:`~.store.Store`, travels back,
and returns the response or raises botocore's own ``ClientError`` with the error shape DynamoDB sends — so
``errors.py`` and ``commits.py`` run exactly as against AWS. Like botocore's "standard" retry mode (the mode
``create_client`` sets, ``MAX_ATTEMPTS`` = 3), throttling errors are retried with its backoff
``rand(0, 1) * min(2 ** i, 20)`` seconds (``botocore/retries/standard.py``, ``ExponentialBackoff``);
``TransactionCanceledException`` and ``TransactionConflictException`` are not retried by botocore.

Example:
    >>> sim = Scheduler(); store = Store(sim); client = SimClient(sim, store, seed=1)  # doctest: +SKIP
    >>> engine = DynamoDBEngine(client, "authlib-documents")  # doctest: +SKIP
"""

from __future__ import annotations

import random
import types
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from authlib_core.database.engines.dynamodb import CONNECT_TIMEOUT_S, MAX_ATTEMPTS, READ_TIMEOUT_S
from bench.dynamosim.store import StoreError

if TYPE_CHECKING:
    from bench.dynamosim.scheduler import Scheduler
    from bench.dynamosim.store import Store

#: botocore standard mode: throttling backoff base scale (s) and cap.
_THROTTLE_BASE_S = 1.0
_MAX_BACKOFF_S = 20.0


class SimClient:
    """The engine's DynamoDB client inside the model (one per simulated Lambda instance)."""

    def __init__(self, sim: Scheduler, store: Store, *, seed: int, max_attempts: int = MAX_ATTEMPTS) -> None:
        self._sim = sim
        self._store = store
        self._rng = random.Random(seed)
        self._max_attempts = max_attempts
        config = types.SimpleNamespace(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S)
        self.meta = types.SimpleNamespace(config=config)
        #: Attempts sent, per operation (botocore's retries included).
        self.attempts: dict[str, int] = {}

    def get_item(self, **params: Any) -> dict[str, Any]:
        return self._call("GetItem", params)

    def query(self, **params: Any) -> dict[str, Any]:
        return self._call("Query", params)

    def batch_get_item(self, **params: Any) -> dict[str, Any]:
        return self._call("BatchGetItem", params)

    def transact_get_items(self, **params: Any) -> dict[str, Any]:
        return self._call("TransactGetItems", params)

    def transact_write_items(self, **params: Any) -> dict[str, Any]:
        return self._call("TransactWriteItems", params)

    def put_item(self, **params: Any) -> dict[str, Any]:
        return self._call("PutItem", params)

    def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            outcome = self._send(operation, params)
            if not isinstance(outcome, StoreError):
                return outcome
            if outcome.throttled and attempt < self._max_attempts:
                self._sim.sleep(self._rng.random() * min(_THROTTLE_BASE_S * 2 ** (attempt - 1), _MAX_BACKOFF_S))
                continue
            response: dict[str, Any] = {
                "Error": {"Code": outcome.code, "Message": outcome.message},
                "ResponseMetadata": {"HTTPStatusCode": outcome.status},
            }
            if outcome.reasons is not None:
                response["CancellationReasons"] = [{"Code": reason} for reason in outcome.reasons]
            raise ClientError(response, operation)  # type: ignore[arg-type]

    def _send(self, operation: str, params: dict[str, Any]) -> Any:
        """One attempt: travel, service, travel back, in virtual time; the calling instance waits meanwhile."""
        self.attempts[operation] = self.attempts.get(operation, 0) + 1
        sim = self._sim
        wake = sim.current()
        box: list[Any] = []
        one_way = self._store.config.one_way_s

        def reply(outcome: Any, leaves_at: float) -> None:
            def deliver() -> None:
                box.append(outcome)
                sim.resume(wake)

            sim.at(leaves_at + one_way, deliver)

        sim.at(sim.now + one_way, lambda: self._store.serve(operation, params, reply))
        sim.block()
        return box[0]
