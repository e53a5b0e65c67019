"""Readable log records for the dev server's console (Lambda keeps Powertools' structured JSON).

The dev server logs only warnings and errors; each prints as ``level: message`` and, for an exception, the Python
traceback on the lines below, instead of one JSON line with escaped newlines. Control characters in either (a
message or an exception can hold request text) print as visible escapes (:func:`~authlib_core.display.terminal_text`).

Example:
    >>> from aws_lambda_powertools import Logger
    >>> logger = Logger(service="dev", level="WARNING", logger_formatter=ConsoleFormatter())  # doctest: +SKIP
    >>> logger.warning("storage unavailable or conflicting")                                    # doctest: +SKIP
    warning: storage unavailable or conflicting
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from authlib_core.display import terminal_text

if TYPE_CHECKING:
    import logging

__all__ = ["ConsoleFormatter"]


class ConsoleFormatter(LambdaPowertoolsFormatter):
    r"""Powertools' formatter (it keeps the logger's keys) writing ``level: message`` and any traceback as text.

    Example:
        >>> import logging
        >>> record = logging.LogRecord("dev", logging.WARNING, __file__, 1, "bad plan %s", ("x\x1b[2J",), None)
        >>> ConsoleFormatter().format(record)
        'warning: bad plan x\\x1b[2J'
    """

    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info).rstrip("\n")
        return terminal_text(text)
