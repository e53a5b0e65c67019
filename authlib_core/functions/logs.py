"""What a function printed or logged while it ran, as Convex's log lines (``"[LOG] text"``, ``"[WARN] text"``...).

Convex sends a function's ``console.log`` output to the client that called it in development, and the client prints
it in the browser console as ``[CONVEX Q(myData:list)] [LOG] text``. The Python equivalents captured here, on the
thread that runs the function (nested ``ctx.run_*`` calls included):

* ``print()`` (anything written to ``sys.stdout``): one ``[LOG]`` line per line of text;
* ``logging`` records that reach the root logger (so at the level the app configured; WARNING by default):
  ``[DEBUG]``, ``[INFO]``, ``[WARN]`` or ``[ERROR]``, with the traceback of ``logger.exception``. Records of this
  library and of the AWS SDK are server logs, not the function's, and are left out.

:func:`hold_output` holds back what a function prints or logs while it runs provisionally (an identity not yet
confirmed): the lines are written when the block ends, or never when the run is discarded.

At most :data:`MAX_LOG_LINES` lines per call (the last one then says that the rest was omitted, as Convex does), each
at most :data:`MAX_LINE_CHARS` characters. Output still reaches the server's own stdout and log handlers.

Example:
    >>> with capture_logs() as lines:
    ...     print("hello", 1)  # still printed, and kept
    hello 1
    >>> lines.lines()
    ['[LOG] hello 1']
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from typing import TYPE_CHECKING, Any, Final, TextIO

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["MAX_LINE_CHARS", "MAX_LOG_LINES", "HeldOutput", "LogCapture", "capture_logs", "hold_output"]

#: Lines kept per function call (Convex's ``MAX_LOG_LINES``).
MAX_LOG_LINES: Final = 256
#: Characters kept of one line; the rest is replaced by a marker.
MAX_LINE_CHARS: Final = 32_768
_OVERFLOW: Final = f"[ERROR] Log overflow (maximum {MAX_LOG_LINES}). Remaining log lines omitted."
#: Loggers whose records are the server's, not the function's.
_SERVER_LOGGERS: Final = ("authlib_core", "botocore", "boto3", "urllib3", "websockets")
_LEVELS: Final = {logging.DEBUG: "DEBUG", logging.INFO: "INFO", logging.WARNING: "WARN"}

_local = threading.local()
_install_lock = threading.Lock()


class LogCapture:
    """The log lines of one call, in the order they were produced."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._partial = ""
        self._overflowed = False

    def add(self, level: str, text: str) -> None:
        """Add one line (``level`` is Convex's: LOG, DEBUG, INFO, WARN, ERROR)."""
        if self._overflowed:
            return
        if len(self._lines) >= MAX_LOG_LINES - 1:
            self._lines.append(_OVERFLOW)
            self._overflowed = True
            return
        if len(text) > MAX_LINE_CHARS:
            text = f"{text[:MAX_LINE_CHARS]}... ({len(text) - MAX_LINE_CHARS} more characters omitted)"
        self._lines.append(f"[{level}] {text}")

    def write(self, text: str) -> None:
        """Text written to stdout: every complete line becomes a ``[LOG]`` line."""
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        for line in complete:
            self.add("LOG", line)

    def lines(self) -> list[str]:
        """The lines so far, including an unterminated last line of printed text."""
        if self._partial:
            self.add("LOG", self._partial)
            self._partial = ""
        return list(self._lines)


class _StdoutRouter:
    """``sys.stdout`` that also hands what a capturing thread writes to its :class:`LogCapture`."""

    def __init__(self, target: TextIO) -> None:
        self.target = target

    def write(self, text: str) -> int:
        held: HeldOutput | None = getattr(_local, "held", None)
        if held is not None:
            held.items.append(text)
            return len(text)
        capture: LogCapture | None = getattr(_local, "capture", None)
        if capture is not None:
            capture.write(text)
        return self.target.write(text)

    def flush(self) -> None:
        self.target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)


class _CaptureHandler(logging.Handler):
    """A root-logger handler that hands a capturing thread's records to its :class:`LogCapture`."""

    def emit(self, record: logging.LogRecord) -> None:
        self._keep_last_resort(record)
        capture: LogCapture | None = getattr(_local, "capture", None)
        if capture is None or record.name.split(".", 1)[0] in _SERVER_LOGGERS:
            return
        try:
            text = record.getMessage()
            if record.exc_info:
                text = f"{text}\n{logging.Formatter().formatException(record.exc_info)}"
        except Exception:  # a bad format string in the function's own call
            text = str(record.msg)
        capture.add(_LEVELS.get(record.levelno, "ERROR" if record.levelno > logging.WARNING else "DEBUG"), text)

    def _keep_last_resort(self, record: logging.LogRecord) -> None:
        """Print the record as Python would have without this handler: through ``logging.lastResort`` (stderr, WARNING
        and up) when no other handler is on the record's way to the root."""
        last_resort = logging.lastResort
        if last_resort is None or record.levelno < last_resort.level:
            return
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None:
            if any(handler is not self for handler in logger.handlers):
                return
            logger = logger.parent if logger.propagate else None
        last_resort.handle(record)


