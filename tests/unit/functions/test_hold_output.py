"""``hold_output``: what a provisional run prints or logs is written after it, in order, or never."""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING

from authlib_core.functions.logs import capture_logs, hold_output

if TYPE_CHECKING:
    import pytest


def test_printed_and_logged_lines_wait_for_the_end_of_the_block_in_order(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("app.functions")
    with caplog.at_level(logging.WARNING), hold_output():
        print("first")
        log.warning("second")
        print("third", end="")
        assert capsys.readouterr().out == ""
        assert [r.getMessage() for r in caplog.records if r.name == "app.functions"] == []
    assert capsys.readouterr().out == "first\nthird"
    assert [r.getMessage() for r in caplog.records if r.name == "app.functions"] == ["second"]


def test_a_discarded_block_writes_nothing(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), hold_output() as held:
        print("provisional")
        logging.getLogger("app.functions").warning("provisional")
        held.discard()
    print("after")
    assert capsys.readouterr().out == "after\n"
    assert [r.getMessage() for r in caplog.records if r.name == "app.functions"] == []


def test_server_records_and_other_threads_are_not_held(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), hold_output() as held:
        logging.getLogger("authlib_core.http").warning("server line")
        other = threading.Thread(target=print, args=("other thread",))
        other.start()
        other.join()
        assert "other thread" in capsys.readouterr().out
        assert [r.getMessage() for r in caplog.records] == ["server line"]
        held.discard()


def test_released_lines_reach_a_log_capture_around_the_hold() -> None:
    with capture_logs() as lines:
        with hold_output() as outer, hold_output() as inner:
            assert inner is outer  # nested holds share one
            print("kept")
        with hold_output() as held:
            print("dropped")
            held.discard()
    assert lines.lines() == ["[LOG] kept"]


def test_records_for_a_handler_of_the_loggers_own_are_held_in_order_with_the_rest(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("app.functions.own")
    private = logging.getLogger("app.functions.private")  # keeps its records to itself
    private.propagate = False
    own = logging.StreamHandler(sys.stdout)  # the app's own handler, next to the root's
    own.setFormatter(logging.Formatter("own %(message)s"))
    log.addHandler(own)
    private.addHandler(own)
    try:
        with caplog.at_level(logging.WARNING), hold_output():
            print("first")
            log.warning("second")
            print("third")
            private.warning("fourth")
            assert capsys.readouterr().out == ""
            assert caplog.records == []
        assert capsys.readouterr().out == "first\nown second\nthird\nown fourth\n"
        assert [r.getMessage() for r in caplog.records] == ["second"]

        with hold_output() as held:
            log.warning("provisional")
            private.warning("provisional")
            held.discard()
        assert capsys.readouterr().out == ""
    finally:
        log.removeHandler(own)
        private.removeHandler(own)
        private.propagate = True


def test_outside_a_hold_and_for_server_loggers_a_handler_of_its_own_writes_at_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("app.functions.own", "authlib_core.http", "botocore.hooks"):
        log = logging.getLogger(name)
        own = logging.StreamHandler(sys.stdout)
        own.setFormatter(logging.Formatter("%(name)s %(message)s"))
        log.addHandler(own)
        try:
            if name == "app.functions.own":
                log.warning("outside")
                assert capsys.readouterr().out == f"{name} outside\n"
            else:
                with hold_output() as held:
                    log.warning("server line")
                    assert capsys.readouterr().out == f"{name} server line\n"
                    held.discard()
        finally:
            log.removeHandler(own)
