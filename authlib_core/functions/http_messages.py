"""What an HTTP action receives and returns: :class:`Request` and :class:`Response`.

A :class:`Response` is checked where it is built, so a value that could split the HTTP response (a header value
with CR or LF), a status API Gateway would refuse, or a body that cannot be sent never leaves the handler: the
constructor raises :class:`InvalidHttpResponseError`, which names the header or field and never echoes the value.

Example:
    >>> Response({"ok": True}).content, Response({"ok": True}).content_type
    (b'{"ok":true}', 'application/json')
    >>> Response("hi", status=201, headers={"X-Request-Kind": "demo"}).headers
    (('X-Request-Kind', 'demo'),)
    >>> Response("x", headers={"X-Evil": "a\\r\\nSet-Cookie: s=1"})
    Traceback (most recent call last):
    ...
    authlib_core.functions.http_messages.InvalidHttpResponseError: Response header 'X-Evil': the value contains \
a control character (U+000D) at position 1; header values must be printable ASCII (a line break would end the header \
and let the rest be read as another header). Encode the value (for example percent-encoding) before sending it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authlib_core.errors import AuthlibError, FunctionError
from authlib_core.values.json_text import JsonTextError, loads_strict

__all__ = [
    "Headers",
    "InvalidHttpResponseError",
    "InvalidRequestBodyError",
    "Request",
    "Response",
]

#: RFC 9110 ``token``: what a header name may consist of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
#: Printable ASCII and horizontal tab: what a header value may consist of.
_UNSAFE_VALUE_CHAR = re.compile(r"[^\t\x20-\x7e]")
#: Headers the server computes itself; a handler setting them could desynchronise the response framing.
_SERVER_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
#: Statuses that never carry a body (RFC 9110, sections 15.3.5 and 15.4.5).
_NO_BODY_STATUSES = frozenset({204, 304})
_MAX_SHOWN_NAME = 64


class InvalidHttpResponseError(FunctionError):
    """An HTTP action built a response that cannot be sent (bad status, unsafe header, body that is not JSON-able).

    Raised by :class:`Response` itself, inside the handler; the client gets a 500 without details (the dev server
    prints the message and the line).
    """

    code = "InvalidHttpResponse"


class InvalidRequestBodyError(AuthlibError):
    """``request.text()`` / ``request.json()`` on a body that is not UTF-8 or not JSON: HTTP 400 when not caught."""

    code = "BadRequestBody"


class Headers(Mapping[str, str]):
    """Request headers, looked up in any case: ``request.headers["Content-Type"]``, ``"x-sig" in request.headers``.

    Repeated headers arrive joined with ``,`` (as API Gateway delivers them); names are stored lower-case.

    Example:
        >>> headers = Headers({"Content-Type": "text/plain"})
        >>> headers["content-type"], headers.get("CONTENT-TYPE"), "Content-Type" in headers
        ('text/plain', 'text/plain', True)
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = {str(name).lower(): str(value) for name, value in (items or {}).items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({sorted(self._items)!r})"  # names only: values may be credentials


class Request:
    """The request an HTTP action receives (read-only).

    - ``method``: ``"GET"``, ``"POST"``, ... (``"HEAD"`` for a HEAD request, which is routed as GET);
    - ``url``: ``<scheme>://<host><path>?<query>``, as the client addressed it;
    - ``path``: the URL path as sent (still percent-encoded), e.g. ``"/webhooks/github"``;
    - ``headers``: :class:`Headers` (any-case lookup); the ``cookie`` header is there too;
    - ``query``: the first value of each query parameter (:meth:`query_all` for repeated ones);
    - ``body``: the raw bytes; :meth:`text` and :meth:`json` decode them.

    Example:
        >>> request = Request("POST", "https://api.example.com/hook?x=1", headers={}, body=b'{"a": 1}')
        >>> request.path, request.query["x"], request.json()
        ('/hook', '1', {'a': 1})
    """

    __slots__ = ("body", "headers", "method", "path", "query", "raw_query", "url")

    def __init__(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes,
        path: str | None = None,
        raw_query: str | None = None,
    ) -> None:
        self.method = method
        self.url = url
        parts = urlsplit(url)
        #: The path the request was routed by (given by the server; else read from ``url``).
        self.path: str = path if path is not None else (parts.path or "/")
        self.raw_query: str = raw_query if raw_query is not None else parts.query
        self.headers = Headers(headers)
        first: dict[str, str] = {}
        for key, value in parse_qsl(self.raw_query, keep_blank_values=True):
            first.setdefault(key, value)
        self.query: Mapping[str, str] = first
        self.body = body

    def __repr__(self) -> str:
        return f"Request({self.method} {self.path}, {len(self.body)} bytes)"

    def query_all(self, name: str) -> list[str]:
        """Every value of query parameter ``name``, in order (``?tag=a&tag=b`` → ``["a", "b"]``)."""
        return [value for key, value in parse_qsl(self.raw_query, keep_blank_values=True) if key == name]

    def text(self) -> str:
        """The body as UTF-8 text.

        Raises:
            InvalidRequestBodyError: the body is not UTF-8 (uncaught, the client gets 400 ``BadRequestBody``).
        """
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRequestBodyError(
                f"The request body is not UTF-8 text (invalid byte at position {exc.start}); send UTF-8, or read "
                "request.body as bytes."
            ) from None

    def json(self) -> Any:
        """The body parsed as JSON (objects become dicts), strictly: no NaN/Infinity literals, no lone surrogates,
        nesting within :data:`~authlib_core.values.json_text.MAX_JSON_DEPTH` (as every body the API reads).

        Raises:
            InvalidRequestBodyError: the body is not UTF-8 JSON (uncaught, the client gets 400 ``BadRequestBody``).
        """
        text = self.text()
        try:
            return loads_strict(text)
        except JsonTextError as exc:
            raise InvalidRequestBodyError(f"The request body is not valid JSON: {exc}.") from None


class Response:
    """What an HTTP action returns: ``Response(body=None, status=200, headers=None)``.

    ``body``:

    - ``None``: no body;
    - ``str``: sent as UTF-8, ``Content-Type: text/plain; charset=utf-8`` unless ``headers`` set one;
    - ``bytes``: sent as they are, ``Content-Type: application/octet-stream`` unless set;
    - anything else JSON can encode (dict, list, number, bool): sent as compact JSON, ``application/json``.

    ``status`` is an ``int`` from 200 to 599 (204 and 304 take no body). ``headers`` is a mapping or a list of
    ``(name, value)`` pairs (a list can repeat a name, e.g. several ``Set-Cookie``); names are RFC 9110 tokens,
    values printable ASCII. ``Content-Length``, ``Transfer-Encoding`` and ``Connection`` are the server's.

    Raises:
        InvalidHttpResponseError: any of the above does not hold (the message says which and why).

    Example:
        >>> Response(status=204).content
        b''
        >>> Response(b"\\x89PNG", headers=[("Content-Type", "image/png")]).content_type
        'image/png'

    Common mistake: building a header value from request data (a redirect target, a file name). A value with a
    line break is refused here, not sent; validate or encode such values first.
    """

    __slots__ = ("body", "content", "content_type", "headers", "status")

    def __init__(
        self,
        body: Any = None,
        status: int = 200,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        self.status = _checked_status(status)
        self.headers: tuple[tuple[str, str], ...] = _checked_headers(headers)
        self.body = body
        content, default_type = _encode_body(body)
        if content and self.status in _NO_BODY_STATUSES:
            raise InvalidHttpResponseError(
                f"Response: a {self.status} response has no body, but one was given; drop the body or use status 200."
            )
        self.content: bytes = content
        given = [value for name, value in self.headers if name.lower() == "content-type"]
        self.content_type: str | None = given[-1] if given else default_type

    def __repr__(self) -> str:
        return f"Response(status={self.status}, {len(self.content)} bytes)"

    def text(self) -> str:
        """The body as UTF-8 text (tests: ``TestBackend.fetch(...).text()``)."""
        return self.content.decode("utf-8")

    def json(self) -> Any:
        """The body parsed as JSON (tests: ``TestBackend.fetch(...).json()``).

        Example:
            >>> Response({"ok": True}).json()
            {'ok': True}
        """
        return json.loads(self.content)


def _checked_status(status: object) -> int:
    if isinstance(status, bool) or not isinstance(status, int):
        raise InvalidHttpResponseError(
            f"Response: status must be an int such as 200 or 404, got {type(status).__name__}."
        )
    if not 200 <= status <= 599:
        raise InvalidHttpResponseError(
            f"Response: status {status} is not a final HTTP status; use 200-599 (1xx are interim responses, which "
            "API Gateway cannot send)."
        )
    return status


def _checked_headers(headers: object) -> tuple[tuple[str, str], ...]:
    if headers is None:
        return ()
    if isinstance(headers, str | bytes) or not isinstance(headers, Mapping | Iterable):
        raise InvalidHttpResponseError("Response: headers must be a mapping or a list of (name, value) pairs.")
    pairs: list[Any] = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    checked: list[tuple[str, str]] = []
    for pair in pairs:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise InvalidHttpResponseError("Response: headers must be a mapping or a list of (name, value) pairs.")
        name, value = pair
        checked.append((_checked_name(name), _checked_value(name, value)))
    return tuple(checked)


def _checked_name(name: object) -> str:
    if not isinstance(name, str) or not _TOKEN.match(name):
        shown = _shown_name(name)
        raise InvalidHttpResponseError(
            f"Response header {shown}: a header name must be a non-empty string of letters, digits and "
            "!#$%&'*+-.^_`|~ (an RFC 9110 token; no spaces, colons or line breaks)."
        )
    if name.lower() in _SERVER_HEADERS:
        raise InvalidHttpResponseError(
            f"Response header {name!r} is set by the server from the body it sends; leave it out."
        )
    return name


def _checked_value(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidHttpResponseError(
            f"Response header {name!r}: the value must be a str, got {type(value).__name__}; convert it with str()."
        )
    bad = _UNSAFE_VALUE_CHAR.search(value)
    if bad is not None:
        char = ord(bad.group())
        what = "a control character" if char < 0x20 or char == 0x7F else "a non-ASCII character"
        raise InvalidHttpResponseError(
            f"Response header {name!r}: the value contains {what} (U+{char:04X}) at position {bad.start()}; header "
            "values must be printable ASCII (a line break would end the header and let the rest be read as another "
            "header). Encode the value (for example percent-encoding) before sending it."
        )
    return value


def _shown_name(name: object) -> str:
    if isinstance(name, str) and name.isprintable() and name.isascii() and len(name) <= _MAX_SHOWN_NAME:
        return repr(name)
    return f"(a {type(name).__name__} name, not shown)"


def _encode_body(body: Any) -> tuple[bytes, str | None]:
    if body is None:
        return b"", None
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body), "application/octet-stream"
    if isinstance(body, str):
        try:
            return body.encode("utf-8"), "text/plain; charset=utf-8"
        except UnicodeEncodeError as exc:
            raise InvalidHttpResponseError(
                f"Response: the body text holds a lone surrogate at position {exc.start}, which UTF-8 cannot encode."
            ) from None
    try:
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8"), "application/json"
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidHttpResponseError(
            f"Response: a body of type {type(body).__name__} is not JSON-serialisable ({exc}); pass str, bytes, "
            "or dicts/lists of str, numbers, bools and None (NaN and Infinity are not JSON)."
        ) from None
