"""Social and OpenID Connect sign-in against a fake provider the test starts (tests/support/fake_oauth.py).

The dev server runs in this process over real HTTP; a ``requests`` session plays the browser (cookie jar, one
redirect at a time), so every hop is visible: ``/sign-in/social`` → the provider's authorize endpoint → the
callback → the app.
"""

from __future__ import annotations

import io
import sys
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc.jwk import RSAKey

from authlib_core.auth import jwks
from authlib_core.config import Settings
from authlib_core.dev.server import DevServer
from authlib_core.errors import ConfigError
from authlib_core.runtime import build_runtime
from tests.support.fake_oauth import CLIENT_ID, CLIENT_SECRET, FakeProvider, write_social_app

APP = "http://localhost:5173"  # the app's page (a trusted origin)
PASSWORD = "correct horse battery"


@pytest.fixture
def provider():
    jwks.clear_cache()
    fake = FakeProvider()
    yield fake
    fake.close()
    jwks.clear_cache()


def make_settings(folder, tmp_path, **overrides):
    values = {
        "functions_dir": folder,
        "sqlite_path": tmp_path / "social.sqlite3",
        "jwt_allow_loopback_http": True,
        "oauth_client_secrets": (("fake", CLIENT_SECRET), ("github", CLIENT_SECRET)),
        "trusted_origins": (APP,),
        "rate_limit_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def app_dir(tmp_path, provider):
    folder = write_social_app(tmp_path / "socialfns", provider.url)
    yield folder
    for module in list(sys.modules):
        if module.split(".")[0] == "socialfns":
            del sys.modules[module]


@pytest.fixture
def server(app_dir, tmp_path, provider, request):
    overrides = getattr(request, "param", {})
    dev = DevServer(
        lambda: build_runtime(make_settings(app_dir, tmp_path, **overrides)), app_dir, port=0, out=io.StringIO()
    )
    dev.start_background()
    provider.redirect_uris = {f"{dev.url}/api/auth/callback/fake", f"{dev.url}/api/auth/callback/github"}
    yield dev
    dev.shutdown()


class Browser:
    """A cookie jar and one request at a time (redirects are followed by :meth:`follow`, hop by hop)."""

    def __init__(self, server: DevServer) -> None:
        self.server = server
        self.session = requests.Session()
        self.hops: list[str] = []

    def post(self, path: str, body: dict) -> requests.Response:
        return self.session.post(f"{self.server.url}/api/auth{path}", json=body, headers={"Origin": APP}, timeout=10)

    def get(self, path: str) -> requests.Response:
        return self.session.get(f"{self.server.url}/api/auth{path}", headers={"Origin": APP}, timeout=10)

    def follow(self, url: str, *, stop_at: str = APP) -> str:
        """Follow redirects from ``url`` until one leaves for the app's page; that URL."""
        for _ in range(6):
            if url.startswith("/"):
                url = self.server.url + url
            if url.startswith(stop_at) or "/api/auth/error" in url:
                return url
            self.hops.append(url)
            response = self.session.get(url, allow_redirects=False, timeout=10)
            assert response.status_code == 302, (url, response.status_code, response.text)
            url = response.headers["Location"]
        raise AssertionError(f"too many redirects: {self.hops}")

    def start(self, provider_id: str, **body) -> str:
        """``/sign-in/social``; returns the authorize URL the client would navigate to."""
        answer = self.post("/sign-in/social", {"provider": provider_id, "callbackURL": f"{APP}/home", **body})
        assert answer.status_code == 200, answer.text
        data = answer.json()
        assert data["redirect"] is True
        assert answer.headers["Location"] == data["url"]
        return data["url"]

    def refused(self, provider_id: str, **body) -> str:
        """Sign in through the provider expecting a refusal: the ``error`` the errorCallbackURL receives."""
        landed = self.follow(self.start(provider_id, errorCallbackURL=f"{APP}/oops", **body))
        assert landed.startswith(f"{APP}/oops?"), landed
        assert self.session_user() is None
        return params(landed)["error"]

    def session_user(self) -> dict | None:
        body = self.get("/get-session").json()
        return None if body is None else body["user"]


def params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_oidc_sign_in_creates_the_user_and_a_session(server, provider):
    browser = Browser(server)
    authorize = browser.start("fake", newUserCallbackURL=f"{APP}/welcome")
    sent = params(authorize)
    assert authorize.startswith(f"{provider.url}/authorize?")
    assert sent["response_type"] == "code"
    assert sent["client_id"] == CLIENT_ID
    assert sent["redirect_uri"] == f"{server.url}/api/auth/callback/fake"
    assert sent["code_challenge_method"] == "S256"
    assert len(sent["code_challenge"]) == 43
    assert sent["scope"] == "openid email profile"
    assert len(sent["nonce"]) >= 43
    assert len(sent["state"]) == 43
    state_cookie = browser.session.cookies.get("better-auth.state")
    assert state_cookie is not None
    assert state_cookie.startswith(sent["state"])
    landed = browser.follow(authorize)
    assert landed == f"{APP}/welcome"  # a new user goes to newUserCallbackURL
    user = browser.session_user()
    assert user["email"] == "ada@example.com"
    assert user["name"] == "Ada Lovelace"
    assert user["emailVerified"] is True
    assert browser.session.cookies.get("better-auth.state") is None  # expired at the callback
    accounts = browser.get("/list-accounts").json()
    assert [(a["providerId"], a["accountId"]) for a in accounts] == [("fake", "oidc-ada")]
    assert accounts[0]["scopes"] == ["openid", "email", "profile"]
    assert accounts[0]["userId"] == user["id"]
    assert set(accounts[0]) == {"id", "providerId", "accountId", "userId", "createdAt", "updatedAt", "scopes"}

    again = Browser(server)  # the same person on another device: the linked account signs in, no new user
    assert again.follow(again.start("fake", newUserCallbackURL=f"{APP}/welcome")) == f"{APP}/home"
    assert again.session_user()["id"] == user["id"]


def test_github_sign_in_reads_the_verified_primary_email(server, provider):
    browser = Browser(server)
    authorize = browser.start("github")
    assert authorize.startswith(f"{provider.url}/login/oauth/authorize?")
    assert params(authorize)["scope"] == "read:user user:email"
    assert "nonce" not in params(authorize)
    assert browser.follow(authorize) == f"{APP}/home"
    user = browser.session_user()
    assert (user["email"], user["emailVerified"], user["name"]) == ("ada@example.com", True, "Ada Lovelace")
    accounts = browser.get("/list-accounts").json()
    assert [(a["providerId"], a["accountId"]) for a in accounts] == [("github", "4242")]
    assert ("GET", "/api/user/emails") in provider.requests


def test_disable_redirect_answers_the_url_without_location(server):
    browser = Browser(server)
    answer = browser.post("/sign-in/social", {"provider": "fake", "disableRedirect": True})
    assert answer.status_code == 200
    assert answer.json()["redirect"] is False
    assert "Location" not in answer.headers


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"provider": "nope"}, 404, "PROVIDER_NOT_FOUND"),
        ({"provider": "fake", "callbackURL": "https://evil.example/x"}, 403, "INVALID_CALLBACK_URL"),
        ({"provider": "fake", "errorCallbackURL": "//evil.example"}, 403, "INVALID_ERROR_CALLBACK_URL"),
        ({"provider": "fake", "newUserCallbackURL": "/\t/evil.example"}, 400, "INVALID_NEW_USER_CALLBACK_URL"),
        ({"provider": "fake", "idToken": {"token": "x"}}, 404, "ID_TOKEN_NOT_SUPPORTED"),
        ({"provider": "fake", "scopes": ["a b"]}, 400, "VALIDATION_ERROR"),
        ({}, 400, "VALIDATION_ERROR"),
    ],
)
def test_sign_in_social_refuses_bad_input_before_storing_anything(server, body, status, code):
    browser = Browser(server)
    answer = browser.post("/sign-in/social", body)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert browser.session.cookies.get("better-auth.state") is None


