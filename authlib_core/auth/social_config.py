"""Sign-in providers for ``POST /sign-in/social``: GitHub, and any OpenID Connect provider by issuer URL.

Declared in ``functions/auth_config.py`` as a module-level ``social_providers`` list (next to ``providers``, the
JWT issuers of :mod:`~authlib_core.auth.jwt_config`)::

    from authlib_core.auth import GitHubSignIn, OIDCSignIn

    social_providers = [
        GitHubSignIn(client_id="Iv1.0123456789abcdef"),
        OIDCSignIn(id="google", issuer="https://accounts.google.com", client_id="1234.apps.googleusercontent.com"),
    ]

Only public configuration lives in source: each provider's **client secret** comes from the environment,
``AUTHLIB_OAUTH_CLIENT_SECRETS=github=...,google=...`` (or, on Lambda, the SSM SecureString parameter
``AUTHLIB_OAUTH_CLIENT_SECRETS_PARAMETER`` names). The redirect URI to register at the provider is
``<AUTHLIB_BASE_URL>/api/auth/callback/<id>``; no other is ever sent.

Nothing here fetches anything; the flow is :mod:`~authlib_core.auth.social` and :mod:`~authlib_core.auth.oauth_client`.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:
    from authlib_core.auth.oauth_client import OAuthClient

__all__ = [
    "PROVIDER_ID",
    "GitHubSignIn",
    "MissingClientSecretError",
    "OIDCSignIn",
    "SocialProvider",
    "SocialProviders",
    "parse_social_providers",
]

#: What a provider id looks like (the last segment of ``/api/auth/callback/<id>``).
PROVIDER_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,128}")  # RFC 6749 scope-token


def _check_common(provider_id: str, client_id: str, scopes: Sequence[str]) -> tuple[str, ...]:
    if not isinstance(provider_id, str) or not PROVIDER_ID.fullmatch(provider_id):
        raise ValueError(
            f"id is {provider_id!r}; use 1-32 lower-case letters, digits and '-' (it is the path of "
            "/api/auth/callback/<id> and the providerId of the accounts it creates)"
        )
    if provider_id == "credential":
        raise ValueError("id 'credential' is taken by email-and-password accounts; choose another id")
    if not isinstance(client_id, str) or not client_id.strip() or client_id != client_id.strip():
        raise ValueError(f"client_id must be the OAuth client id the provider issued (got {client_id!r})")
    if isinstance(scopes, str) or not all(isinstance(s, str) and _SCOPE.fullmatch(s) for s in scopes):
        raise ValueError(f"scopes must be a list of OAuth scope names without spaces (got {scopes!r})")
    return tuple(scopes)


def _display_name(value: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 64 or not value.isprintable():
        raise ValueError(f"name must be 1-64 printable characters (what the sign-in button says), got {value!r}")
    return value


def _https_url(name: str, value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("https", "http") or not parsed.hostname or parsed.query or parsed.fragment:
        raise ValueError(f"{name} is {value!r}; write an absolute https URL without query or fragment")
    return value.rstrip("/")


@dataclasses.dataclass(frozen=True, slots=True)
class GitHubSignIn:
    """Sign in with GitHub (OAuth 2 with PKCE; the profile from ``/user`` and ``/user/emails``).

    ``scopes`` are added to ``read:user user:email``. The three URLs default to github.com; point them at a GitHub
    Enterprise Server (``https://github.example.com/login/oauth/...``, ``https://github.example.com/api/v3``).

    Example:
        >>> GitHubSignIn(client_id="Iv1.abc").scopes_requested
        ('read:user', 'user:email')
    """

    client_id: str
    id: str = "github"
    scopes: Sequence[str] = ()
    #: What a sign-in button says ("Sign in with GitHub"); ``GET /api/auth/social-providers`` lists it.
    name: str = "GitHub"
    authorize_url: str = "https://github.com/login/oauth/authorize"
    token_url: str = "https://github.com/login/oauth/access_token"  # noqa: S105 - a URL, not a secret
    api_url: str = "https://api.github.com"

    def __post_init__(self) -> None:
        object.__setattr__(self, "scopes", _check_common(self.id, self.client_id, self.scopes))
        object.__setattr__(self, "name", _display_name(self.name))
        for name in ("authorize_url", "token_url", "api_url"):
            object.__setattr__(self, name, _https_url(name, getattr(self, name)))

    @property
    def scopes_requested(self) -> tuple[str, ...]:
        """The scopes sent to GitHub: the defaults, then the configured ones (no repeats)."""
        return tuple(dict.fromkeys(("read:user", "user:email", *self.scopes)))

    def describe(self) -> str:
        """How messages name this provider (public configuration only)."""
        return f"GitHubSignIn(id={self.id}, client_id={self.client_id})"


@dataclasses.dataclass(frozen=True, slots=True)
class OIDCSignIn:
    """Sign in with any OpenID Connect provider, found by its issuer (``<issuer>/.well-known/openid-configuration``).

    The ID token's signature (the provider's JWKS), ``iss``, ``aud`` (= ``client_id``), ``exp``, ``iat`` and the
    ``nonce`` bound to the browser's sign-in are verified with joserfc. ``scopes`` are added to
    ``openid email profile``.

    Example:
        >>> OIDCSignIn(id="okta", issuer="https://example.okta.com/", client_id="0oa1").issuer
        'https://example.okta.com'
    """

    id: str
    issuer: str
    client_id: str
    scopes: Sequence[str] = ()
    #: What a sign-in button says ("Sign in with Okta"); defaults to ``id``.
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "scopes", _check_common(self.id, self.client_id, self.scopes))
        object.__setattr__(self, "issuer", _https_url("issuer", self.issuer))
        object.__setattr__(self, "name", _display_name(self.name or self.id))

    @property
    def scopes_requested(self) -> tuple[str, ...]:
        """The scopes sent to the provider: ``openid email profile``, then the configured ones (no repeats)."""
        return tuple(dict.fromkeys(("openid", "email", "profile", *self.scopes)))

    def describe(self) -> str:
        """How messages name this provider (public configuration only)."""
        return f"OIDCSignIn(id={self.id}, issuer={self.issuer}, client_id={self.client_id})"


#: Either kind of sign-in provider.
SocialProvider = GitHubSignIn | OIDCSignIn


def parse_social_providers(value: object) -> tuple[SocialProvider, ...]:
    """``auth_config.py``'s ``social_providers``: a list of :class:`GitHubSignIn` / :class:`OIDCSignIn`, ids unique.

    Raises:
        ValueError: not a list, an entry of another type, or two entries with one id; the message names the entry.

    Example:
        >>> [p.id for p in parse_social_providers([GitHubSignIn(client_id="a")])]
        ['github']
    """
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValueError(
            f"`social_providers` is a {type(value).__name__}; write a list: social_providers = "
            "[GitHubSignIn(client_id=...), OIDCSignIn(id=..., issuer=..., client_id=...)]"
        )
    seen: set[str] = set()
    for index, entry in enumerate(value):
        if not isinstance(entry, GitHubSignIn | OIDCSignIn):
            raise ValueError(
                f"social_providers[{index}] is a {type(entry).__name__}; use GitHubSignIn(...) or OIDCSignIn(...) "
                "from authlib_core.auth"
            )
        if entry.id in seen:
            raise ValueError(f"social_providers[{index}]: the id {entry.id!r} is used twice; give each its own id")
        seen.add(entry.id)
    return tuple(value)


class MissingClientSecretError(Exception):
    """A declared provider has no client secret in this process's settings; the message says what to set."""


