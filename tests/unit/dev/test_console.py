"""The dev server's console formatter: readable records, with no terminal commands in them."""

from __future__ import annotations

import io
import logging
import re
import uuid

from aws_lambda_powertools import Logger

from authlib_core.dev.console import ConsoleFormatter

#: What a terminal acts on: C0 controls but newline and tab, DEL, C1.
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_messages_and_tracebacks_print_control_characters_as_escapes() -> None:
    stream = io.StringIO()
    logger = Logger(
        service=f"console-{uuid.uuid4().hex[:8]}",
        level="WARNING",
        logger_handler=logging.StreamHandler(stream),
        logger_formatter=ConsoleFormatter(),
    )
    logger._logger.propagate = False
    logger.warning("sign-in refused for %s", "ada\u001b]0;pwned\u0007@example.com")
    try:
        raise ValueError("unknown plan x\u001b[2J\u009b31m\r")
    except ValueError:
        logger.exception("unexpected exception in a function call")
    out = stream.getvalue()
    assert out.startswith("warning: sign-in refused for ada\\x1b]0;pwned\\x07@example.com\n")
    assert "error: unexpected exception in a function call\nTraceback (most recent call last):\n" in out
    assert "ValueError: unknown plan x\\x1b[2J\\x9b31m\\x0d\n" in out
    assert CONTROLS.search(out) is None, out