def test_wrong_state_and_missing_cookie_end_in_state_mismatch(server, provider):
    browser = Browser(server)
    authorize = browser.start("fake", errorCallbackURL=f"{APP}/oops")
    back = browser.session.get(authorize, allow_redirects=False).headers["Location"]
    code = params(back)["code"]
    # a made-up state: nothing stored under it
    forged = browser.session.get(
        f"{server.url}/api/auth/callback/fake?code={code}&state={'A' * 43}", allow_redirects=False
    )
    assert forged.status_code == 302
    assert params(forged.headers["Location"])["error"] == "state_mismatch"
    # the real callback URL opened in another browser (no state cookie): refused, and the state stays usable
    other = requests.get(back, allow_redirects=False, timeout=10)
    assert other.headers["Location"].startswith(f"{APP}/oops?")
    assert params(other.headers["Location"]) == {"error": "state_mismatch"}
    assert requests.get(f"{server.url}/api/auth/get-session", timeout=10).json() is None
    # no state at all
    bare = browser.session.get(f"{server.url}/api/auth/callback/fake?code=x", allow_redirects=False)
    assert bare.headers["Location"] == "/api/auth/error?error=state_not_found"
    # the owner of the cookie still completes it
    assert browser.follow(back) == f"{APP}/home"
    assert browser.session_user() is not None