class HeldOutput:
    """What a thread printed (text) and logged (logger, record) inside :func:`hold_output`, in order.

    Example:
        >>> with hold_output() as held:
        ...     print("held")
        held
        >>> held.items  # written when the block ended
        []
    """

    __slots__ = ("discarded", "items")

    def __init__(self) -> None:
        self.items: list[str | tuple[logging.Logger, logging.LogRecord]] = []
        self.discarded = False

    def discard(self) -> None:
        """Drop everything held: nothing of it will be written."""
        self.items.clear()
        self.discarded = True

    def _release(self) -> None:
        items, self.items = self.items, []
        for item in items:
            if isinstance(item, str):
                sys.stdout.write(item)
            else:
                logger, record = item
                _call_handlers(logger, record)


#: ``logging.Logger.callHandlers`` as it was before :func:`_install` wrapped it.
_call_handlers = logging.Logger.callHandlers


def _hold_call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
    """``Logger.callHandlers`` (the step after the logger's level and filters, before any handler): on a holding
    thread, a record of the function's loggers waits in its :class:`HeldOutput` whole, for every handler on its way
    (the logger's own, its parents', the root's, or ``logging.lastResort``). A server record is handled at once, and
    what its handlers write to ``sys.stdout`` is not held either."""
    held: HeldOutput | None = getattr(_local, "held", None)
    if held is None:
        _call_handlers(self, record)
    elif record.name.split(".", 1)[0] not in _SERVER_LOGGERS:
        held.items.append((self, record))
    else:
        _local.held = None
        try:
            _call_handlers(self, record)
        finally:
            _local.held = held


def _install(hold: bool = False) -> None:
    if hold and logging.Logger.callHandlers is _hold_call_handlers and isinstance(sys.stdout, _StdoutRouter):
        return  # the common case, once per provisional call: nothing to add
    with _install_lock:
        if not isinstance(sys.stdout, _StdoutRouter):
            sys.stdout = _StdoutRouter(sys.stdout)
        root = logging.getLogger()
        if not any(isinstance(handler, _CaptureHandler) for handler in root.handlers):
            root.addHandler(_CaptureHandler())
        if hold and logging.Logger.callHandlers is not _hold_call_handlers:
            logging.Logger.callHandlers = _hold_call_handlers  # type: ignore[method-assign]


@contextlib.contextmanager
def hold_output() -> Iterator[HeldOutput]:
    """Hold back what the code in this block prints and logs on this thread; write it when the block ends, unless
    :meth:`HeldOutput.discard` was called. Nested holds share the outer one.

    Held: ``print()`` and anything written to ``sys.stdout``, and every record of the function's loggers, for all
    the handlers it would reach: the root logger's, and the handlers of the function's own loggers (also one that
    does not propagate). They are written in the order they were made. Records of this library and of the AWS SDK
    (and what their handlers write, to ``sys.stdout`` too) pass at once, and nothing is held outside the block or
    on other threads. The first hold wraps ``logging.Logger.callHandlers`` (once per process); outside a hold the
    wrapper only looks up a thread-local.

    Example:
        >>> with hold_output() as held:
        ...     print("not yet")
        ...     held.discard()
        >>> with hold_output():
        ...     print("later")
        later
    """
    outer: HeldOutput | None = getattr(_local, "held", None)
    if outer is not None:
        yield outer
        return
    _install(hold=True)
    held = HeldOutput()
    _local.held = held
    try:
        yield held
    finally:
        _local.held = None
        held._release()


@contextlib.contextmanager
def capture_logs(into: LogCapture | None = None) -> Iterator[LogCapture]:
    """Collect the log lines of what runs in this block on this thread into ``into`` (or a new capture), which stays
    readable after the block, also when it raised. Nested captures share the outer one."""
    outer: LogCapture | None = getattr(_local, "capture", None)
    if outer is not None:
        yield outer
        return
    _install()
    capture = into if into is not None else LogCapture()
    _local.capture = capture
    try:
        yield capture
    finally:
        _local.capture = None
