"""What the dev server checks before a request reaches the app: its Host, its body framing and size.

API Gateway does these in production; locally the dev server must, because it listens on a developer's machine:

* **Host** (DNS rebinding): a page on ``evil.example`` whose name is re-pointed at 127.0.0.1 sends
  ``Host: evil.example``. Allowed hosts are IP literals (a rebinding attack needs a name it controls), ``localhost``
  (and ``*.localhost``), the host the server is bound to, and the hosts of the configured origins
  (``AUTHLIB_TRUSTED_ORIGINS``, ``--cors-origin``). The port is not compared: port forwards (containers, SSH)
  change it, and the attacker controls only the name. Anything else: 403 ``ForbiddenHost``. A value that is not a
  plain ``host[:port]`` (user info, a path, spaces, backslashes: what a browser and Python's URL parser read as
  different hosts) or more than one ``Host`` header: 400 ``BadRequest``.
* **Body**: ``Content-Length`` is checked before anything is read (a number, one value, within the route's limit:
  :data:`~authlib_core.http.wire.MAX_BODY_BYTES` for function calls, :data:`AUTH_BODY_LIMIT` for ``/api/auth/*``);
  ``Transfer-Encoding: chunked`` bodies are read chunk by chunk and refused as soon as they pass the limit; both
  headers at once (request smuggling), another transfer coding or two ``Transfer-Encoding`` headers is a 400; so is
  any chunk framing a strict parser would read differently (lines not ending in CRLF, spaces around a size, an
  over-long trailer line).

Every refusal is a :class:`Refusal`: status plus the ``{"code", "message"}`` body the rest of the HTTP API uses.

Example:
    >>> HostPolicy(bound_host="127.0.0.1", origins=("https://app.example.com",)).allows("app.example.com:3210")
    True
    >>> HostPolicy(bound_host="127.0.0.1").allows("evil.example:3210")
    False
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from typing import TYPE_CHECKING, Final

from authlib_core.auth.origin import OriginPolicy, is_host, origin_of
from authlib_core.auth.validation import MAX_AUTH_BODY_BYTES
from authlib_core.http.wire import MAX_BODY_BYTES

if TYPE_CHECKING:
    from collections.abc import Iterable
    from email.message import Message
    from io import BufferedIOBase

__all__ = ["AUTH_BODY_LIMIT", "HostPolicy", "Refusal", "body_limit", "read_body"]

#: Largest ``/api/auth/*`` body (an auth request is a few hundred bytes; Better Auth's own fields cap far below).
AUTH_BODY_LIMIT: Final = MAX_AUTH_BODY_BYTES
_CHUNK_LINE_LIMIT = 1024
_MAX_TRAILERS = 32
_DIGITS = re.compile(r"[0-9]{1,20}\Z")
_HEX = re.compile(r"[0-9A-Fa-f]{1,16}\Z")


@dataclasses.dataclass(frozen=True, slots=True)
class Refusal(Exception):
    """A request refused before it reaches the app; ``close`` when the connection cannot be reused."""

    status: int
    code: str
    message: str
    close: bool = True

    def body(self) -> dict[str, str]:
        """The JSON body: ``{"code", "message"}``."""
        return {"code": self.code, "message": self.message}


def _host_name(host: str) -> str:
    """The name part of a ``Host`` header value, lower case, brackets of IPv6 literals removed."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class HostPolicy:
    """Which ``Host`` header values the dev server answers (rules in the module docstring)."""

    def __init__(self, *, bound_host: str, origins: Iterable[str] = ()) -> None:
        origins = tuple(origins)
        names = {"localhost", _host_name(bound_host)}
        for origin in origins:
            match = re.match(r"^[a-z][a-z0-9+.-]*://([^/?#]+)", origin.strip().lower())
            if match is not None:
                names.add(_host_name(match.group(1).rsplit("@", 1)[-1]))
        self.names = frozenset(name for name in names if name)
        self.bound = _host_name(bound_host)
        self.trusted = OriginPolicy(origins)  # exact origins and wildcards, as the auth layer's origin check

    def check(self, values: list[str]) -> None:
        """Refuse a request whose ``Host`` headers (``values``, all of them) this server does not answer.

        Raises:
            Refusal: 400 for two ``Host`` headers or a value that is not ``host[:port]``; 403 for a host not allowed.
        """
        if len(values) > 1:
            raise Refusal(400, "BadRequest", "Send one Host header; this request has several")
        if values and not is_host(values[0].strip(" \t")):
            raise Refusal(
                400,
                "BadRequest",
                "The Host header must be a host name or address with an optional port, such as localhost:3210",
            )
        if values and not self.allows(values[0]):
            raise self.refusal(values[0])

    def allows(self, host: str | None) -> bool:
        """True for a request without ``Host`` (HTTP/1.0) and for the allowed names (which are well formed)."""
        if host is None:
            return True
        if not is_host(host.strip(" \t")):
            return False
        name = _host_name(host)
        if name in self.names or name.endswith(".localhost"):
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    def allows_origin(self, origin: str) -> bool:
        """Whether a browser page of ``origin`` may open a WebSocket: a page on this machine (``localhost``,
        ``*.localhost``, a loopback address), on the address the server is bound to, or of a configured origin (its
        wildcards included).

        Stricter than :meth:`allows`: an IP literal in ``Host`` cannot come from a rebinding attack, but any page
        served from an IP address sends it as its ``Origin``.

        Example:
            >>> policy = HostPolicy(bound_host="127.0.0.1", origins=("https://app.example.com",))
            >>> policy.allows_origin("http://localhost:5173"), policy.allows_origin("https://app.example.com")
            (True, True)
            >>> policy.allows_origin("http://192.168.1.23:8080"), policy.allows_origin("null")
            (False, False)
        """
        scheme, _, authority = origin.strip().partition("://")
        normal = origin_of(origin) if scheme in ("http", "https") and is_host(authority) else None
        if normal is None:
            return False
        if self.trusted.trusts(normal):
            return True
        host = _host_name(authority)
        if host == "localhost" or host.endswith(".localhost") or host == self.bound:
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def refusal(self, host: str) -> Refusal:
        """The 403 for a ``Host`` this server does not answer."""
        shown = host if len(host) <= 100 and host.isprintable() and host.isascii() else "(not shown)"
        return Refusal(
            403,
            "ForbiddenHost",
            f"Host {shown!r} is not this dev server's. It answers IP addresses, localhost and the hosts of "
            "AUTHLIB_TRUSTED_ORIGINS and --cors-origin (a guard against DNS rebinding); add your host's origin "
            "to one of those.",
        )  # and the connection closes: its body, unread, must never be parsed as a next request


