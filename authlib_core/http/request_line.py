"""The per-request log line, written as Powertools' ``logger.info("request", extra=fields)`` would write it.

Same keys, same order, same values: the formatter's keys (``level``, ``location``, ``message``, ``timestamp``,
``service``, the Lambda context keys, ``correlation_id``, ``xray_trace_id``...), then the request's fields, with
``None`` values left out, serialized by the formatter's own serializer and written by its handler. What is skipped
is the machinery around it: the ``LogRecord`` (caller lookup through the stack, thread and process names), the
formatter's copy of the record's attributes and its ``%``-formatting of three keys (~60 µs of a warm request in
Lambda, where caches are cold).

Only the standard set-up takes this path: one ``StreamHandler`` with a ``LambdaPowertoolsFormatter`` in its default
time format, no filters, no log buffering, and no other handler the record would reach. Any other set-up (a custom
formatter such as the dev server's, a handler added by a test, a level that drops the line) goes through
``logger.info`` as before, so what is written never depends on which path wrote it.

Example:
    >>> line = RequestLine(logger)                                          # doctest: +SKIP
    >>> line.write({"method": "POST", "route": "/api/query", "status": 200})  # doctest: +SKIP
    {"level":"INFO","location":"_record:12","message":"request",...,"method":"POST","route":"/api/query",...}
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging.filters import SuppressFilter
from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from aws_lambda_powertools import Logger

__all__ = ["RequestLine"]

_MESSAGE = "request"
#: The formatter's default keys that name a record attribute, and what they are for an INFO line from the caller.
_LEVEL, _LOCATION, _TIMESTAMP = "%(levelname)s", "%(funcName)s:%(lineno)d", "%(asctime)s"
_EXCEPTION_KEYS = ("exception", "exception_name", "exception_notes")
#: Powertools' reserved record attributes (a tuple there), as a set: one hash lookup per key of every line.
_RESERVED = frozenset(RESERVED_LOG_ATTRS)


class _Fallback(Exception):
    """The logger is set up in a way this module does not reproduce: write through ``logger.info``."""


class RequestLine:
    """Writes one structured ``request`` line per call on a Powertools ``Logger``."""

    __slots__ = ("_logger", "_stamp")

    def __init__(self, logger: Logger) -> None:
        self._logger = logger
        self._stamp: tuple[int, Callable[..., Any] | None, str, str] = (-1, None, "", "")

    def write(self, fields: Mapping[str, Any]) -> None:
        """Log ``fields`` as the ``request`` line at INFO (nothing when INFO is not enabled)."""
        if not getattr(self._logger, "_buffer_config", None) and not self._logger._logger.isEnabledFor(logging.INFO):
            return  # what logger.info does then (the dev server's logger is at WARNING)
        handler = self._direct_handler()
        if handler is not None:
            caller = sys._getframe(1)
            try:
                text = self._format(handler, fields, f"{caller.f_code.co_name}:{caller.f_lineno}")
            except _Fallback:
                pass
            else:
                self._emit(handler, text, fields)
                return
        # stacklevel 3: the location is this method's caller, as with logger.info called there
        self._logger.info(_MESSAGE, extra=dict(fields), stacklevel=3)

    def _direct_handler(self) -> logging.StreamHandler[Any] | None:
        """The one handler the line goes to, when the set-up is the standard one; else None."""
        logger = self._logger
        std: logging.Logger = logger._logger
        if getattr(logger, "_buffer_config", None) or std.disabled or std.filters or not std.isEnabledFor(logging.INFO):
            return None
        handlers = std.handlers
        if len(handlers) != 1:
            return None
        handler = handlers[0]
        formatter = handler.formatter
        if (
            type(handler) is not logging.StreamHandler
            or handler.filters
            or handler.level > logging.INFO
            or type(formatter) is not LambdaPowertoolsFormatter
            or formatter.datefmt is not None
            or formatter.use_rfc3339_iso8601
            or formatter.json_deserializer is not json.loads
        ):
            return None
        if std.propagate and not _suppressed_above(std):
            return None
        if _task_name() is not None:
            return None
        return handler

    def _format(self, handler: logging.StreamHandler[Any], fields: Mapping[str, Any], location: str) -> str:
        formatter = handler.formatter
        assert isinstance(formatter, LambdaPowertoolsFormatter)
        timestamp = self._timestamp(formatter)
        line: dict[str, Any] = {}
        for keys in (formatter.log_format, formatter.thread_safe_get_current_keys()):
            for key, value in keys.items():
                if value and key in _RESERVED:
                    if value == _LEVEL:
                        value = "INFO"
                    elif value == _LOCATION:
                        value = location
                    elif value == _TIMESTAMP:
                        value = timestamp
                    else:  # another record attribute (%(process)d, %(name)s...): the formatter's own path
                        raise _Fallback
                line[key] = value
        line.update(fields)
        line["message"] = _MESSAGE
        for key in _EXCEPTION_KEYS:
            line[key] = line.get(key)
        if formatter.serialize_stacktrace:
            line["stack_trace"] = None
        line["xray_trace_id"] = _xray_trace_id(formatter)
        log = {k: v for k, v in line.items() if v is not None}
        encoder = _encoder_of(formatter.json_serializer)
        if encoder is None:
            return formatter.serialize(log=log)
        return encoder.encode(log)

    def _timestamp(self, formatter: LambdaPowertoolsFormatter) -> str:
        """``formatter.formatTime`` of a record created now (``2026-12-01 19:53:22,123+0000``)."""
        created, msecs = _created()
        second = int(created)
        cached_second, converter, head, zone = self._stamp
        if cached_second != second or converter is not formatter.converter:
            converter = formatter.converter
            struct = converter(created)
            head, zone = time.strftime("%Y-%m-%d %H:%M:%S,", struct), time.strftime("%z", struct)
            self._stamp = (second, converter, head, zone)
        return f"{head}{msecs:03d}{zone}"

    def _emit(self, handler: logging.StreamHandler[Any], text: str, fields: Mapping[str, Any]) -> None:
        """``StreamHandler.emit``: the text and the terminator under the handler's lock, then a flush."""
        handler.acquire()
        try:
            handler.stream.write(text + handler.terminator)
            handler.flush()
        except Exception:
            record = self._logger._logger.makeRecord(
                self._logger._logger.name, logging.INFO, "", 0, _MESSAGE, (), None, extra=dict(fields)
            )
            handler.handleError(record)
        finally:
            handler.release()


