"""The example page's live list in two browser contexts signed in as the same user (headless Chromium).

Each context's ``useQuery(myData:getMyData)`` runs over its own WebSocket to the dev server; an item added in one
appears in the other without a reload, and after the dev server restarts on the same port and database both pages
reconnect, resubscribe and keep updating.
"""

from __future__ import annotations

import json
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
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
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


PAGE_SIZE = 10  # examples/web/src/components/MyItems.tsx

_ADD = """async (texts) => {
  for (const text of texts) {
    const response = await fetch("/api/mutation", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path: "myData:add", args: { text } }),
    });
    const body = await response.json();
    if (body.status !== "success") throw new Error(JSON.stringify(body));
  }
}"""

_REMOVE = """async (text) => {
  const call = async (kind, path, args) => {
    const response = await fetch(`/api/${kind}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path, args }),
    });
    const body = await response.json();
    if (body.status !== "success") throw new Error(JSON.stringify(body));
    return body.value;
  };
  const note = (await call("query", "myData:getMyData", {})).find((n) => n.text === text);
  await call("mutation", "myData:remove", { id: note._id });
}"""


def _list_page_adds(frames: list[str]) -> list[dict[str, Any]]:
    """The paginationOpts of every myData:listPage subscription the page's client sent."""
    found = []
    for frame in frames:
        message = json.loads(frame)
        if message.get("type") == "ModifyQuerySet":
            for change in message["modifications"]:
                if change["type"] == "Add" and change["udfPath"] == "myData:listPage":
                    found.append(change["args"][0]["paginationOpts"])
    return found


def test_the_paginated_list_splits_loads_more_and_stays_live_with_its_pages_kept(
    browser: Browser, web_dist: Path, tmp_path: Path
) -> None:
    expect: Any = _expect()
    shots = Shots(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "live-pages-dev-server.log"
    log.write_text("")
    email = f"dana-{int(time.time() * 1000)}@example.com"
    texts = [f"Item {n:02d}" for n in range(1, 2 * PAGE_SIZE + 6)]  # 25
    with run_dev_server(free_port(), tmp_path / "pages.sqlite3", web_dist, log) as server:
        first, page1 = _open(browser, server.url)
        sent: list[str] = []
        page1.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
        _sign_up(page1, "Dana", email)
        expect(page1.get_by_test_id("items-empty")).to_be_visible()
        page1.evaluate(_ADD, texts)  # over HTTP, as the page's own origin with its cookie

        # The first page was loaded empty, so its end is the end of the list and it grows in place (as in Convex).
        # Past twice initialNumItems the client splits it at the server's splitCursor into (start, split] and
        # (split, end]: two live queries, each keeping its end; the list shows every item once, in order.
        expect(page1.get_by_test_id("item")).to_have_text(texts)
        expect(page1.get_by_test_id("items-more")).to_have_count(0)
        split = [opts for opts in _list_page_adds(sent) if opts.get("endCursor")]
        assert len(split) >= 2, _list_page_adds(sent)
        left, right = split[0], split[1]
        assert left["cursor"] is None
        assert right["cursor"] == left["endCursor"]  # the halves meet at the split cursor

        # Loaded afresh, the first page holds PAGE_SIZE items, with a way to load more; the total is a useQuery.
        page1.reload()
        expect(page1.get_by_test_id("item")).to_have_text(texts[:PAGE_SIZE])
        expect(page1.get_by_test_id("items-count")).to_have_text("25 items, live")
        page1.get_by_test_id("items-more").click()
        expect(page1.get_by_test_id("item")).to_have_text(texts[: 2 * PAGE_SIZE])
        page1.get_by_test_id("items-more").click()
        expect(page1.get_by_test_id("item")).to_have_text(texts)
        expect(page1.get_by_test_id("items-more")).to_have_count(0)  # exhausted
        shots(page1, "pages-loaded-more")

        # Another window of the same user has only the first page loaded.
        second, page2 = _open(browser, server.url)
        _sign_in(page2, email, PASSWORD)
        expect(page2.get_by_test_id("item")).to_have_text(texts[:PAGE_SIZE])

        # A live insert: it lands in the open-ended last page of the first window, without a reload.
        _add_item(page2, "Added live")
        expect(page1.get_by_test_id("item")).to_have_text([*texts, "Added live"])
        expect(page1.get_by_test_id("items-count")).to_have_text("26 items, live")
        expect(page2.get_by_test_id("items-count")).to_have_text("26 items, live")
        expect(page2.get_by_test_id("item")).to_have_text(texts[:PAGE_SIZE])  # beyond its loaded page

        # A delete inside the first page: that page shrinks in place (its end is journaled), so nothing shifts
        # between pages and loading more continues exactly where the first page ends.
        page2.evaluate(_REMOVE, "Item 01")
        expect(page1.get_by_test_id("item")).to_have_text([*texts[1:], "Added live"])
        expect(page2.get_by_test_id("item")).to_have_text(texts[1:PAGE_SIZE])
        page2.get_by_test_id("items-more").click()
        expect(page2.get_by_test_id("item")).to_have_text(texts[1 : 2 * PAGE_SIZE])
        page2.get_by_test_id("items-more").click()
        expect(page2.get_by_test_id("item")).to_have_text([*texts[1:], "Added live"])
        shots(page2, "pages-after-delete")
        first.close()
        second.close()