def body_limit(path: str) -> int:
    """The largest body accepted on ``path``."""
    return AUTH_BODY_LIMIT if path == "/api/auth" or path.startswith("/api/auth/") else MAX_BODY_BYTES


def _too_large(limit: int, size: int | None) -> Refusal:
    told = f"is {size} bytes" if size is not None else "is larger than that"
    return Refusal(413, "RequestTooLarge", f"The request body {told}; the limit on this route is {limit} bytes")


def read_body(headers: Message, stream: BufferedIOBase, limit: int) -> bytes:
    """Read the body ``headers`` announce from ``stream``, refusing before reading when it cannot be accepted.

    Raises:
        Refusal: 400 for a malformed ``Content-Length``, chunked framing or a transfer coding other than chunked;
            413 past ``limit``.
    """
    lengths = headers.get_all("content-length") or []
    codings = headers.get_all("transfer-encoding") or []
    if len(codings) > 1:
        raise Refusal(400, "BadRequest", "Send one Transfer-Encoding header (chunked), or Content-Length")
    coding = codings[0] if codings else None
    if coding is not None:
        if lengths:
            raise Refusal(400, "BadRequest", "Send Content-Length or Transfer-Encoding, not both")
        if coding.strip().lower() != "chunked":
            raise Refusal(400, "BadRequest", "Only Transfer-Encoding: chunked is supported; or send Content-Length")
        return _read_chunked(stream, limit)
    if not lengths:
        return b""
    values = {value.strip(" \t") for value in lengths}  # RFC 9110's whitespace only: space and tab
    if len(values) != 1 or not _DIGITS.match(next(iter(values))):
        raise Refusal(400, "BadRequest", "Content-Length must be one whole number of bytes, such as 42")
    length = int(next(iter(values)))
    if length > limit:
        raise _too_large(limit, length)
    body = stream.read(length) if length else b""
    if len(body) < length:
        raise Refusal(400, "BadRequest", "The connection closed before the whole body arrived")
    return body


def _read_chunked(stream: BufferedIOBase, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = stream.readline(_CHUNK_LINE_LIMIT + 1)
        field, semicolon, _ = line[:-2].partition(b";")
        size_text = (field.rstrip(b" \t") if semicolon else field).decode("latin-1")  # BWS only before an extension
        if len(line) > _CHUNK_LINE_LIMIT or not _ends_line(line) or not _HEX.match(size_text):
            raise Refusal(
                400,
                "BadRequest",
                "Malformed chunked body: a chunk size line must be a hexadecimal number ended by CRLF",
            )
        size = int(size_text, 16)
        if size == 0:
            break
        total += size
        if total > limit:
            raise _too_large(limit, None)
        chunk = stream.read(size)
        if len(chunk) < size or stream.readline(3) != b"\r\n":
            raise Refusal(400, "BadRequest", "Malformed chunked body: a chunk is shorter than its size")
        parts.append(chunk)
    for _ in range(_MAX_TRAILERS):
        trailer = stream.readline(_CHUNK_LINE_LIMIT + 1)
        if trailer == b"\r\n":
            return b"".join(parts)
        if len(trailer) > _CHUNK_LINE_LIMIT or not _ends_line(trailer):
            raise Refusal(400, "BadRequest", "Malformed chunked body: a trailer line is too long or not ended by CRLF")
    raise Refusal(400, "BadRequest", "Malformed chunked body: too many trailer lines")


def _ends_line(line: bytes) -> bool:
    """Whether ``line`` (as read by ``readline``) ends in CRLF and holds no other CR or LF."""
    return line.endswith(b"\r\n") and line.count(b"\r") == 1 and line.count(b"\n") == 1
