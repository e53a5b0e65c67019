"""What every benchmark shares: result rows, statistics, API Gateway events, apps over moto or SQLite.

A :class:`Row` is one line of the final table: a figure, our median with its spread, the baseline's median with its
spread (measured in the same run), the ratio and the target. ``ratio`` is always ``ours / baseline``; ``higher``
says whether a larger ratio is better (throughput) or worse (time).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import os
import statistics
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXAMPLE_FUNCTIONS = ROOT / "functions"  # the example app: myData:getMyData
BENCH_FUNCTIONS = ROOT / "bench" / "app"  # notes / counters for counts, scaling, contention
REGION = "us-east-1"
SECRET = "bench-secret-" + "x" * 40
ORIGIN = "https://api.example.test"
SESSION_COOKIE = "__Secure-better-auth.session_token"


@dataclasses.dataclass
class Row:
    """One line of the table."""

    section: str
    figure: str
    unit: str
    ours: float | None
    baseline: float | None = None
    ours_spread: tuple[float, float] | None = None
    baseline_spread: tuple[float, float] | None = None
    target: str = ""
    #: "max": ratio must be <= target_value; "min": ratio >= target_value; "eq": ours == target_value
    target_kind: str = ""
    target_value: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.baseline:
            return None
        return self.ours / self.baseline

    @property
    def met(self) -> bool | None:
        if self.target_value is None:
            return None
        if self.target_kind == "eq":
            return self.ours == self.target_value
        if self.target_kind == "abs_max":  # a bound on our own figure, not on the ratio
            return self.ours is not None and self.ours <= self.target_value
        value = self.ratio
        if value is None:
            return None
        return value <= self.target_value if self.target_kind == "max" else value >= self.target_value

    def as_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ratio": self.ratio, "met": self.met}


def median_spread(samples: Sequence[float]) -> tuple[float, tuple[float, float]]:
    """The median and (min, max) of ``samples``."""
    return statistics.median(samples), (min(samples), max(samples))


def fmt(value: float | None, spread: tuple[float, float] | None = None) -> str:
    if value is None:
        return "-"
    text = _num(value)
    if spread is not None and spread[0] != spread[1]:
        text += f" ({_num(spread[0])}-{_num(spread[1])})"
    return text


def _num(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


# --- API Gateway v2 events ---------------------------------------------------------------------------------


class Context:
    """The Lambda context fields Powertools Logger reads."""

    aws_request_id = "bench"
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"


def make_event(
    method: str, path: str, body: Any = None, *, cookies: Sequence[str] = (), headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) event, as API Gateway sends it (body not base64-encoded)."""
    raw = "" if body is None else (body if isinstance(body, str) else json.dumps(body))
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "cookies": list(cookies),
        "headers": {
            "content-type": "application/json",
            "host": "api.example.test",
            "origin": ORIGIN,
            "x-forwarded-proto": "https",
            **(headers or {}),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "api.example.test",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "b"},
            "requestId": f"req-{uuid.uuid4().hex[:12]}",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 0,
        },
        "body": raw,
        "isBase64Encoded": False,
    }


def query_event(path: str, args: dict[str, Any] | None = None, cookie: str | None = None) -> dict[str, Any]:
    return make_event("POST", "/api/query", {"path": path, "args": args or {}}, cookies=[cookie] if cookie else ())