def test_a_replayed_callback_and_a_replayed_code_are_refused(server, provider):
    browser = Browser(server)
    authorize = browser.start("fake", errorCallbackURL=f"{APP}/oops")
    back = browser.session.get(authorize, allow_redirects=False).headers["Location"]
    cookie = browser.session.cookies.get("better-auth.state")
    assert browser.follow(back) == f"{APP}/home"
    # the same callback again (even with the state cookie put back): the state was used up
    browser.session.cookies.set("better-auth.state", cookie)
    replay = browser.session.get(back, allow_redirects=False)
    assert params(replay.headers["Location"])["error"] == "state_mismatch"
    # the old code under a fresh state: the provider refuses it (used, and PKCE bound to another verifier)
    fresh = Browser(server)
    state = params(fresh.start("fake", errorCallbackURL=f"{APP}/oops"))["state"]
    old_code = params(back)["code"]
    answer = fresh.session.get(
        f"{server.url}/api/auth/callback/fake?code={old_code}&state={state}", allow_redirects=False
    )
    assert answer.headers["Location"] == f"{APP}/oops?error=invalid_code"
    assert fresh.session_user() is None


def test_bad_id_token_signature_wrong_nonce_and_audience_are_refused(server, provider):
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "fake-1"}, private=True)
    assert Browser(server).refused("fake") == "unable_to_get_user_info"
    provider.signing_key = None
    provider.nonce = "someone-elses-nonce"
    assert Browser(server).refused("fake") == "unable_to_get_user_info"
    provider.nonce = None
    provider.extra_claims = {"aud": [CLIENT_ID, "another-client"], "azp": "another-client"}
    assert Browser(server).refused("fake") == "unable_to_get_user_info"
    provider.extra_claims = {"aud": "another-client"}
    assert Browser(server).refused("fake") == "unable_to_get_user_info"
    # OpenID Connect Core 3.1.3.7 step 3: an audience this client does not trust besides its own (no azp to say
    # which client the token was issued to) is refused
    provider.extra_claims = {"aud": [CLIENT_ID, "another-client"]}
    assert Browser(server).refused("fake") == "unable_to_get_user_info"
    provider.extra_claims = {"aud": [CLIENT_ID, "another-client"], "azp": CLIENT_ID}
    assert Browser(server).refused("fake") == "unable_to_get_user_info"
    provider.extra_claims = {"aud": [CLIENT_ID], "azp": CLIENT_ID}  # only this client: accepted
    browser = Browser(server)
    assert browser.follow(browser.start("fake")) == f"{APP}/home"


