"""Storage faults injected into the real botocore client with an event hook (moto stands in for DynamoDB).

A :class:`Fault` names a DynamoDB operation, which call of it to hit (counting from 1 after the fault is armed),
what goes wrong, and on how many consecutive attempts of that call (botocore retries within one call; more
attempts than botocore makes exhausts its retries). The hook is registered on ``before-send``: for each HTTP
attempt it either lets the request through, answers in DynamoDB's place (throttling, a cancelled transaction),
raises what urllib3 would (timeouts, refused connections) — or, for ``lost_response``, sends the request to the
server for real and then raises a read timeout, so the write is applied and its answer never arrives.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from botocore.httpsession import URLLib3Session

if TYPE_CHECKING:
    from collections.abc import Iterator

#: What can go wrong, and whether DynamoDB may have applied the request.
KINDS = (
    "ProvisionedThroughputExceededException",  # answered: throttled (nothing applied)
    "ThrottlingException",  # answered: throttled (nothing applied)
    "TransactionConflict",  # answered: TransactionCanceledException [.., TransactionConflict] (TransactWriteItems)
    "TransactionConflictException",  # answered: a single-item write hit an item in a transaction
    "TransactionThrottled",  # answered: TransactionCanceledException [.., ThrottlingError] (nothing applied)
    "ReadTimeout",  # sent, no answer; nothing applied (the server never got it whole)
    "ConnectTimeout",  # never sent
    "EndpointConnectionError",  # never sent
    "lost_response",  # sent and applied; the answer is lost (read timeout)
)


@dataclasses.dataclass(frozen=True)
class Fault:
    operation: str  # "GetItem", "Query", "TransactWriteItems", ...
    kind: str
    call: int | None = 1  # which call of `operation` after arming (1 = the next one; None = every call)
    attempts: int = 1  # consecutive attempts of that call (of each call, with call=None) that fail


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _answer(status: int, code: str, message: str, **fields: Any) -> AWSResponse:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **fields}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault-injected"}
    return AWSResponse("http://fault.invalid/", status, headers, _Raw(body))


class Injector:
    """Arms faults on one client; thread-safe; records what it did in :attr:`fired`."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._fault: Fault | None = None
        self._calls = 0
        #: Failed attempts per call number. The call a request belongs to is the one its own thread's
        #: ``before-call`` counted: calls sent in parallel (a Query per index partition) interleave their events.
        self._attempts: dict[int, int] = {}
        self._local = threading.local()
        self._armings = 0  # a call counted under an earlier arming is none of the current fault's
        self._last_call_id: int | None = None
        self.fired: list[str] = []
        self._http = URLLib3Session()
        client.meta.events.register("before-send.dynamodb", self._before_send, unique_id="fault-injector")
        client.meta.events.register("before-call.dynamodb", self._before_call, unique_id="fault-injector-call")

    def arm(self, fault: Fault | None) -> None:
        with self._lock:
            self._fault = fault
            self._calls = 0
            self._attempts = {}
            self._armings += 1
            if fault is not None:  # disarming keeps the record of what fired
                self.fired = []

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No faults inside the block (the armed fault, and its call count, resume afterwards)."""
        with self._lock:
            saved, self._fault = self._fault, None
        try:
            yield
        finally:
            with self._lock:
                self._fault = saved

    def close(self) -> None:
        self._client.meta.events.unregister("before-send.dynamodb", unique_id="fault-injector")
        self._client.meta.events.unregister("before-call.dynamodb", unique_id="fault-injector-call")

    def _before_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            if self._fault is not None and model.name == self._fault.operation:
                self._calls += 1
                self._local.call = (self._armings, self._calls)

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        operation = request.headers.get("X-Amz-Target", b"")
        operation = (operation.decode() if isinstance(operation, bytes) else operation).rpartition(".")[2]
        with self._lock:
            fault = self._fault
            armed, call = getattr(self._local, "call", (None, None))
            if armed != self._armings:
                call = None
            if fault is None or operation != fault.operation or call is None or fault.call not in (None, call):
                return None
            attempts = self._attempts.get(call, 0)
            if attempts >= fault.attempts:
                return None
            self._attempts[call] = attempts + 1
            self.fired.append(f"{fault.kind}@{operation}#{call}.{attempts + 1}")
        return self._fail(fault, request)

    def _fail(self, fault: Fault, request: Any) -> AWSResponse | None:
        url = request.url
        if fault.kind in ("ProvisionedThroughputExceededException", "ThrottlingException"):
            return _answer(400, fault.kind, "Rate of requests exceeds the allowed throughput (injected).")
        if fault.kind == "TransactionConflictException":
            return _answer(400, fault.kind, "Transaction is ongoing for the item (injected).")
        if fault.kind in ("TransactionConflict", "TransactionThrottled"):
            count = len(json.loads(request.body)["TransactItems"])
            reason = "TransactionConflict" if fault.kind == "TransactionConflict" else "ThrottlingError"
            reasons = [{"Code": "None"}] * (count - 1) + [{"Code": reason, "Message": "injected"}]
            codes = ", ".join(reason["Code"] for reason in reasons)
            return _answer(
                400,
                "TransactionCanceledException",
                f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                CancellationReasons=reasons,
            )
        if fault.kind == "ReadTimeout":
            raise ReadTimeoutError(endpoint_url=url)
        if fault.kind == "ConnectTimeout":
            raise ConnectTimeoutError(endpoint_url=url)
        if fault.kind == "EndpointConnectionError":
            raise EndpointConnectionError(endpoint_url=url)
        if fault.kind == "lost_response":
            self._http.send(request)  # the server applies it ...
            raise ReadTimeoutError(endpoint_url=url)  # ... and the answer never arrives
        raise AssertionError(f"unknown fault kind {fault.kind}")