class SocialProviders:
    """The declared providers and their client secrets; a provider's OAuth client is built when first used.

    Building it on use keeps the HTTP client (``urllib.request``) and joserfc off the cold path of functions that
    never start a sign-in, and lets functions without the secrets (the query and mutation Lambdas) load an app
    that declares providers.

    Example:
        >>> registry = SocialProviders([GitHubSignIn(client_id="c")], {"github": "s"}, allow_loopback_http=False)
        >>> registry.get("github").provider.id, registry.get("gitlab")
        ('github', None)
    """

    def __init__(
        self, providers: Sequence[SocialProvider], secrets: Mapping[str, str], *, allow_loopback_http: bool
    ) -> None:
        self._providers = {provider.id: provider for provider in providers}
        self._secrets = dict(secrets)
        self._allow_http = allow_loopback_http
        self._clients: dict[str, OAuthClient] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._providers)

    def declared(self) -> list[SocialProvider]:
        """Every declared provider, in declaration order."""
        return list(self._providers.values())

    def usable(self) -> list[SocialProvider]:
        """The providers this process has a client secret for, in declaration order."""
        return [provider for provider in self._providers.values() if provider.id in self._secrets]

    def get(self, provider_id: str) -> OAuthClient | None:
        """The client of ``provider_id``; None when no such provider is declared.

        Raises:
            MissingClientSecretError: the provider is declared but its client secret is not set here.
        """
        provider = self._providers.get(provider_id)
        if provider is None:
            return None
        secret = self._secrets.get(provider_id)
        if secret is None:
            raise MissingClientSecretError(
                f"{provider.describe()} has no client secret: set AUTHLIB_OAUTH_CLIENT_SECRETS={provider_id}=<the "
                "secret the provider issued> (comma-separate several) for the function that serves /api/auth."
            )
        with self._lock:
            client = self._clients.get(provider_id)
            if client is None:
                from authlib_core.auth.oauth_client import OAuthClient

                client = self._clients[provider_id] = OAuthClient(
                    provider, secret, allow_loopback_http=self._allow_http
                )
            return client