#: The arguments ``json.dumps`` hands to ``JSONEncoder`` (the defaults of both are the same).
_DUMPS_ENCODER_ARGUMENTS = frozenset(
    {"skipkeys", "ensure_ascii", "check_circular", "allow_nan", "indent", "separators", "default", "sort_keys"}
)
#: The last serializer seen and its encoder (None: not one this module reproduces).
_encoder_cache: tuple[object, json.JSONEncoder | None] = (None, None)


def _encoder_of(serializer: object) -> json.JSONEncoder | None:
    """The ``JSONEncoder`` that ``serializer`` builds for every line, built once, when ``serializer`` is
    ``functools.partial(json.dumps, **keywords)`` (Powertools' default); else None (call the serializer).

    ``json.dumps(obj, **keywords)`` is ``JSONEncoder(**keywords).encode(obj)`` (its other arguments are the
    encoder's own defaults), and an encoder keeps no state between calls, so the text is the same.
    """
    global _encoder_cache  # one entry, replaced when a formatter with another serializer is seen
    cached_serializer, encoder = _encoder_cache
    if serializer is cached_serializer:
        return encoder
    encoder = None
    if (
        type(serializer) is functools.partial
        and serializer.func is json.dumps
        and not serializer.args
        and set(serializer.keywords) <= _DUMPS_ENCODER_ARGUMENTS  # no ``cls``: its defaults could differ
    ):
        encoder = json.JSONEncoder(**serializer.keywords)
    _encoder_cache = (serializer, encoder)
    return encoder


def _suppressed_above(std: logging.Logger) -> bool:
    """Whether every handler above ``std`` drops its records (Powertools' ``SuppressFilter`` on the root's)."""
    current: logging.Logger | None = std
    while current is not None and current.propagate:
        current = current.parent
        if current is None:
            break
        for handler in current.handlers:
            if handler.level > logging.INFO:
                continue
            if not any(isinstance(f, SuppressFilter) and f.logger in std.name for f in handler.filters):
                return False
    return True


def _task_name() -> str | None:
    """The asyncio task a record would name (``taskName``, Python 3.12+), None outside a task."""
    if not getattr(logging, "logAsyncioTasks", False):
        return None
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    try:
        name: str = asyncio.current_task().get_name()
    except Exception:  # no running loop, or no task: what LogRecord does
        return None
    return name


if sys.version_info >= (3, 13):

    def _created() -> tuple[float, int]:
        """``LogRecord.created`` and ``.msecs`` of a record made now (Python 3.13: from nanoseconds)."""
        ns = time.time_ns()
        created = ns / 1e9
        msecs = (ns % 1_000_000_000) // 1_000_000
        if msecs == 999 and int(created) != ns // 1_000_000_000:
            msecs = 0
        return created, msecs

else:

    def _created() -> tuple[float, int]:
        """``LogRecord.created`` and ``.msecs`` of a record made now."""
        created = time.time()
        return created, int((created - int(created)) * 1000)


def _xray_trace_id(formatter: LambdaPowertoolsFormatter) -> str | None:
    """The formatter's ``xray_trace_id`` (from ``_X_AMZN_TRACE_ID``, unless the key is switched off)."""
    if formatter.log_format.get("xray_trace_id", "") is None:
        return None
    trace = os.getenv("_X_AMZN_TRACE_ID")
    return trace.split(";")[0].replace("Root=", "") if trace else None
