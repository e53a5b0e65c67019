"""The framework-neutral HTTP shapes of ``/api/auth/*``: :class:`AuthHttpRequest` in, :class:`AuthHttpResponse` out.

The HTTP layer (Powertools resolver in Lambda, the dev server locally) builds the request from its event and turns
the response back into one; nothing here knows about either.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from authlib_core.values import JSONValue

__all__ = ["APIError", "AuthHttpRequest", "AuthHttpResponse"]


@dataclasses.dataclass(frozen=True, slots=True)
class AuthHttpRequest:
    """One request to the auth API.

    * ``path``: the part after ``/api/auth`` (``"/sign-in/email"``).
    * ``headers``: lower-cased names. ``cookies``: name → raw (still URI-encoded) value, first occurrence wins.
    * ``client_ip``: the transport's source address (API Gateway's ``requestContext.http.sourceIp``); the
      ``X-Forwarded-For`` header is only used when ``AuthSettings.trust_forwarded_for`` is set.
    * ``is_https``: the scheme the browser used (always true behind API Gateway).
    * ``base_url``: the server's origin as the browser sees it (``https://api.example.com``); it is trusted as an
      origin and is the issuer of identities.
    """

    method: str
    path: str
    base_url: str
    query: Mapping[str, str] = dataclasses.field(default_factory=dict)
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    cookies: Mapping[str, str] = dataclasses.field(default_factory=dict)
    body: bytes = b""
    client_ip: str | None = None
    is_https: bool = False

    def header(self, name: str) -> str | None:
        """The header's value (``name`` in lower case), or None."""
        return self.headers.get(name)

    @property
    def has_cookie_header(self) -> bool:
        """True when the browser sent cookies (what decides whether the origin check runs)."""
        return bool(self.cookies) or bool(self.headers.get("cookie"))


@dataclasses.dataclass(slots=True)
class AuthHttpResponse:
    """The answer: status, headers, ``Set-Cookie`` values, and a JSON body (``body_is_empty`` → no body at all).

    ``body`` may legitimately be ``None``: get-session answers ``200 null`` when signed out.
    """

    status: int = 200
    body: JSONValue = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    set_cookies: list[str] = dataclasses.field(default_factory=list)
    body_is_empty: bool = False

    def body_bytes(self) -> bytes:
        """The body as sent: JSON text, or nothing."""
        if self.body_is_empty:
            return b""
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def all_headers(self) -> dict[str, str]:
        """``headers`` plus ``content-type`` (always ``application/json``, as Better Auth sends even when empty)."""
        return {"content-type": "application/json", **self.headers}


class APIError(Exception):
    """An error answer (``{"message", "code"}`` with a status); raised inside the handlers, rendered by the service."""

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        set_cookies: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.set_cookies = list(set_cookies or [])

    def to_response(self) -> AuthHttpResponse:
        """The response Better Auth gives for this error."""
        body: dict[str, JSONValue] = {"message": self.message}
        if self.code is not None:
            body["code"] = self.code
        return AuthHttpResponse(self.status, body, dict(self.headers), list(self.set_cookies))
