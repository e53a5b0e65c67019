"""``functions/auth_config.py``: the identity providers whose JWTs become ``ctx.auth`` (Convex's ``auth.config``).

Two kinds of provider, as in Convex:

* :class:`OIDCProvider` — an OpenID Connect issuer (``domain``) and your application's id at it (``application_id``,
  the token's ``aud``). Keys come from ``<domain>/.well-known/openid-configuration`` → ``jwks_uri``.
* :class:`CustomJWTProvider` — any JWT issuer: ``issuer``, the ``jwks`` URL, the one ``algorithm`` it signs with
  (``RS256`` or ``ES256``) and optionally ``application_id`` (then ``aud`` must contain it).

``auth_config.py`` holds a module-level ``providers`` list of these (or of dicts with the keys of Convex's
``auth.config.ts``: ``{"domain", "applicationID"}`` / ``{"type": "customJwt", "issuer", "jwks", "algorithm",
"applicationID"?}``)::

    from authlib_core.auth import OIDCProvider

    providers = [
        OIDCProvider(
            domain="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI",
            application_id="4kq3example0client0id",
        ),
    ]

This module only describes providers (nothing here imports a JOSE library); verifying a token is
:mod:`authlib_core.auth.jwt_verify`, loaded only when an app declares providers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Literal
from urllib.parse import urlparse

from authlib_core.auth.jwt_shape import looks_like_jwt, token_part
from authlib_core.config import is_loopback_url

__all__ = [
    "ALLOWED_ALGORITHMS",
    "AuthProvider",
    "CustomJWTProvider",
    "OIDCProvider",
    "check_provider_url",
    "looks_like_jwt",
    "parse_providers",
    "token_part",
]

#: The signature algorithms accepted from identity providers: asymmetric only (never ``none`` or ``HS*``).
ALLOWED_ALGORITHMS = ("RS256", "ES256")


@dataclasses.dataclass(frozen=True, slots=True)
class OIDCProvider:
    """An OpenID Connect issuer: tokens with ``iss`` = ``domain`` and ``aud`` ∋ ``application_id`` are accepted.

    Example:
        >>> OIDCProvider("https://accounts.google.com/", "my-client-id").domain
        'https://accounts.google.com'

    Common mistake: a Cognito user pool's *access* token has no ``aud`` (it carries ``client_id``); an OIDC
    provider accepts ID tokens. For access tokens use :class:`CustomJWTProvider` with
    ``claims={"client_id": ..., "token_use": "access"}`` (docs/auth.md).
    """

    domain: str
    application_id: str

    def __post_init__(self) -> None:
        _require_text("domain", self.domain)
        _require_text("application_id", self.application_id)
        object.__setattr__(self, "domain", _issuer(self.domain, "domain"))

    @property
    def issuer(self) -> str:
        """The expected ``iss`` (``domain`` without a trailing ``/``)."""
        return self.domain

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The algorithms accepted from this issuer."""
        return ALLOWED_ALGORITHMS

    def describe(self) -> str:
        """How messages name this provider: its public configuration, nothing secret."""
        return f"OIDC(domain={self.domain}, application_id={self.application_id})"


