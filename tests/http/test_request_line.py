"""The request line written directly is byte for byte what Powertools' ``logger.info("request", extra=...)`` writes."""

from __future__ import annotations

import io
import logging
import time
import uuid

import pytest
from aws_lambda_powertools import Logger

from authlib_core.dev.console import ConsoleFormatter
from authlib_core.http.log_context import LambdaLogContext
from authlib_core.http.request_line import RequestLine
from tests.http.conftest import Context

FIELDS = {
    "method": "POST",
    "route": "/api/query",
    "function": "myData:getMyData",
    "kind": "query",
    "status": 200,
    "outcome": "success",
    "duration_ms": 1.25,
    "request_id": "rid-1",
}
#: The auth and health lines: function and kind are None and left out.
AUTH_FIELDS = {**FIELDS, "function": None, "kind": None, "route": "/api/auth/get-session", "status": 401}


def pair(propagate: bool = False, **options):
    """Two identically configured loggers (own service names), each writing to its own buffer."""
    streams = (io.StringIO(), io.StringIO())
    suffix = uuid.uuid4().hex[:8]
    loggers = []
    for name, stream in zip(("ours", "theirs"), streams, strict=True):
        logger = Logger(service=f"line-{name}-{suffix}", logger_handler=logging.StreamHandler(stream), **options)
        logger._logger.propagate = propagate  # pytest's capture handler on the root has no SuppressFilter
        loggers.append(logger)
    return loggers, streams


def emit_both(ours: Logger, theirs: Logger, fields) -> None:
    # one line, so that the location (function:line) of both is the same
    (RequestLine(ours).write(fields), theirs.info("request", extra=dict(fields)))


def outputs(streams) -> tuple[str, str]:
    """What each wrote, with the (necessarily different) service names made equal."""
    return streams[0].getvalue().replace('"line-ours-', '"line-theirs-'), streams[1].getvalue()


@pytest.fixture
def frozen_clock(monkeypatch):
    """Both writers read the same instant (LogRecord reads time.time on 3.11-3.12, time.time_ns on 3.13)."""
    now_ns = 1_764_619_999_987_654_321
    monkeypatch.setattr(time, "time", lambda: now_ns / 1e9)
    monkeypatch.setattr(time, "time_ns", lambda: now_ns)


def test_the_direct_path_writes_exactly_the_powertools_line(frozen_clock, monkeypatch):
    (ours, theirs), streams = pair()
    assert RequestLine(ours)._direct_handler() is not None  # the path under test is the direct one
    event = {"requestContext": {"requestId": "rid-1"}}
    for logger in (ours, theirs):
        LambdaLogContext(logger).inject(event, Context())
        logger.append_keys(cold_start=False)  # the flag is per process: true for whichever injected first
    emit_both(ours, theirs, FIELDS)
    emit_both(ours, theirs, AUTH_FIELDS)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8")
    for logger in (ours, theirs):
        logger.append_keys(tenant="t1", skipped=None)
        logger.thread_safe_append_keys(worker=3)
    emit_both(ours, theirs, FIELDS)
    mine, powertools = outputs(streams)
    assert mine == powertools
    assert mine.count("\n") == 3
    assert '"location":"emit_both:' in mine
    assert '"xray_trace_id":"1-5759e988' in mine
    assert '"function"' in mine


@pytest.mark.parametrize(
    "options",
    [{"utc": True}, {"log_record_order": ["message", "timestamp", "level"]}, {"sampling_rate": 0.5}],
    ids=["utc", "key-order", "sampling"],
)
def test_formatter_options_that_keep_the_direct_path(frozen_clock, options):
    (ours, theirs), streams = pair(**options)
    assert RequestLine(ours)._direct_handler() is not None
    emit_both(ours, theirs, FIELDS)
    assert outputs(streams)[0] == outputs(streams)[1] != ""


class Opaque:
    """A field value JSON cannot write: the serializer's ``default`` decides its text."""

    def __str__(self) -> str:
        return "opaque-é"


@pytest.mark.parametrize(
    "options",
    [{}, {"json_default": lambda value: f"<{value}>"}, {"json_serializer": lambda log: "custom:" + repr(sorted(log))}],
    ids=["default-serializer", "own-default", "own-serializer"],
)
def test_the_direct_path_serializes_as_the_formatter_would(frozen_clock, options):
    (ours, theirs), streams = pair(**options)
    assert RequestLine(ours)._direct_handler() is not None
    fields = {**FIELDS, "route": "/api/ünïcode", "function": Opaque()}
    for _ in range(2):  # the second line reuses what the first prepared
        emit_both(ours, theirs, fields)
    mine, powertools = outputs(streams)
    assert mine == powertools
    assert mine.count("\n") == 2


def test_the_timestamp_follows_the_clock_across_seconds(monkeypatch):
    (ours, theirs), streams = pair()
    # the last: nanoseconds that round up to the next second as a float (Python 3.13 then says 0 ms)
    for now_ns in (
        1_764_619_999_000_000_000,
        1_764_619_999_999_999_999,
        1_764_620_000_000_400_000,
        1_677_903_920_999_999_900,
    ):
        monkeypatch.setattr(time, "time", lambda now_ns=now_ns: now_ns / 1e9)
        monkeypatch.setattr(time, "time_ns", lambda now_ns=now_ns: now_ns)
        emit_both(ours, theirs, FIELDS)
    assert outputs(streams)[0] == outputs(streams)[1]


@pytest.mark.parametrize(
    "setup",
    ["console-formatter", "warning-level", "handler-filter", "second-handler", "reserved-key", "propagates"],
)
def test_other_set_ups_go_through_the_logger_and_write_the_same(frozen_clock, setup):
    (ours, theirs), streams = pair(propagate=setup == "propagates")
    for logger in (ours, theirs):
        std = logger._logger
        if setup == "console-formatter":
            std.handlers[0].setFormatter(ConsoleFormatter())
        elif setup == "warning-level":
            logger.setLevel("WARNING")
        elif setup == "handler-filter":
            std.handlers[0].addFilter(lambda record: True)
        elif setup == "second-handler":
            std.addHandler(logging.StreamHandler(io.StringIO()))
        elif setup == "reserved-key":
            logger.append_keys(process="%(process)d")
    assert RequestLine(ours)._direct_handler() is None or setup == "reserved-key"
    emit_both(ours, theirs, FIELDS)
    mine, powertools = outputs(streams)
    assert mine == powertools
    assert (mine == "") == (setup == "warning-level")


def test_pytest_capture_still_sees_the_line(caplog):
    (ours, _), _ = pair(propagate=True)
    with caplog.at_level(logging.INFO):
        RequestLine(ours).write(FIELDS)
    assert [record.getMessage() for record in caplog.records] == ["request"]
    assert caplog.records[0].route == "/api/query"
