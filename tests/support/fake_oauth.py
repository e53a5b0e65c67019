"""A fake OpenID Connect provider and a fake GitHub on 127.0.0.1, for the social sign-in tests.

One server answers both, like the real ones would:

* OpenID Connect: ``/.well-known/openid-configuration``, ``/jwks.json``, ``/authorize``, ``/token``, ``/userinfo``.
* GitHub: ``/login/oauth/authorize``, ``/login/oauth/access_token``, ``/api/user``, ``/api/user/emails``.

The authorization endpoint checks what a real one checks (client id, a registered redirect URI, ``S256`` PKCE) and
signs in :attr:`FakeProvider.user` at once (no login page), redirecting back with a one-time code. The token
endpoint checks the client secret, the redirect URI, the PKCE verifier against the challenge, and refuses a code
used before (``invalid_grant``). ID tokens are RS256 JWTs signed with :attr:`FakeProvider.key` (joserfc).

Knobs a test turns: ``user`` (who signs in), ``deny`` (the user refuses consent → ``error=access_denied``),
``signing_key`` (sign ID tokens with a key the JWKS does not publish), ``nonce`` (put another nonce in the ID
token), ``extra_claims`` (added to the ID token), ``id_token_email`` (False: the email only at UserInfo).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import shutil
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.support.local_http import Answer, LocalServer
from tests.support.node_clients import EXAMPLE_FUNCTIONS

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

CLIENT_ID = "fake-client"
CLIENT_SECRET = "fake-secret-0123456789"
#: ``AUTHLIB_OAUTH_CLIENT_SECRETS`` for :func:`write_social_app`'s providers.
CLIENT_SECRETS_ENV = f"fake={CLIENT_SECRET},github={CLIENT_SECRET}"


def write_social_app(folder: Path, provider_url: str) -> Path:
    """The example app (all of functions/) in ``folder``, its ``auth_config.py`` naming both fake providers.

    The providers are ``fake`` (OpenID Connect at ``provider_url``) and ``github`` (GitHub's endpoints on it); both
    take :data:`CLIENT_ID`, and need ``AUTHLIB_OAUTH_CLIENT_SECRETS`` = :data:`CLIENT_SECRETS_ENV`.
    """
    shutil.copytree(EXAMPLE_FUNCTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    config = folder / "auth_config.py"
    existing = config.read_text() + "\n" if config.is_file() else ""
    url = provider_url
    github = {"authorize_url": f"{url}/login/oauth/authorize", "token_url": f"{url}/login/oauth/access_token"}
    github["api_url"] = f"{url}/api"
    config.write_text(
        existing + "from authlib_core.auth import GitHubSignIn, OIDCSignIn\n\n"
        "social_providers = [\n"
        f"    OIDCSignIn(id='fake', issuer={url!r}, client_id={CLIENT_ID!r}),\n"
        f"    GitHubSignIn(client_id={CLIENT_ID!r}, **{github!r}),\n"
        "]\n"
    )
    return folder


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class FakeProvider(LocalServer):
    """Both providers on one port. ``redirect_uris`` lists the registered callback URLs (set it before use)."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-1"}, private=True)
        self.signing_key: RSAKey | None = None
        self.user: dict[str, Any] = {
            "sub": "oidc-ada",
            "github_id": 4242,
            "email": "ada@example.com",
            "email_verified": True,
            "name": "Ada Lovelace",
        }
        self.deny = False
        #: what a refusal sends back (``error``, and ``error_description`` when set)
        self.deny_error = "access_denied"
        self.deny_description: str | None = None
        self.nonce: str | None = None
        self.id_token_email = True
        self.extra_claims: dict[str, Any] = {}
        #: The discovery document's ``authorization_response_iss_parameter_supported`` (RFC 9207).
        self.advertise_iss = False
        self.redirect_uris: set[str] = set()
        self.codes: dict[str, dict[str, Any]] = {}
        self.used_codes: set[str] = set()
        self.tokens: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        super().__init__({})

    def visit(self, authorize_url: str) -> str:
        """The browser's visit to the authorize URL: where the provider sends it back (its ``Location``)."""

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kwargs: object) -> None:
                return None

        try:
            urllib.request.build_opener(NoRedirect()).open(authorize_url, timeout=10).close()
        except urllib.error.HTTPError as answer:
            with answer:
                if answer.code == 302:
                    return str(answer.headers["Location"])
        raise AssertionError(f"the provider did not redirect from {authorize_url}")

    def answer(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        bearer = headers.get("Authorization", "").removeprefix("Bearer ").strip()
        self.requests.append((method, parts.path))
        routes = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", "/jwks.json"): lambda: (200, {"keys": [self.key.as_dict(private=False)]}),
            ("GET", "/authorize"): lambda: self._authorize(query, kind="oidc"),
            ("GET", "/login/oauth/authorize"): lambda: self._authorize(query, kind="github"),
            ("POST", "/token"): lambda: self._token(form),
            ("POST", "/login/oauth/access_token"): lambda: self._token(form),
            ("GET", "/userinfo"): lambda: self._userinfo(bearer),
            ("GET", "/api/user"): lambda: self._github_user(bearer),
            ("GET", "/api/user/emails"): lambda: self._github_emails(bearer),
        }
        route = routes.get((method, parts.path))
        status, payload = route() if route else (404, {"error": "not_found"})
        if isinstance(payload, str):  # a redirect
            return status, {"Location": payload}, b""
        return status, {"Content-Type": "application/json"}, payload

    # ------------------------------------------------------------------ endpoints

    def _discovery(self) -> tuple[int, Any]:
        return 200, {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks.json",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
            **({"authorization_response_iss_parameter_supported": True} if self.advertise_iss else {}),
        }

    def _authorize(self, query: dict[str, str], *, kind: str) -> tuple[int, Any]:
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or redirect_uri not in self.redirect_uris:
            return 400, {"error": "invalid_request", "error_description": "unknown client or redirect_uri"}
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return 400, {"error": "invalid_request", "error_description": "code flow with S256 PKCE only"}
        back = {"state": query.get("state", "")}
        if kind == "oidc":
            back["iss"] = self.url
        if self.deny:
            back["error"] = self.deny_error
            if self.deny_description is not None:
                back["error_description"] = self.deny_description
            return 302, f"{redirect_uri}?{urlencode(back)}"
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = {
                "kind": kind,
                "redirect_uri": redirect_uri,
                "challenge": query.get("code_challenge", ""),
                "nonce": query.get("nonce"),
                "scope": query.get("scope", ""),
                "user": dict(self.user),
            }
        back["code"] = code
        return 302, f"{redirect_uri}?{urlencode(back)}"

    def _token(self, form: dict[str, str]) -> tuple[int, Any]:
        code = form.get("code", "")
        with self._lock:
            grant = self.codes.pop(code, None)
            replayed = code in self.used_codes
            self.used_codes.add(code)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        if grant is None or replayed:
            return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
        if form.get("redirect_uri") != grant["redirect_uri"] or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
        if _challenge(form.get("code_verifier", "")) != grant["challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        access_token = secrets.token_urlsafe(24)
        self.tokens[access_token] = grant["user"]
        answer: dict[str, Any] = {"access_token": access_token, "token_type": "Bearer", "scope": grant["scope"]}
        if grant["kind"] == "oidc":
            answer["id_token"] = self._id_token(grant["user"], grant["nonce"])
        return 200, answer

    def _id_token(self, user: dict[str, Any], nonce: str | None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": user["sub"],
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": self.nonce if self.nonce is not None else nonce,
            **self.extra_claims,
            "name": user["name"],
        }
        if self.id_token_email:
            claims.update(email=user["email"], email_verified=user["email_verified"])
        key = self.signing_key or self.key
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key, algorithms=["RS256"])

    def _userinfo(self, bearer: str) -> tuple[int, Any]:
        user = self.tokens.get(bearer)
        if user is None:
            return 401, {"error": "invalid_token"}
        return 200, {k: user[k] for k in ("sub", "email", "email_verified", "name")}

    def _github_user(self, bearer: str) -> tuple[int, Any]:
        user = self.tokens.get(bearer)
        if user is None:
            return 401, {"message": "Bad credentials"}
        login = user["email"].split("@")[0]
        return 200, {"id": user["github_id"], "login": login, "name": user["name"], "email": None, "avatar_url": None}

    def _github_emails(self, bearer: str) -> tuple[int, Any]:
        user = self.tokens.get(bearer)
        if user is None:
            return 401, {"message": "Bad credentials"}
        return 200, [
            {"email": "old@example.org", "primary": False, "verified": True},
            {"email": user["email"], "primary": True, "verified": user["email_verified"]},
        ]
