"""CSRF defence: Better Auth's origin check and form-CSRF rule (reference §4.1).

* State-changing requests (not GET/HEAD/OPTIONS) that carry cookies must come from a trusted origin: ``Origin``
  (or ``Referer`` when ``Origin`` is absent) must be the server's own origin or one of the configured trusted
  origins (``https://*.example.com`` wildcards allowed). Missing or ``null`` → ``403 MISSING_OR_NULL_ORIGIN``, except
  ``Origin: null`` with ``Sec-Fetch-Site: same-origin``; anything else → ``403 INVALID_ORIGIN``.
* sign-in/email and sign-up/email also check requests without cookies (login CSRF): a cross-site top-level
  navigation is refused (``CROSS_SITE_NAVIGATION_LOGIN_BLOCKED``); any ``Sec-Fetch-*``, ``Origin`` or ``Referer``
  header makes the origin check run; a request with none of them (curl, a server) passes.
* Bearer calls carry no cookie, so they are not checked (a cross-site page cannot make a browser attach a bearer).
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from authlib_core.auth.transport import APIError, AuthHttpRequest

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["OriginPolicy", "is_host", "origin_of"]

#: A ``Host`` value (RFC 9110 ``uri-host [ ":" port ]``) as a server can use it in a URL it builds: a name or an IPv4
#: address of letters, digits, dots and hyphens, or a bracketed IPv6 address, then an optional numeric port.
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def is_host(value: str) -> bool:
    """Whether ``value`` is a plain ``host[:port]`` (no user info, path, spaces or other characters a URL parser
    reads differently from a browser).

    Example:
        >>> is_host("localhost:3210"), is_host("[::1]:3210"), is_host("app.example.com")
        (True, True, True)
        >>> is_host("localhost:@evil.example\\\\@localhost"), is_host("a b"), is_host("")
        (False, False, False)
    """
    return _HOST.fullmatch(value) is not None


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@functools.lru_cache(maxsize=256)  # a pure function of a few recurring URLs (the base URL, the Origin header)
def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` in lower case, default ports dropped; None when it has no host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


#: A wildcard host made only of digits, dots and wildcards (``192.168.*.*``) names an address range.
_IP_RANGE = re.compile(r"(?=.*[0-9])[0-9*?.]+")


@dataclasses.dataclass(frozen=True, slots=True)
class _OriginPattern:
    """A trusted-origin wildcard, matched as Better Auth's ``matchesOriginPattern`` does (1.7.25).

    ``*`` stands for any run of host characters (never ``:`` or ``/``), ``?`` for one. With a scheme
    (``https://*.example.com``) the whole origin must match; without one (``*.example.com``) its ``host[:port]``
    does, on either scheme. A host pattern of only digits, dots and wildcards (``192.168.*.*``) admits only an IPv4
    address, so ``192.168.attacker.example`` does not match it.
    """

    scheme: str | None
    host: re.Pattern[str]
    ip_range: bool

    @classmethod
    def of(cls, entry: str) -> _OriginPattern:
        scheme, separator, authority = entry.lower().partition("://")
        if not separator:
            scheme, authority = "", entry.lower()
        escaped = re.escape(authority).replace(r"\*", "[a-z0-9.-]*").replace(r"\?", "[a-z0-9.-]")
        return cls(scheme or None, re.compile(escaped), _IP_RANGE.fullmatch(authority.split(":")[0]) is not None)

    def matches(self, origin: str) -> bool:
        """Whether ``origin`` (as :func:`origin_of` writes it) matches."""
        scheme, _, authority = origin.partition("://")
        if self.scheme is not None and scheme != self.scheme:
            return False
        if self.host.fullmatch(authority) is None:
            return False
        if not self.ip_range:
            return True
        try:
            ipaddress.IPv4Address(authority.split(":")[0])
        except ValueError:
            return False
        return True


class OriginPolicy:
    """The trusted origins (configured ones plus each request's own base URL) and the checks over them."""

    def __init__(self, trusted_origins: Iterable[str]) -> None:
        self._exact: set[str] = set()
        self._patterns: list[_OriginPattern] = []
        for entry in trusted_origins:
            entry = entry.strip().rstrip("/")
            if "*" in entry or "?" in entry:
                self._patterns.append(_OriginPattern.of(entry))
            else:
                origin = origin_of(entry)
                if origin is not None:
                    self._exact.add(origin)

    def is_trusted(self, url: str, request: AuthHttpRequest) -> bool:
        """True when ``url``'s origin is the server's own or a trusted one."""
        origin = origin_of(url)
        if origin is None:
            return False
        return origin == origin_of(request.base_url) or self._configured(origin)

    def trusts(self, url: str) -> bool:
        """True when ``url``'s origin is one of the configured trusted origins (wildcards included).

        For a server with no origin of its own in the request (a WebSocket API's ``$connect``).

        Example:
            >>> OriginPolicy(["https://*.example.com"]).trusts("https://App.example.com:443")
            True
            >>> OriginPolicy(["https://*.example.com"]).trusts("null")
            False
        """
        origin = origin_of(url)
        return origin is not None and self._configured(origin)

    def _configured(self, origin: str) -> bool:
        return origin in self._exact or any(pattern.matches(origin) for pattern in self._patterns)

    def validate_origin(self, request: AuthHttpRequest) -> None:
        """Require a trusted ``Origin`` (or ``Referer``).

        Raises:
            APIError: 403 ``MISSING_OR_NULL_ORIGIN`` or ``INVALID_ORIGIN``.
        """
        origin = request.header("origin")
        if origin is None:
            origin = request.header("referer")
        if origin is None or origin.strip() in ("", "null"):
            if origin is not None and origin.strip() == "null" and request.header("sec-fetch-site") == "same-origin":
                return
            raise APIError(403, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin")
        if not self.is_trusted(origin, request):
            raise APIError(403, "INVALID_ORIGIN", "Invalid origin")

    def check(self, request: AuthHttpRequest, *, login_form: bool) -> None:
        """Run the rules for ``request`` (``login_form`` for sign-in/email and sign-up/email).

        Raises:
            APIError: 403 with Better Auth's code.
        """
        if request.method.upper() in _SAFE_METHODS:
            return
        if request.has_cookie_header:
            self.validate_origin(request)
            return
        if not login_form:
            return
        site = request.header("sec-fetch-site")
        mode = request.header("sec-fetch-mode")
        if site is not None or mode is not None or request.header("sec-fetch-dest") is not None:
            if site == "cross-site" and mode == "navigate":
                raise APIError(
                    403,
                    "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
                    "Cross-site navigation login blocked. This request appears to be a CSRF attack.",
                )
            self.validate_origin(request)
            return
        if request.header("origin") is not None or request.header("referer") is not None:
            self.validate_origin(request)
