"""The transport-neutral request and response the HTTP layer hands to auth and identity code.

The Lambda adapter (:mod:`authlib_core.http.app`) builds an :class:`HttpRequest` from an API Gateway v2 event;
the dev server produces the same event, so both transports share these objects. Nothing here knows about
Powertools or API Gateway.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["HttpRequest", "HttpResponse"]


@dataclasses.dataclass(frozen=True, slots=True)
class HttpRequest:
    """One HTTP request, already decoded from the transport.

    ``headers`` have lower-cased names; ``cookies`` map each cookie name to its raw (still %-encoded) value;
    ``query`` keeps the first value of each parameter; ``body`` is the raw body bytes.
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    cookies: Mapping[str, str]
    body: bytes
    client_ip: str
    is_https: bool
    request_id: str

    def header(self, name: str) -> str | None:
        """The header ``name`` (any case), or ``None``."""
        return self.headers.get(name.lower())


@dataclasses.dataclass(frozen=True, slots=True)
class HttpResponse:
    """A JSON response: ``body`` is any JSON value (``None`` is sent as ``null``).

    ``set_cookies`` holds complete ``Set-Cookie`` header values, one cookie each.
    """

    status: int
    body: Any = None
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    set_cookies: tuple[str, ...] = ()
    #: Send no body at all (Better Auth answers an unknown path with an empty 404).
    empty: bool = False
