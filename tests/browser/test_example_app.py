"""The example page in real headless Chromium against the real dev server (issue 9, item 3).

One scenario, step by step, with a screenshot of each step in test-artifacts/browser/:
sign up, add two items, reload (the cookie keeps the session), a second user sees none of it,
the first user signs in from a third browser and revokes the first browser's session, the first
browser's live list shows the refusal at once, sign-out, and the session cookie's flags as stored.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import playwright_expect

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser, BrowserContext, Page

    from tests.browser.conftest import DevServer

pytestmark = pytest.mark.browser

_expect = playwright_expect  # the name tests/browser/test_live_page.py imports

SESSION_COOKIE = "better-auth.session_token"
PASSWORD = "correct horse battery staple"
# Rate limits (AuthSettings): 3 sign-in / sign-up attempts per 10 s per client IP and path, 10 per
# 10 minutes per email address. The scenario stays under both with no waiting: 2 sign-ups and
# 2 sign-ins from 127.0.0.1, 3 attempts on Alice's address.


class Shots:
    """Numbered full-page screenshots: 01-signed-out.png, 02-signed-up.png, ..."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def __call__(self, page: Page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def _open(browser: Browser, url: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    page = context.new_page()
    page.goto(url)
    return context, page


def _sign_up(page: Page, name: str, email: str) -> None:
    page.get_by_test_id("signup-name").fill(name)
    page.get_by_test_id("signup-email").fill(email)
    page.get_by_test_id("signup-password").fill(PASSWORD)
    page.get_by_test_id("signup-submit").click()


def _sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_test_id("signin-email").fill(email)
    page.get_by_test_id("signin-password").fill(password)
    page.get_by_test_id("signin-submit").click()


def _add_item(page: Page, text: str) -> None:
    page.get_by_test_id("item-text").fill(text)
    page.get_by_test_id("item-add").click()


def _session_cookie(context: BrowserContext) -> dict[str, Any] | None:
    for cookie in context.cookies():
        if cookie["name"] == SESSION_COOKIE:
            return dict(cookie)
    return None


def _assert_cookie_flags(context: BrowserContext) -> None:
    cookie = _session_cookie(context)
    assert cookie is not None, "no session cookie stored after signing in"
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["secure"] is False  # plain http on 127.0.0.1; __Secure- and Secure over https only


def test_sessions_survive_reload_are_isolated_and_revocable(
    browser: Browser, dev_server: DevServer, artifacts: Path
) -> None:
    expect = playwright_expect()
    shot = Shots(artifacts)
    stamp = int(time.time() * 1000)
    alice = f"alice-{stamp}@example.com"
    bob = f"bob-{stamp}@example.com"

    # 1. First browser: signed out, then signs up and is welcomed by email.
    first, page1 = _open(browser, dev_server.url)
    profile1 = page1.get_by_test_id("user-profile")
    expect(profile1).to_have_text("Not authenticated")
    shot(page1, "signed-out")
    _sign_up(page1, "Alice", alice)
    expect(profile1).to_have_text(f"Welcome, {alice}")
    expect(page1.get_by_test_id("items-empty")).to_be_visible()
    _assert_cookie_flags(first)
    shot(page1, "signed-up")

    # 2. Two items through the myData:add mutation; the live myData:getMyData list shows each one.
    _add_item(page1, "First note from Alice")
    expect(page1.get_by_test_id("item")).to_have_text(["First note from Alice"])
    _add_item(page1, "Second note from Alice")
    expect(page1.get_by_test_id("item")).to_have_text(["First note from Alice", "Second note from Alice"])
    shot(page1, "two-items")

    # 3. Reload: the HttpOnly cookie alone carries the session (the page keeps no token).
    page1.reload()
    expect(profile1).to_have_text(f"Welcome, {alice}")
    expect(page1.get_by_test_id("item")).to_have_text(["First note from Alice", "Second note from Alice"])
    expect(page1.get_by_test_id("session")).to_have_count(1)
    shot(page1, "reloaded")

    # 4. Second browser, another user: none of Alice's items, none of her sessions.
    second, page2 = _open(browser, dev_server.url)
    profile2 = page2.get_by_test_id("user-profile")
    expect(profile2).to_have_text("Not authenticated")
    _sign_up(page2, "Bob", bob)
    expect(profile2).to_have_text(f"Welcome, {bob}")
    expect(page2.get_by_test_id("items-empty")).to_be_visible()
    expect(page2.get_by_test_id("item")).to_have_count(0)
    expect(page2.get_by_test_id("session")).to_have_count(1)
    expect(page2.get_by_test_id("session")).to_have_attribute("data-current", "true")
    expect(page2.locator("body")).not_to_contain_text("note from Alice")
    shot(page2, "second-user-isolated")
    second.close()

    # 5. Third browser: a wrong password is shown to the person, then Alice signs in.
    third, page3 = _open(browser, dev_server.url)
    profile3 = page3.get_by_test_id("user-profile")
    expect(profile3).to_have_text("Not authenticated")
    _sign_in(page3, alice, "not the password")
    alert = page3.get_by_test_id("signin-error")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("INVALID_EMAIL_OR_PASSWORD")
    expect(profile3).to_have_text("Not authenticated")
    shot(page3, "wrong-password")
    _sign_in(page3, alice, PASSWORD)
    expect(profile3).to_have_text(f"Welcome, {alice}")
    expect(page3.get_by_test_id("item")).to_have_text(["First note from Alice", "Second note from Alice"])
    sessions3 = page3.get_by_test_id("session")
    expect(sessions3).to_have_count(2)
    expect(page3.locator('[data-testid="session"][data-current="true"]')).to_have_count(1)
    _assert_cookie_flags(third)
    shot(page3, "signed-in-twice")

    # 6. ...and revokes the first browser's session (the row that is not this browser's).
    page3.locator('[data-testid="session"][data-current="false"]').get_by_test_id("session-revoke").click()
    expect(sessions3).to_have_count(1)
    expect(sessions3).to_have_attribute("data-current", "true")
    expect(profile3).to_have_text(f"Welcome, {alice}")
    shot(page3, "revoked-first-browser")

    # 7. The first browser's live query runs again as soon as its session is revoked (without any
    #    click): the query's ConvexError is shown, and after a reload useSession finds no session.
    items_error = page1.get_by_test_id("items-error")
    expect(items_error).to_have_attribute("role", "alert")
    expect(items_error).to_have_text("Not authenticated")
    shot(page1, "first-browser-request-refused")
    page1.reload()
    expect(profile1).to_have_text("Not authenticated")
    expect(page1.get_by_test_id("signin-form")).to_be_visible()
    expect(page1.locator("body")).not_to_contain_text("note from Alice")
    shot(page1, "first-browser-signed-out")
    first.close()

    # 8. Sign out in the third browser: signed out, the cookie is gone, and a reload agrees.
    page3.get_by_test_id("sign-out").click()
    expect(profile3).to_have_text("Not authenticated")
    assert _session_cookie(third) is None
    page3.reload()
    expect(profile3).to_have_text("Not authenticated")
    shot(page3, "signed-out-again")
    third.close()
