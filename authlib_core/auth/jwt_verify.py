"""Verifying an ``Authorization: Bearer <JWT>`` against the providers of ``functions/auth_config.py``.

Imported only when an app declares providers (it loads joserfc). :class:`ExternalAuth` picks the provider whose
issuer (and audience) the token names, as Convex does, then checks with joserfc: the signature (an asymmetric
algorithm the provider allows, with a key of its JWKS chosen by ``kid``), ``iss``, ``aud``, ``sub``, ``exp``,
``nbf`` and ``iat`` with :data:`LEEWAY` seconds of clock skew. The result is Convex's ``UserIdentity``:
``subject`` = ``sub``, ``issuer`` = ``iss``, ``tokenIdentifier`` = ``"<iss>|<sub>"``, OIDC standard claims
renamed to Convex's names (``picture`` → ``pictureUrl``, ...), other claims kept.

Example:
    >>> auth = ExternalAuth([OIDCProvider("https://issuer.example", "app")])   # doctest: +SKIP
    >>> auth.verify(token).token_identifier                                      # doctest: +SKIP
    'https://issuer.example|user-123'
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from typing import TYPE_CHECKING, Any

from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from authlib_core.auth.identity import UserIdentity
from authlib_core.auth.jwks import fetch_json
from authlib_core.auth.jwt_config import CustomJWTProvider, OIDCProvider
from authlib_core.errors import AuthProviderUnavailableError, AuthTokenError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from joserfc.jwk import Key

    from authlib_core.values import Value

__all__ = ["LEEWAY", "ExternalAuth"]

#: Seconds of clock skew allowed on ``exp``, ``nbf`` and ``iat`` (Convex allows 5).
LEEWAY = 5

#: OIDC standard claims renamed to Convex's ``UserIdentity`` field names (``crates/keybroker``).
_OIDC_NAMES = {
    "given_name": "givenName",
    "family_name": "familyName",
    "preferred_username": "preferredUsername",
    "profile": "profileUrl",
    "picture": "pictureUrl",
    "website": "websiteUrl",
    "email_verified": "emailVerified",
    "birthdate": "birthday",
    "zoneinfo": "timezone",
    "locale": "language",
    "phone_number": "phoneNumber",
    "phone_number_verified": "phoneNumberVerified",
    "updated_at": "updatedAt",
}
#: Registered claims that are not part of the identity (``iss`` and ``sub`` become ``issuer`` and ``subject``).
_DROPPED = frozenset({"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "fva"})
_SHOWN = 120  # characters of a client-supplied value echoed in a message


class ExternalAuth:
    """Turns a provider's JWT into a :class:`~authlib_core.auth.UserIdentity` (thread-safe; one per runtime).

    ``allow_loopback_http`` lets issuers on ``127.0.0.1``/``localhost`` be fetched over http (tests).
    """

    def __init__(
        self,
        providers: Sequence[OIDCProvider | CustomJWTProvider],
        *,
        allow_loopback_http: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.providers = tuple(providers)
        self._allow_http = allow_loopback_http
        self._clock = clock
        self._lock = threading.Lock()
        self._key_sets: dict[str, tuple[dict[str, Any], KeySet]] = {}

    def verify(self, token: str) -> UserIdentity:
        """The identity ``token`` proves.

        Raises:
            AuthTokenError: the token is malformed, from no configured provider, badly signed, expired, or its
                claims do not match (HTTP 401; the message says which).
            AuthProviderUnavailableError: the provider's keys could not be fetched (HTTP 503).
        """
        try:
            compact = jws.extract_compact(token.encode("ascii"))
            claims = json.loads(compact.payload)
        except (JoseError, ValueError, UnicodeError):
            raise AuthTokenError("Could not verify the auth token: it is not a well-formed JWT.") from None
        header = compact.headers()
        if not isinstance(claims, dict):
            raise AuthTokenError("Could not verify the auth token: its payload is not a JSON object.")
        provider = self._provider_for(claims)
        algorithm = header.get("alg")
        if algorithm not in provider.algorithms:
            raise AuthTokenError(
                f"Could not verify the auth token: it is signed with {_show(algorithm)}, and "
                f"{provider.describe()} accepts only {', '.join(provider.algorithms)}."
            )
        key = self._key(provider, header.get("kid"))
        try:
            verified = jwt.decode(token, key, algorithms=[str(algorithm)])
        except BadSignatureError:
            raise AuthTokenError("Could not verify the auth token: its signature is invalid.") from None
        except (JoseError, ValueError, TypeError):  # e.g. the JWKS holds an EC key under the kid of an RS256 token
            raise AuthTokenError("Could not verify the auth token: its signature could not be checked.") from None
        self._check_claims(provider, verified.claims)
        return _identity(provider, verified.claims)

    # --- provider and key ------------------------------------------------------------------------------------

    def _provider_for(self, claims: Mapping[str, Any]) -> OIDCProvider | CustomJWTProvider:
        issuer = claims.get("iss")
        if not isinstance(issuer, str):
            raise AuthTokenError("Could not verify the auth token: it has no iss (issuer) claim.")
        same_issuer = [p for p in self.providers if p.issuer == issuer.rstrip("/")]
        if not same_issuer:
            configured = "; ".join(p.describe() for p in self.providers) or "none"
            raise AuthTokenError(
                f"No auth provider found matching the given token: its issuer is {_show(issuer)}. Check that the "
                f"token's iss claim matches a provider of functions/auth_config.py (configured: {configured}).",
                code="NoAuthProvider",
            )
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
        for provider in same_issuer:
            if provider.application_id is None or provider.application_id in audiences:
                return provider
        raise AuthTokenError(
            f"Could not verify the auth token: its audience (aud) {_show(audience)} is not an application id this "
            f"app accepts from {issuer.rstrip('/')[:_SHOWN]}. Check application_id in functions/auth_config.py "
            "(for Cognito: the app client id, and send the ID token, not the access token)."
        )

    def _jwks_url(self, provider: OIDCProvider | CustomJWTProvider) -> str:
        if isinstance(provider, CustomJWTProvider):
            return provider.jwks
        discovery = fetch_json(
            f"{provider.domain}/.well-known/openid-configuration", allow_loopback_http=self._allow_http
        )
        jwks_uri = discovery.get("jwks_uri")
        issuer = discovery.get("issuer")
        if not isinstance(jwks_uri, str) or not isinstance(issuer, str) or issuer.rstrip("/") != provider.domain:
            raise AuthProviderUnavailableError(
                "Could not verify the auth token: the identity provider's discovery document is unusable. The "
                "token was neither accepted nor refused; retry shortly.",
                detail=f"{provider.domain}/.well-known/openid-configuration: issuer {issuer!r} must equal the "
                f"configured domain and jwks_uri must be a string (got {jwks_uri!r})",
            )
        return jwks_uri

    def _key(self, provider: OIDCProvider | CustomJWTProvider, kid: object) -> Key:
        url = self._jwks_url(provider)
        for refresh in (False, True):
            key_set = self._key_set(url, refresh=refresh)
            key = _pick(key_set, kid)
            if key is not None:
                return key
        raise AuthTokenError(
            f"Could not verify the auth token: it is signed with a key ({_show(kid)}) that {provider.describe()} "
            "does not publish."
        )

    def _key_set(self, url: str, *, refresh: bool) -> KeySet:
        document = fetch_json(url, allow_loopback_http=self._allow_http, refresh=refresh)
        with self._lock:
            cached = self._key_sets.get(url)
            if cached is not None and cached[0] is document:
                return cached[1]
        keys = document.get("keys")
        try:
            if not isinstance(keys, list):
                raise ValueError("no keys")
            usable = [k for k in keys if isinstance(k, dict) and k.get("use", "sig") == "sig"]
            key_set = KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise AuthProviderUnavailableError(
                "Could not verify the auth token: the identity provider's key set is unusable. The token was "
                "neither accepted nor refused; retry shortly.",
                detail=f"{url}: not a JWKS with usable signing keys ({type(exc).__name__}: {exc})",
            ) from None
        with self._lock:
            self._key_sets[url] = (document, key_set)
        return key_set

    # --- claims ------------------------------------------------------------------------------------------------

    def _check_claims(self, provider: OIDCProvider | CustomJWTProvider, claims: dict[str, Any]) -> None:
        options: dict[str, Any] = {
            "iss": {"essential": True},
            "sub": {"essential": True},
            "exp": {"essential": True},
        }
        if provider.application_id is not None:
            options["aud"] = {"essential": True, "value": provider.application_id}
        if isinstance(provider, OIDCProvider):
            options["iat"] = {"essential": True}
        else:
            for name, value in provider.claims.items():
                options[name] = {"essential": True, "value": value}
        registry = jwt.JWTClaimsRegistry(now=int(self._clock()), leeway=LEEWAY, **options)
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise AuthTokenError(
                "Could not verify the auth token: it has expired. Get a fresh token from the identity provider."
            ) from None
        except MissingClaimError as exc:
            raise AuthTokenError(
                f"Could not verify the auth token: it lacks the required claim(s) {exc.claim}."
            ) from None
        except ClaimError as exc:
            reason = {"nbf": "is not valid yet (nbf)", "iat": "was issued in the future (iat)"}.get(exc.claim)
            raise AuthTokenError(
                f"Could not verify the auth token: it {reason or f'has an invalid {exc.claim} claim'}."
            ) from None


def _pick(key_set: KeySet, kid: object) -> Key | None:
    if kid is None:
        return key_set.keys[0] if len(key_set.keys) == 1 else None
    return next((key for key in key_set.keys if key.kid == kid), None)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def _identity(provider: OIDCProvider | CustomJWTProvider, claims: Mapping[str, Any]) -> UserIdentity:
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    extra: dict[str, Value] = {}
    oidc = isinstance(provider, OIDCProvider)
    for name, value in claims.items():
        if name in _DROPPED:
            continue
        if oidc:
            if name == "address":
                formatted = value.get("formatted") if isinstance(value, dict) else None
                if isinstance(formatted, str):
                    extra["address"] = formatted
                continue
            if name == "updated_at" and _is_number(value):
                extra["updatedAt"] = datetime.datetime.fromtimestamp(value, datetime.UTC).isoformat()
                continue
            extra[_OIDC_NAMES.get(name, name)] = _value(value)
        elif isinstance(value, dict):
            extra.update(_flatten(name, value))
        else:
            extra[name] = _value(value)
    email, display_name = extra.get("email"), extra.get("name")
    verified = extra.get("emailVerified") if oidc else None
    # typed fields when the claim has the standard type; otherwise the claim stays in extra as sent
    email = extra.pop("email") if isinstance(email, str) else None
    display_name = extra.pop("name") if isinstance(display_name, str) else None
    verified = extra.pop("emailVerified") if isinstance(verified, bool) else None
    return UserIdentity(
        subject=subject,
        token_identifier=f"{issuer}|{subject}",
        issuer=issuer,
        email=email if isinstance(email, str) else None,
        name=display_name if isinstance(display_name, str) else None,
        email_verified=verified if isinstance(verified, bool) else None,
        extra=extra,
        external=True,
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value(value: Any) -> Value:
    """A JSON value in the canonical Python form of a Convex value: JSON numbers are float64."""
    if _is_number(value):
        return float(value)
    if isinstance(value, list):
        return [_value(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    result: Value = value
    return result


def _flatten(prefix: str, value: Mapping[str, Any]) -> dict[str, Value]:
    """Nested claims as dotted keys, as Convex does for custom JWTs: ``{"properties.id": ...}``."""
    out: dict[str, Value] = {}
    for key, item in value.items():
        name = f"{prefix}.{key}"
        if isinstance(item, dict):
            out.update(_flatten(name, item))
        else:
            out[name] = _value(item)
    return out
