"""The example page's live list in two browser contexts signed in as the same user (headless Chromium).

Each context's ``useQuery(myData:getMyData)`` runs over its own WebSocket to the dev server; an item added in one
appears in the other without a reload, and after the dev server restarts on the same port and database both pages
reconnect, resubscribe and keep updating.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import ARTIFACTS, free_port, run_dev_server
from tests.browser.test_example_app import PASSWORD, Shots, _add_item, _expect, _open, _sign_in, _sign_up

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_two_contexts_of_one_user_see_each_others_items_live(browser: Browser, web_dist: Path, tmp_path: Path) -> None:
    expect: Any = _expect()
    shots = Shots(ARTIFACTS)
    port = free_port()
    db = tmp_path / "live.sqlite3"
    log = ARTIFACTS / "live-dev-server.log"
    log.write_text("")
    email = f"carol-{int(time.time() * 1000)}@example.com"
    with run_dev_server(port, db, web_dist, log) as server:
        first, page1 = _open(browser, server.url)
        _sign_up(page1, "Carol", email)
        expect(page1.get_by_test_id("user-profile")).to_have_text(f"Welcome, {email}")
        second, page2 = _open(browser, server.url)
        _sign_in(page2, email, PASSWORD)
        expect(page2.get_by_test_id("user-profile")).to_have_text(f"Welcome, {email}")
        expect(page2.get_by_test_id("items-empty")).to_be_visible()

        _add_item(page1, "Added in the first window")
        expect(page2.get_by_test_id("item")).to_have_text(["Added in the first window"])  # no reload
        _add_item(page2, "Added in the second window")
        expect(page1.get_by_test_id("item")).to_have_text(["Added in the first window", "Added in the second window"])
        shots(page1, "live-first-window")
        shots(page2, "live-second-window")

    # The server goes away and comes back on the same port and database: both pages reconnect by themselves.
    with run_dev_server(port, db, web_dist, log):
        _add_item(page1, "Added after the restart")
        expected = ["Added in the first window", "Added in the second window", "Added after the restart"]
        expect(page1.get_by_test_id("item")).to_have_text(expected)
        expect(page2.get_by_test_id("item")).to_have_text(expected)
        shots(page2, "live-after-restart")
        first.close()
        second.close()
