"""The answers of mutations received over the sync protocol, committed with the mutations themselves.

A Convex client re-sends every mutation it has not seen settled (no ``MutationResponse``, or no ``Transition`` reaching
its ``ts``) when it reconnects, with the same ``(sessionId, requestId)``. Convex's backend answers such a re-send from
its ``_session_requests`` table, written in the mutation's own transaction, instead of running it again.
:class:`ReceiptMutationLog` does the same with the storage engine's receipts (:mod:`authlib_core.database.receipts`):
the answer of a mutation that succeeds is part of its commit (SQLite: table ``receipts`` in the file of the
documents; DynamoDB: an item of the documents table in the same ``TransactWriteItems``). So the answer exists
exactly when the commit does: a process killed between the commit and the reply (a dev-server crash, a Lambda that
timed out) leaves an answer, and the re-send gets it instead of running the mutation again.

* A failed mutation wrote nothing; its answer is kept right after it (running it again could not write twice),
  unless an answer is kept for the request already: a failure never replaces a committed success.
* Two runs of one request at the same moment (a client re-sends on a new connection while the first run is still
  going, as an AWS connection's Lambda may be): the receipt is written only where none is kept, so one commits and
  the other is refused whole (:class:`~authlib_core.database.receipts.ReceiptExistsError`, nothing written) and
  answered from the receipt of the one that committed. The mutation runs once.
* An answer is kept for :data:`ANSWER_LIFETIME_S` (the client re-sends when it reconnects, normally within seconds).
* The ``ts`` of a re-sent success is the feed position when it is answered, which includes the commit (the
  ``Transition`` that follows reaches it), not the commit's own.
* An answer larger than the engine can keep in one commit (DynamoDB: one item, :attr:`max_receipt_bytes`) is kept
  without its log lines; if its result alone is too large, what is kept says so: a re-send is answered with a
  failure explaining that the mutation ran and its result was too large to keep. It never runs twice.
* An engine without receipts keeps the answers in memory (:class:`~authlib_core.sync.protocol.MutationLog`).

Example:
    >>> log = ReceiptMutationLog(lambda: runtime.database.engine)                 # doctest: +SKIP
    >>> log.get("3f0c…", 1) is None                                               # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any, Final

from authlib_core.database.receipts import Receipt
from authlib_core.errors import StorageUnavailableError
from authlib_core.sync.protocol import MutationLog

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.database.interface import StorageEngine

__all__ = ["ANSWER_LIFETIME_S", "SCOPE", "ReceiptMutationLog"]

logger = logging.getLogger("authlib_core.sync")

#: How long an answer is kept for a client that re-sends its mutation after reconnecting: a day.
ANSWER_LIFETIME_S: Final = 24 * 3600
#: The receipts' scope (their keys are ``<sessionId>#<requestId>``; the session passes its ``sessionId`` with a digest
#: of the caller's identity, ``<sessionId>#<caller>``, so an answer goes back only to the caller who sent it).
SCOPE: Final = "sync"

_UNREADABLE = (
    "Could not read the log of answered mutations, so this mutation was not run (it may have run before a "
    "reconnect). Retry it."
)


def _text(answer: Any) -> str:
    return json.dumps(answer, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _fit(answer: dict[str, Any], limit: int) -> str:
    """``answer`` as text of at most ``limit`` UTF-8 bytes: without its log lines if need be, else a failure that
    says the mutation ran but its result was too large to keep."""
    text = _text(answer)
    if len(text.encode("utf-8")) > limit and answer.get("logLines"):
        text = _text({**answer, "logLines": []})
    if len(text.encode("utf-8")) <= limit:
        return text
    size = len(_text(answer.get("result")).encode("utf-8"))
    return _text(
        {
            "type": "MutationResponse",
            "requestId": answer.get("requestId"),
            "logLines": [],
            "success": False,
            "result": f"This mutation ran before the connection was lost, but its answer ({size} bytes) was too large "
            f"to keep for a re-send ({limit} bytes at most here), so it is not shown again. The data shows the "
            "mutation's effect; return less from a mutation to get its result after a reconnect.",
            "ts": None,
        }
    )


class ReceiptMutationLog:
    """Answers by ``(sessionId, requestId)`` as receipts of the current engine (a
    :class:`~authlib_core.sync.ports.MutationAnswers`; see the module docstring).

    ``engine`` is called for each use, so the dev server's reloads (a new runtime) are followed.
    """

    def __init__(
        self,
        engine: Callable[[], StorageEngine],
        *,
        lifetime_s: int = ANSWER_LIFETIME_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if lifetime_s < 1:
            raise ValueError(f"lifetime_s must be at least 1, got {lifetime_s}")
        self._engine = engine
        self._lifetime_s = lifetime_s
        self._clock = clock
        self._memory = MutationLog()  # engines without receipts

    def _receipt(self, session_id: str, request_id: int, text: str) -> Receipt:
        return Receipt(SCOPE, f"{session_id}#{request_id}", text, int(self._clock()) + self._lifetime_s)

    def get(self, session_id: str, request_id: int) -> dict[str, Any] | None:
        """The answer kept for this request, if any and not expired.

        Raises:
            StorageUnavailableError: the store cannot be read (then the mutation must not run: it may have run).
        """
        engine = self._engine()
        if not engine.supports_receipts:
            return self._memory.get(session_id, request_id)
        try:
            text = engine.read_receipt(SCOPE, f"{session_id}#{request_id}")
        except StorageUnavailableError as error:
            raise StorageUnavailableError(_UNREADABLE, detail=f"{error.message} {error.detail}".strip()) from error
        if text is None:
            return None
        answer: dict[str, Any] = json.loads(text)
        return answer

    def receipt(self, session_id: str, request_id: int, answer: dict[str, Any]) -> Receipt | None:
        """The receipt that commits ``answer`` (a success) with its mutation; None when the engine keeps none."""
        engine = self._engine()
        if not engine.supports_receipts:
            return None
        return self._receipt(session_id, request_id, _fit(answer, engine.max_receipt_bytes))

    def put(self, session_id: str, request_id: int, answer: dict[str, Any]) -> dict[str, Any]:
        """Keep an answer no commit carried (a failed mutation), unless one is kept for the request already (a
        concurrent run's committed success is never replaced); returns the answer that stands. A failure to write
        is logged, not raised: the client still gets the answer; only a re-send of this request would run again."""
        engine = self._engine()
        if not engine.supports_receipts:
            return self._memory.put(session_id, request_id, answer)
        try:
            if engine.write_receipt(self._receipt(session_id, request_id, _fit(answer, engine.max_receipt_bytes))):
                return answer
            kept = self.get(session_id, request_id)
        except Exception:
            logger.exception("could not keep a mutation's answer; a re-send of request %d would run again", request_id)
            return answer
        return answer if kept is None else kept