class _DiscardStream:
    """A text stream that drops what it is given (not an ``io`` object: those close themselves when collected)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


@functools.cache
def discard_logger() -> Any:
    """A Powertools Logger that formats every line (as in Lambda) and writes it nowhere.

    Powertools configures one stdlib logger per service name, once: a second Logger of the same service with its own
    handler is left without a registered formatter. The bench's logger therefore has a service name of its own, so
    it neither breaks nor is broken by an app logger ("authlib-core") built earlier in the same process (tests).
    """
    from aws_lambda_powertools import Logger

    stream = sys.stderr if os.environ.get("BENCH_LOG") else _DiscardStream()  # BENCH_LOG=1 shows the app's logs
    return Logger(service="authlib-core-bench", logger_handler=logging.StreamHandler(stream))


# --- apps ---------------------------------------------------------------------------------------------------


def aws_env() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")


@dataclasses.dataclass
class Stack:
    """A runtime, the HTTP app over it, and (on DynamoDB) its boto3 client."""

    runtime: Any
    app: Any
    client: Any = None

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.app(event, Context())

    def sign_up(self, email: str = "bench@example.test") -> str:
        """Sign a user up; returns the session cookie (``name=value``)."""
        response = self.call(
            make_event("POST", "/api/auth/sign-up/email", {"name": "Bench", "email": email, "password": "pw-12345678"})
        )
        assert response["statusCode"] == 200, response["body"]
        cookie = next(c for c in response["cookies"] if c.startswith(SESSION_COOKIE + "="))
        return cookie.split(";", 1)[0]

    def run(self, kind: str, path: str, args: dict[str, Any] | None = None, cookie: str | None = None) -> Any:
        event = make_event(
            "POST", f"/api/{kind}", {"path": path, "args": args or {}}, cookies=[cookie] if cookie else ()
        )
        body = json.loads(self.call(event)["body"])
        assert body.get("status") == "success", body
        return body["value"]


def dynamodb_stack(
    functions: Path = EXAMPLE_FUNCTIONS, *, endpoint_url: str | None = None, tables: str = "bench", logger: Any = None
) -> Stack:
    """Our runtime on DynamoDB (in-process moto when ``endpoint_url`` is None — enter ``mock_aws`` first)."""
    aws_env()
    from authlib_core.config import Settings
    from authlib_core.database.engines.dynamodb import create_client, create_tables
    from authlib_core.http.app import HttpApp
    from authlib_core.runtime import build_runtime

    names = {"documents": f"{tables}-documents", "sessions": f"{tables}-sessions"}
    create_tables(create_client(endpoint_url=endpoint_url, region=REGION), names)
    settings = Settings(
        engine="dynamodb",
        functions_dir=functions,
        documents_table=names["documents"],
        sessions_table=names["sessions"],
        dynamodb_endpoint_url=endpoint_url,
        region=REGION,
        secrets=(SECRET,),
    )
    runtime = build_runtime(settings)
    runtime.database.ensure_indexes()
    app = HttpApp(lambda: runtime, logger=logger or discard_logger())
    return Stack(runtime, app, runtime.database.engine.client)


def sqlite_stack(path: Path, functions: Path = EXAMPLE_FUNCTIONS, *, logger: Any = None) -> Stack:
    """Our runtime on a SQLite file."""
    from authlib_core.config import Settings
    from authlib_core.http.app import HttpApp
    from authlib_core.runtime import build_runtime

    runtime = build_runtime(Settings(functions_dir=functions, sqlite_path=path, secrets=(SECRET,)))
    return Stack(runtime, HttpApp(lambda: runtime, logger=logger or discard_logger()))


@contextlib.contextmanager
def moto() -> Iterator[None]:
    """In-process moto (``mock_aws``), with DynamoDB's current limit of 100 items per ``TransactGetItems`` (moto 5
    still refuses more than 25, the limit until 2022; the engine reads up to 100)."""
    aws_env()
    import moto.dynamodb.responses
    from moto import mock_aws

    moto.dynamodb.responses.TRANSACTION_MAX_ITEMS = 100  # type: ignore[attr-defined]

    with mock_aws():
        yield


class Recorder:
    """Records every DynamoDB call a client makes: operation, API parameters, parsed response."""

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self._params: list[tuple[str, dict[str, Any]]] = []
        self.active = False
        self._client = client

    def _on_params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.active:
            import copy

            self._params.append((model.name, copy.deepcopy(params)))

    def _on_response(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if self.active:
            import copy

            name, params = self._params.pop(0)
            assert name == model.name
            response = copy.deepcopy(parsed)
            response.pop("ResponseMetadata", None)
            self.calls.append((name, params, response))

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[tuple[str, dict[str, Any], dict[str, Any]]]]:
        self.calls, self._params, self.active = [], [], True
        # registered only while recording: a handler left on the client would be timed as part of every call
        events = self._client.meta.events
        events.register("provide-client-params.dynamodb", self._on_params, unique_id=f"rec-p-{id(self)}")
        events.register("after-call.dynamodb", self._on_response, unique_id=f"rec-r-{id(self)}")
        try:
            yield self.calls
        finally:
            self.active = False
            events.unregister("provide-client-params.dynamodb", unique_id=f"rec-p-{id(self)}")
            events.unregister("after-call.dynamodb", unique_id=f"rec-r-{id(self)}")