@dataclasses.dataclass(frozen=True, slots=True)
class CustomJWTProvider:
    """Any JWT issuer with a JWKS URL: ``iss`` must equal ``issuer``; the signature uses ``algorithm``.

    ``application_id`` (optional) must appear in ``aud``. ``claims`` (optional) are further claims that must
    have exactly these string values, e.g. ``{"token_use": "access", "client_id": "..."}`` for Cognito access
    tokens.

    Example:
        >>> CustomJWTProvider(issuer="https://auth.example.com", jwks="https://auth.example.com/jwks.json",
        ...                   algorithm="ES256").algorithms
        ('ES256',)
    """

    issuer: str
    jwks: str
    algorithm: Literal["RS256", "ES256"]
    application_id: str | None = None
    claims: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        _require_text("issuer", self.issuer)
        _require_text("jwks", self.jwks)
        object.__setattr__(self, "issuer", self.issuer.rstrip("/"))
        if not self.issuer:
            raise ValueError("issuer must be the tokens' iss claim, e.g. 'https://auth.example.com'")
        if check_provider_url(self.jwks, allow_loopback_http=True) is not None:
            raise ValueError(f"jwks is {self.jwks!r}; write the https URL of the issuer's JSON Web Key Set")
        if self.algorithm not in ALLOWED_ALGORITHMS:
            raise ValueError(
                f"algorithm is {self.algorithm!r}; a JWKS provider signs with one of {', '.join(ALLOWED_ALGORITHMS)} "
                "(symmetric HS* and 'none' are refused: anyone holding the key, or no one, could mint tokens)"
            )
        if self.application_id is not None:
            _require_text("application_id", self.application_id)
        if not isinstance(self.claims, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.claims.items()
        ):
            raise ValueError("claims must map claim names to the string each must equal")
        object.__setattr__(self, "claims", dict(self.claims))

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The one algorithm accepted from this issuer."""
        return (self.algorithm,)

    def describe(self) -> str:
        """How messages name this provider: its public configuration, nothing secret."""
        audience = "" if self.application_id is None else f", application_id={self.application_id}"
        return f"CustomJWT(issuer={self.issuer}{audience})"


#: Either kind of provider.
AuthProvider = OIDCProvider | CustomJWTProvider


def parse_providers(value: object) -> tuple[OIDCProvider | CustomJWTProvider, ...]:
    """The providers of ``auth_config.py``'s ``providers`` attribute (a list of providers or Convex-style dicts).

    Raises:
        ValueError: the value or one entry is malformed; the message names the entry (``providers[1]``) and
            what to write instead.

    Example:
        >>> parse_providers([{"domain": "https://issuer.example", "applicationID": "app"}])
        (OIDCProvider(domain='https://issuer.example', application_id='app'),)
    """
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise ValueError(
            f"`providers` is a {type(value).__name__}; write a list: providers = [OIDCProvider(domain=..., "
            "application_id=...)]"
        )
    parsed: list[OIDCProvider | CustomJWTProvider] = []
    for index, entry in enumerate(value):
        try:
            parsed.append(_provider(entry))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"providers[{index}]: {exc}") from None
    return tuple(parsed)


def _provider(entry: object) -> OIDCProvider | CustomJWTProvider:
    if isinstance(entry, OIDCProvider | CustomJWTProvider):
        return entry
    if not isinstance(entry, Mapping):
        raise ValueError(
            f"is a {type(entry).__name__}; use OIDCProvider(...), CustomJWTProvider(...) or a dict with the keys "
            "of Convex's auth.config.ts"
        )
    keys = set(entry)
    if entry.get("type") == "customJwt":
        known = {"type", "issuer", "jwks", "algorithm", "applicationID"}
        _no_unknown_keys(keys, known)
        _no_missing_keys(keys, {"issuer", "jwks", "algorithm"})
        return CustomJWTProvider(
            issuer=entry["issuer"],
            jwks=entry["jwks"],
            algorithm=entry["algorithm"],
            application_id=entry.get("applicationID"),
        )
    if "type" in entry:
        raise ValueError(f"type is {entry['type']!r}; the only provider type is 'customJwt' (omit it for OIDC)")
    _no_unknown_keys(keys, {"domain", "applicationID"})
    _no_missing_keys(keys, {"domain", "applicationID"})
    return OIDCProvider(domain=entry["domain"], application_id=entry["applicationID"])


def _no_unknown_keys(keys: set[object], known: set[str]) -> None:
    unknown = sorted(str(key) for key in keys - known)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}; the keys are {', '.join(sorted(known))}")


def _no_missing_keys(keys: set[object], required: set[str]) -> None:
    missing = sorted(required - {str(key) for key in keys})
    if missing:
        raise ValueError(f"missing key(s) {', '.join(missing)}")


def _require_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise ValueError(f"{name} must be a non-empty string without surrounding spaces (got {value!r})")


def _issuer(value: str, name: str) -> str:
    """``value`` without a trailing ``/``; it must be an absolute http(s) URL with a host."""
    issuer = value.rstrip("/")
    parsed = urlparse(issuer)
    if parsed.scheme not in ("https", "http") or not parsed.hostname or parsed.query or parsed.fragment:
        raise ValueError(f"{name} is {value!r}; write the issuer URL exactly as the tokens' iss claim, https://...")
    return issuer


def check_provider_url(url: str, *, allow_loopback_http: bool) -> str | None:
    """Why ``url`` (an issuer, discovery or JWKS URL) may not be fetched, or ``None`` when it may.

    Keys are fetched over https only; plain http is allowed for a loopback host (``127.0.0.1``, ``localhost``)
    when ``allow_loopback_http`` is set (``AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP``, for local test issuers).

    Example:
        >>> check_provider_url("https://issuer.example/jwks", allow_loopback_http=False) is None
        True
        >>> check_provider_url("http://127.0.0.1:9000/jwks", allow_loopback_http=False)[:30]
        'http://127.0.0.1:9000/jwks is '
    """
    try:
        parsed = urlparse(url)
    except ValueError:
        return f"{url!r} is not a URL"
    if parsed.scheme == "https" and parsed.hostname:
        return None
    if parsed.scheme == "http" and parsed.hostname and is_loopback_url(url):
        if allow_loopback_http:
            return None
        return (
            f"{url} is plain http; keys are fetched over https only. For a local test issuer on this machine set "
            "AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP=true"
        )
    return f"{url} is not an https URL; identity providers' keys are fetched over https only"
