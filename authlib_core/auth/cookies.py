"""Better Auth's cookies, byte for byte: names, signed values and ``Set-Cookie`` attributes.

A signed value is ``encodeURIComponent(value + "." + base64(HMAC-SHA256(secret, value)))`` (reference §3.2). We sign
with the first configured secret and verify with any of them, so secrets can be rotated without signing everyone
out (Better Auth verifies only the current one). Verification is pure computation: a tampered, truncated or
foreign-secret cookie is rejected before any store is read.

Example:
    >>> sign_cookie_value("7ayOvHkI4X792sdED5mmJKENl66NsUjq", "test-secret-0123456789abcdefghijklmnopqrstuvwxyz")
    '7ayOvHkI4X792sdED5mmJKENl66NsUjq.YkDfaqQCkea%2Bu%2BYErw1CphaS5ChlB3wpMHGNiVFUYCY%3D'
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import hmac
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "VERIFIED_CACHE_SIZE",
    "CookieNames",
    "encode_uri_component",
    "expire_cookie",
    "parse_cookie_header",
    "serialize_cookie",
    "sign",
    "sign_cookie_value",
    "unsign",
]

#: Characters ``encodeURIComponent`` leaves alone besides ASCII letters, digits and ``-_.~`` (which quote keeps).
_URI_COMPONENT_SAFE = "!~*'()"
_SIGNATURE_LENGTH = 44


def encode_uri_component(value: str) -> str:
    """JavaScript's ``encodeURIComponent``."""
    return quote(value, safe=_URI_COMPONENT_SAFE)


def _signature(value: str, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def sign(value: str, secret: str) -> str:
    """``value.signature`` (not URI-encoded): the form of the ``set-auth-token`` header and signed bearers."""
    return f"{value}.{_signature(value, secret)}"


def sign_cookie_value(value: str, secret: str) -> str:
    """The cookie value Better Auth's ``setSignedCookie`` writes."""
    return encode_uri_component(sign(value, secret))


def unsign(raw: str, secrets: Sequence[str]) -> str | None:
    """The value inside a signed cookie or bearer, or None when it is not signed by one of ``secrets``.

    Accepts the URI-encoded form (cookies, ``%``-encoded bearers) and the decoded one. Constant-time per secret.

    The answer is a pure function of ``raw`` and ``secrets``, so the last :data:`VERIFIED_CACHE_SIZE` answers are
    remembered (a browser sends the same session cookie with every request: one HMAC per secret per cookie and
    process, not per request). A value seen before answers without computing a signature, which tells the sender
    only that the same text was sent before; a signature is never compared against a remembered one.

    Example:
        >>> secrets = ("test-secret-0123456789abcdefghijklmnopqrstuvwxyz",)
        >>> unsign(sign_cookie_value("7ayOvHkI4X792sdED5mmJKENl66NsUjq", secrets[0]), secrets)
        '7ayOvHkI4X792sdED5mmJKENl66NsUjq'
        >>> unsign("7ayOvHkI4X792sdED5mmJKENl66NsUjq.forged", secrets) is None
        True
    """
    if len(raw) > _VERIFIED_CACHE_TEXT:  # longer than any value we sign: not worth keeping
        return _unsign(raw, secrets)
    return _unsign_cached(raw, tuple(secrets))


#: How many ``(signed text, secrets)`` answers :func:`unsign` remembers (least recently used dropped first).
VERIFIED_CACHE_SIZE = 1024
#: Longest signed text remembered (a session cookie is ~120 characters), so the memory stays bounded (~0.5 MB).
_VERIFIED_CACHE_TEXT = 384


@functools.lru_cache(maxsize=VERIFIED_CACHE_SIZE)
def _unsign_cached(raw: str, secrets: tuple[str, ...]) -> str | None:
    return _unsign(raw, secrets)


def _unsign(raw: str, secrets: Sequence[str]) -> str | None:
    try:
        decoded = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    value, dot, signature = decoded.rpartition(".")
    if not dot or not value or len(signature) != _SIGNATURE_LENGTH or not signature.endswith("="):
        return None
    valid = False
    for secret in secrets:
        # every secret is tried, so the time does not reveal which one matched
        valid |= hmac.compare_digest(_signature(value, secret).encode("ascii"), signature.encode("ascii", "replace"))
    return value if valid else None


@dataclasses.dataclass(frozen=True, slots=True)
class CookieNames:
    """Cookie names for a prefix (``better-auth``) and a security mode (``__Secure-`` + ``Secure`` over https)."""

    prefix: str
    secure: bool

    def _name(self, name: str) -> str:
        return f"{'__Secure-' if self.secure else ''}{self.prefix}.{name}"

    @property
    def session_token(self) -> str:
        """``[__Secure-]better-auth.session_token``."""
        return self._name("session_token")

    @property
    def session_data(self) -> str:
        """``[__Secure-]better-auth.session_data`` (never set by us; cleared on sign-out like Better Auth)."""
        return self._name("session_data")

    @property
    def state(self) -> str:
        """``[__Secure-]better-auth.state``: the signed OAuth ``state`` that binds a social sign-in to this browser."""
        return self._name("state")

    @property
    def dont_remember(self) -> str:
        """``[__Secure-]better-auth.dont_remember``."""
        return self._name("dont_remember")


def serialize_cookie(name: str, value: str, *, max_age: int | None, secure: bool) -> str:
    """A ``Set-Cookie`` value in better-call's attribute order: ``Max-Age; Path; HttpOnly; Secure; SameSite``.

    ``max_age=None`` makes a browser-session cookie.
    """
    parts = [f"{name}={value}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    parts += ["Path=/", "HttpOnly"]
    if secure:
        parts.append("Secure")
    parts.append("SameSite=Lax")
    return "; ".join(parts)


def expire_cookie(name: str, *, secure: bool) -> str:
    """The ``Set-Cookie`` that deletes ``name`` (``Max-Age=0``, same attributes)."""
    return serialize_cookie(name, "", max_age=0, secure=secure)


def parse_cookie_header(header: str) -> dict[str, str]:
    """``Cookie`` header → ``{name: raw value}``; the first occurrence of a name wins (as better-call)."""
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, eq, value = part.strip().partition("=")
        name = name.strip()
        if eq and name and name not in cookies:
            cookies[name] = value.strip()
    return cookies
