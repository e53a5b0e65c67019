"""The example page's account flows in headless Chromium: verify your email, forgot password, "Sign in with ...".

The real dev server serves the built page and an app whose ``auth_config.py`` declares two providers (OpenID
Connect and GitHub) served by the fake provider of tests/support/fake_oauth.py; it writes mail into a folder the
test reads, as a developer would open the messages. One scenario, with a screenshot per step in
test-artifacts/browser/ (``auth-NN-*.png``):

sign up → "Verify your email" → the link → verified; sign out → "Forgot password?" → the link → a new password →
the used link refused → sign in with it; sign out → "Sign in with fake" through the provider → the same user
(both addresses verified, so the provider account is linked); consent refused at GitHub → the page says so.
"""

from __future__ import annotations

import email
import email.policy
import re
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import ARTIFACTS, free_port, playwright_expect, run_dev_server
from tests.support.fake_oauth import CLIENT_SECRETS_ENV, FakeProvider, write_social_app

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"


class Site:
    """The dev server with the social app, its mail folder, and the fake provider."""

    def __init__(self, url: str, mail: Path, provider: FakeProvider, log: Path) -> None:
        self.url, self.mail, self.provider, self.log = url, mail, provider, log

    def last_link(self, to: str, count: int) -> str:
        """The link in the newest of ``count`` auth messages sent so far, which must be to ``to`` (the example app's
        welcome, sent by a scheduled action after each sign-up, functions/onboarding.py, is not counted)."""
        names = sorted(self.mail.glob("*.eml")) if self.mail.is_dir() else []
        messages = [email.message_from_bytes(name.read_bytes(), policy=email.policy.default) for name in names]
        messages = [m for m in messages if m["Subject"] != "Welcome to myData"]
        assert len(messages) == count, (names, self.log.read_text())
        message = messages[-1]
        assert message["To"] == to
        text = message.get_body(("plain",))
        assert text is not None
        found = re.search(r"https?://\S+", text.get_content())
        assert found is not None, text.get_content()
        return found.group()


@pytest.fixture(scope="module")
def site(web_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("auth-flows")
    provider = FakeProvider()
    port = free_port()
    provider.redirect_uris = {f"http://127.0.0.1:{port}/api/auth/callback/{name}" for name in ("fake", "github")}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "auth-flows-dev-server.log"
    log.write_text("")
    env = {"AUTHLIB_OAUTH_CLIENT_SECRETS": CLIENT_SECRETS_ENV, "AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP": "true"}
    try:
        with run_dev_server(
            port,
            folder / "dev.sqlite3",
            web_dist,
            log,
            functions=write_social_app(folder / "authflowsapp", provider.url),
            args=["--mail-dir", str(folder / "mail")],
            env=env,
        ) as server:
            yield Site(server.url, folder / "mail", provider, log)
    finally:
        provider.close()


def _wait_for_mail(site: Site, count: int, page: Page) -> None:
    for _ in range(100):
        if site.mail.is_dir() and len(list(site.mail.glob("*.eml"))) >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"no message {count} in {site.mail}")


def test_verify_forgot_password_and_social_sign_in(site: Site, browser: Browser) -> None:
    expect = playwright_expect()
    shots = 0

    def shot(page: Page, name: str) -> None:
        nonlocal shots
        shots += 1
        page.screenshot(path=str(ARTIFACTS / f"auth-{shots:02d}-{name}.png"), full_page=True)

    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(site.url)
    expect(page.get_by_test_id("social-fake")).to_have_text("Sign in with fake")
    expect(page.get_by_test_id("social-github")).to_have_text("Sign in with GitHub")
    shot(page, "signed-out")

    # sign up: the address is not verified yet, so the page offers the link
    page.get_by_test_id("signup-name").fill("Ada")
    page.get_by_test_id("signup-email").fill("ada@example.com")
    page.get_by_test_id("signup-password").fill(PASSWORD)
    page.get_by_test_id("signup-submit").click()
    expect(page.get_by_test_id("user-profile")).to_have_text("Welcome, ada@example.com")
    expect(page.get_by_test_id("verify-email")).to_contain_text("ada@example.com is not verified yet")
    page.get_by_test_id("verify-send").click()
    expect(page.get_by_test_id("verify-sent")).to_have_text("Check your inbox for the link.")
    shot(page, "verify-sent")
    _wait_for_mail(site, 1, page)
    verify_link = site.last_link("ada@example.com", 1)
    assert "/api/auth/verify-email?token=" in verify_link
    page.goto(verify_link)
    expect(page.get_by_test_id("landing-verified")).to_have_text("Your email address is verified.")
    expect(page.get_by_test_id("user-profile")).to_have_text("Welcome, ada@example.com")
    expect(page.get_by_test_id("verify-email")).to_have_count(0)
    assert "verified=1" not in page.url  # the landing parameters are taken out of the address bar
    shot(page, "verified")

    # forgot password: the emailed link leads to the new-password form
    page.get_by_test_id("sign-out").click()
    page.get_by_test_id("forgot-link").click()
    page.get_by_test_id("forgot-email").fill("ada@example.com")
    page.get_by_test_id("forgot-submit").click()
    expect(page.get_by_test_id("forgot-sent")).to_have_text(
        "If this email exists in our system, check your email for the reset link"
    )
    shot(page, "forgot-sent")
    _wait_for_mail(site, 2, page)
    reset_link = site.last_link("ada@example.com", 2)
    page.goto(reset_link)
    expect(page.get_by_test_id("reset-form")).to_be_visible()
    assert "token=" not in page.url
    page.get_by_test_id("reset-password").fill(NEW_PASSWORD)
    page.get_by_test_id("reset-submit").click()
    expect(page.get_by_test_id("reset-done")).to_contain_text("Your password is changed")
    shot(page, "password-reset")
    page.goto(reset_link)  # a used link ends on the page with the reason
    expect(page.get_by_test_id("landing-error")).to_have_text(
        "This link is invalid, used or expired. Ask for a new one. (INVALID_TOKEN)"
    )
    expect(page.get_by_test_id("reset-form")).to_have_count(0)
    page.get_by_test_id("signin-email").fill("ada@example.com")
    page.get_by_test_id("signin-password").fill(NEW_PASSWORD)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("user-profile")).to_have_text("Welcome, ada@example.com")

    # "Sign in with fake": through the provider and back; both addresses verified, so it is the same user
    page.get_by_test_id("sign-out").click()
    page.get_by_test_id("social-fake").click()
    expect(page.get_by_test_id("user-profile")).to_have_text("Welcome, ada@example.com")
    assert page.url.rstrip("/") == site.url
    assert ("GET", "/authorize") in site.provider.requests
    assert ("POST", "/token") in site.provider.requests
    shot(page, "social-signed-in")
    accounts = page.evaluate("fetch('/api/auth/list-accounts').then((r) => r.json())")
    assert sorted(account["providerId"] for account in accounts) == ["credential", "fake"]

    # consent refused at GitHub: back on the page, signed out, with the reason
    page.get_by_test_id("sign-out").click()
    site.provider.deny = True
    page.get_by_test_id("social-github").click()
    expect(page.get_by_test_id("landing-error")).to_have_text("Sign-in was cancelled at the provider. (access_denied)")
    expect(page.get_by_test_id("user-profile")).to_have_text("Not authenticated")
    shot(page, "social-refused")
    context.close()