def test_email_from_userinfo_when_the_id_token_has_none(server, provider):
    provider.id_token_email = False
    browser = Browser(server)
    assert browser.follow(browser.start("fake")) == f"{APP}/home"
    assert browser.session_user()["email"] == "ada@example.com"
    assert ("GET", "/userinfo") in provider.requests


def test_provider_error_is_passed_on_to_the_error_callback(server, provider):
    provider.deny = True
    browser = Browser(server)
    assert browser.follow(browser.start("fake", errorCallbackURL=f"{APP}/oops")) == f"{APP}/oops?error=access_denied"
    # without errorCallbackURL the error page of the API answers
    assert browser.follow(browser.start("fake")) == f"{server.url}/api/auth/error?error=access_denied"


@pytest.mark.parametrize("code", ["invalid_scope", "temporarily_unavailable", "login_required", "consent_required"])
def test_a_standard_provider_error_code_is_passed_on(server, provider, code):
    provider.deny, provider.deny_error = True, code
    browser = Browser(server)
    assert browser.follow(browser.start("fake", errorCallbackURL=f"{APP}/oops")) == f"{APP}/oops?error={code}"


@pytest.mark.parametrize(
    "sent",
    ["Your account is locked, call +1 555 0100", "access_denied2", "<script>alert(1)</script>", "ACCESS_DENIED"],
)
def test_a_provider_error_that_is_no_standard_code_reaches_the_page_as_a_fixed_code(server, provider, sent):
    # the error page shows the code: a value anyone can put in the callback URL must not become its text
    provider.deny, provider.deny_error = True, sent
    browser = Browser(server)
    landed = browser.follow(browser.start("fake", errorCallbackURL=f"{APP}/oops"))
    assert params(landed) == {"error": "oauth_provider_error"}


def test_an_error_description_passes_only_in_the_characters_rfc_6749_allows(server, provider):
    provider.deny = True
    provider.deny_description = "The user said no."
    browser = Browser(server)
    landed = browser.follow(browser.start("fake", errorCallbackURL=f"{APP}/oops"))
    assert params(landed) == {"error": "access_denied", "error_description": "The user said no."}
    provider.deny_description = 'Say "hi"\n<b>now</b> \u00e9'
    landed = browser.follow(browser.start("fake", errorCallbackURL=f"{APP}/oops"))
    assert params(landed) == {"error": "access_denied"}


def sign_up(server, email: str, *, verified: bool = False) -> Browser:
    browser = Browser(server)
    answer = browser.post("/sign-up/email", {"name": "Local", "email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    if verified:
        runtime = server.reloader.current()  # verifying by link is the emailed-link flow's test; set it here
        user_id = answer.json()["user"]["id"]
        runtime.database.run_mutation(lambda db: db.patch(user_id, {"emailVerified": True}))
    return browser


@pytest.mark.parametrize(("local_verified", "provider_verified"), [(False, True), (True, False)])
def test_linking_by_email_needs_both_addresses_verified(server, provider, local_verified, provider_verified):
    # an unverified local address may have been registered by an attacker before the owner came along; an
    # unverified provider address may not be the signer's at all
    owner = sign_up(server, "ada@example.com", verified=local_verified)
    provider.user = {**provider.user, "email_verified": provider_verified}
    assert Browser(server).refused("fake") == "account_not_linked"
    assert [a["providerId"] for a in owner.get("/list-accounts").json()] == ["credential"]


def test_verified_emails_link_the_existing_user(server, provider):
    owner = sign_up(server, "ada@example.com", verified=True)
    user_id = owner.session_user()["id"]
    browser = Browser(server)
    assert browser.follow(browser.start("github", newUserCallbackURL=f"{APP}/welcome")) == f"{APP}/home"
    assert browser.session_user()["id"] == user_id
    assert sorted(a["providerId"] for a in owner.get("/list-accounts").json()) == ["credential", "github"]


@pytest.mark.parametrize("provider_id", ["fake", "github"])
def test_no_user_is_made_from_an_unverified_provider_email(server, provider, provider_id):
    # such a user could later be claimed by the address's owner (a password reset) while the provider account,
    # someone else's, stays linked to it
    provider.user = {**provider.user, "email": "new@example.com", "email_verified": False}
    assert Browser(server).refused(provider_id) == "email_not_verified"
    owner = Browser(server)  # nothing was stored: the address's owner signs up as usual
    answer = owner.post("/sign-up/email", {"name": "New", "email": "new@example.com", "password": PASSWORD})
    assert answer.status_code == 200, answer.text


def test_link_social_then_unlink(server, provider):
    owner = sign_up(server, "ada@example.com", verified=True)
    answer = owner.post("/link-social", {"provider": "fake", "callbackURL": f"{APP}/settings"})
    assert answer.status_code == 200
    assert answer.json()["redirect"] is True
    assert owner.follow(answer.json()["url"]) == f"{APP}/settings"
    accounts = owner.get("/list-accounts").json()
    assert sorted(a["providerId"] for a in accounts) == ["credential", "fake"]
    fake_row = next(a for a in accounts if a["providerId"] == "fake")
    # the provider's own id is not the row id
    assert owner.post("/unlink-account", {"accountId": "oidc-ada"}).json()["code"] == "ACCOUNT_NOT_FOUND"
    assert owner.post("/unlink-account", {"accountId": fake_row["id"]}).json() == {"status": True}
    remaining = owner.get("/list-accounts").json()
    assert [a["providerId"] for a in remaining] == ["credential"]
    last = owner.post("/unlink-account", {"accountId": remaining[0]["id"]})
    assert (last.status_code, last.json()["code"]) == (400, "FAILED_TO_UNLINK_LAST_ACCOUNT")


def test_link_social_refuses_another_email_and_a_taken_account(server, provider):
    owner = sign_up(server, "grace@example.com", verified=True)
    url = owner.post("/link-social", {"provider": "fake", "errorCallbackURL": f"{APP}/oops"}).json()["url"]
    assert owner.follow(url) == f"{APP}/oops?error=email_does_not_match"
    # ada signs in with the provider first; grace may not take over that provider account
    ada = Browser(server)
    ada.follow(ada.start("fake"))
    provider.user = {**provider.user, "email": "grace@example.com"}  # same subject, now claiming grace's address
    url = owner.post("/link-social", {"provider": "fake", "errorCallbackURL": f"{APP}/oops"}).json()["url"]
    assert owner.follow(url) == f"{APP}/oops?error=account_already_linked_to_different_user"


def test_signed_out_requests_are_refused(server):
    anonymous = Browser(server)
    assert anonymous.get("/list-accounts").status_code == 401
    assert anonymous.post("/link-social", {"provider": "fake"}).status_code == 401
    assert anonymous.post("/unlink-account", {"accountId": "x"}).status_code == 401


@pytest.mark.parametrize("server", [{"oauth_client_secrets": (("fake", CLIENT_SECRET),)}], indirect=True)
def test_a_provider_without_its_client_secret_says_what_to_set(server):
    # the query and mutation functions load the app without the secrets; the auth function must have them
    browser = Browser(server)
    answer = browser.post("/sign-in/social", {"provider": "github"})
    assert (answer.status_code, answer.json()["code"]) == (500, "PROVIDER_NOT_CONFIGURED")
    assert "AUTHLIB_OAUTH_CLIENT_SECRETS=github=" in answer.json()["message"]
    assert browser.session.cookies.get("better-auth.state") is None
    assert browser.get("/social-providers").json() == [{"id": "fake", "name": "fake"}]  # no button for it
    assert browser.follow(browser.start("fake")) == f"{APP}/home"


def test_a_client_secret_for_an_undeclared_provider_is_a_start_up_error(app_dir, tmp_path):
    with pytest.raises(ConfigError, match="names gihub"):
        build_runtime(make_settings(app_dir, tmp_path, oauth_client_secrets=(("fake", "s"), ("gihub", "s"))))


def test_form_post_callback_goes_on_to_get_and_a_foreign_issuer_is_refused(server, provider):
    browser = Browser(server)
    authorize = browser.start("fake", errorCallbackURL=f"{APP}/oops")
    back = params(browser.session.get(authorize, allow_redirects=False).headers["Location"])
    # response_mode=form_post: the provider POSTs the parameters; the server sends the browser on to a GET
    posted = browser.session.post(
        f"{server.url}/api/auth/callback/fake", data={**back, "iss": "https://other.example"}, allow_redirects=False
    )
    assert posted.status_code == 302
    assert posted.headers["Location"].startswith("/api/auth/callback/fake?")
    assert params(posted.headers["Location"])["iss"] == "https://other.example"
    # RFC 9207: the iss parameter names another authorization server (a mix-up attack)
    assert browser.follow(posted.headers["Location"]) == f"{APP}/oops?error=issuer_mismatch"
    assert browser.session_user() is None


def test_a_missing_iss_is_refused_when_the_provider_says_it_sends_one(server, provider):
    # RFC 9207 section 2.4: a client that knows the server sends iss (its discovery document says so) refuses a
    # response without it, or a mix-up attacker would simply strip the parameter that names the wrong issuer
    provider.advertise_iss = True
    browser = Browser(server)
    back = params(
        browser.session.get(browser.start("fake", errorCallbackURL=f"{APP}/oops"), allow_redirects=False).headers[
            "Location"
        ]
    )
    assert back["iss"] == provider.url
    del back["iss"]
    stripped = f"/api/auth/callback/fake?{urlencode(back)}"
    assert browser.follow(stripped) == f"{APP}/oops?error=issuer_missing"
    assert browser.session_user() is None
    assert ("POST", "/token") not in provider.requests  # the code was never exchanged
    # with iss, as the provider sends it, the sign-in completes
    assert browser.follow(browser.start("fake")) == f"{APP}/home"
    assert browser.session_user() is not None


def test_a_provider_that_does_not_advertise_iss_may_leave_it_out(server, provider):
    browser = Browser(server)
    back = params(browser.session.get(browser.start("fake"), allow_redirects=False).headers["Location"])
    del back["iss"]
    assert browser.follow(f"/api/auth/callback/fake?{urlencode(back)}") == f"{APP}/home"


def test_head_on_the_callback_uses_nothing_up(server, provider):
    browser = Browser(server)
    back = browser.session.get(browser.start("fake"), allow_redirects=False).headers["Location"]
    assert browser.session.head(back, allow_redirects=False).status_code == 404
    assert browser.follow(back) == f"{APP}/home"


def test_social_providers_lists_ids_and_button_labels(server):
    answer = Browser(server).get("/social-providers")
    assert answer.status_code == 200
    assert answer.json() == [{"id": "fake", "name": "fake"}, {"id": "github", "name": "GitHub"}]


def test_callback_paths_that_name_no_provider_are_404(server):
    for path in ("/callback//evil.example", "/callback/UPPER", "/callback/a/b"):
        answer = Browser(server).session.get(f"{server.url}/api/auth{path}?state=x", allow_redirects=False)
        assert (answer.status_code, answer.text) == (404, ""), path


@pytest.mark.parametrize("server", [{"require_email_verification": True}], indirect=True)
def test_require_email_verification_applies_to_linked_accounts_too(server, provider):
    first = Browser(server)
    assert first.follow(first.start("fake")) == f"{APP}/home"
    user_id = first.session_user()["id"]
    # the address became unverified since (an email change without verification, an admin)
    server.reloader.current().database.run_mutation(lambda db: db.patch(user_id, {"emailVerified": False}))
    assert Browser(server).refused("fake") == "email_not_verified"
