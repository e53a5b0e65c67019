"""Fetching identity providers' JSON documents (OIDC discovery, JWKS) over https, cached per process.

The cache is module-level, so it outlives one request: a warm Lambda and the dev server (across reloads) fetch a
provider's keys once per TTL. The TTL is the response's ``Cache-Control: max-age`` clamped to
[:data:`MIN_TTL`, :data:`MAX_TTL`], else :data:`DEFAULT_TTL`. A token signed with a key the cached set does not
hold forces a refresh, at most once per :data:`REFRESH_INTERVAL` per URL, so a flood of tokens with made-up
``kid`` values costs the issuer one request per interval. When a refresh fails, the keys already held stay in use.

Example:
    >>> keys = fetch_json("https://issuer.example/.well-known/jwks.json", allow_loopback_http=False)  # doctest: +SKIP
    >>> keys["keys"][0]["kid"]                                                                          # doctest: +SKIP
    'key-1'
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from authlib_core.auth.jwt_config import check_provider_url
from authlib_core.errors import AuthProviderUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from http.client import HTTPMessage

__all__ = [
    "DEFAULT_TTL",
    "FAILURE_BACKOFF",
    "FETCH_TIMEOUT",
    "MAX_DOCUMENT_BYTES",
    "MAX_TTL",
    "MIN_TTL",
    "REFRESH_INTERVAL",
    "clear_cache",
    "fetch_json",
    "request_json",
]

DEFAULT_TTL = 3600.0
MIN_TTL = 60.0
MAX_TTL = 86_400.0
#: The shortest time between two forced refreshes of one URL (a token with an unknown ``kid``).
REFRESH_INTERVAL = 30.0
FETCH_TIMEOUT = 5.0
#: After a failed fetch with nothing held, requests fail at once for this long instead of fetching again.
FAILURE_BACKOFF = 5.0
MAX_DOCUMENT_BYTES = 512 * 1024

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)


@dataclasses.dataclass(slots=True)
class _Entry:
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    document: dict[str, Any] | None = None
    expires_at: float = 0.0
    last_fetch: float = float("-inf")
    failure: AuthProviderUnavailableError | None = None


_entries: dict[str, _Entry] = {}
_entries_lock = threading.Lock()
_clock: Callable[[], float] = time.monotonic


def clear_cache() -> None:
    """Forget every cached document (tests; a process never needs it)."""
    with _entries_lock:
        _entries.clear()


def fetch_json(url: str, *, allow_loopback_http: bool, refresh: bool = False) -> dict[str, Any]:
    """The JSON object at ``url``, from the cache while it is fresh.

    ``refresh=True`` asks for a new copy (a token names a key the cached set lacks); it is honoured at most once
    per :data:`REFRESH_INTERVAL` per URL, else the cached copy is returned.

    Raises:
        AuthProviderUnavailableError: the URL is not allowed (not https), or the document cannot be fetched or is
            not a JSON object, and no earlier copy is held. ``detail`` (for the log) says which and why.
    """
    problem = check_provider_url(url, allow_loopback_http=allow_loopback_http)
    if problem is not None:
        raise AuthProviderUnavailableError(_UNAVAILABLE, detail=problem)
    with _entries_lock:
        entry = _entries.setdefault(url, _Entry())
    with entry.lock:
        now = _clock()
        held = entry.document
        stale = held is None or now >= entry.expires_at
        forced = refresh and now - entry.last_fetch >= REFRESH_INTERVAL
        if held is not None and not stale and not forced:
            return held
        recent = now - entry.last_fetch < REFRESH_INTERVAL
        if held is not None and recent:
            return held  # fetched (or tried) moments ago: do not hammer the issuer
        if held is None and entry.failure is not None and now - entry.last_fetch < FAILURE_BACKOFF:
            raise entry.failure  # failed moments ago: answer at once rather than wait on the issuer again
        entry.last_fetch = now
        try:
            document, ttl = _download(url, allow_loopback_http=allow_loopback_http)
        except AuthProviderUnavailableError as exc:
            entry.failure = exc
            if held is not None:
                return held  # keep serving the keys already held while the issuer is unreachable
            raise
        entry.document, entry.expires_at, entry.failure = document, now + ttl, None
        return document


_UNAVAILABLE = (
    "Could not verify the auth token: the identity provider's keys could not be fetched. The token was neither "
    "accepted nor refused; retry shortly."
)


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to a URL the same rule allows (never from https down to http)."""

    def __init__(self, allow_loopback_http: bool) -> None:
        super().__init__()
        self._allow = allow_loopback_http

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: HTTPMessage, newurl: str
    ) -> urllib.request.Request | None:
        problem = check_provider_url(newurl, allow_loopback_http=self._allow)
        if problem is not None:
            fp.close()  # the redirect response is not followed: release its connection
            raise urllib.error.URLError(f"redirected to a refused URL: {problem}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _download(url: str, *, allow_loopback_http: bool) -> tuple[dict[str, Any], float]:
    document, cache_control = request_json(url, allow_loopback_http=allow_loopback_http)
    if not isinstance(document, dict):
        raise AuthProviderUnavailableError(_UNAVAILABLE, detail=f"GET {url}: the body is not a JSON object")
    return document, _ttl(cache_control)


def request_json(
    url: str,
    *,
    allow_loopback_http: bool,
    form: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[object, str]:
    """``(JSON body, Cache-Control)`` of a GET (or, with ``form``, a form POST) to a provider, uncached.

    The URL and any redirect must pass :func:`~authlib_core.auth.jwt_config.check_provider_url`; bodies are capped
    at :data:`MAX_DOCUMENT_BYTES`; each attempt waits at most :data:`FETCH_TIMEOUT` seconds.

    Raises:
        AuthProviderUnavailableError: refused URL, network failure, an HTTP error status, or a body that is not
            JSON. ``detail`` (for the log) says which; it never holds the request's form (a secret may be in it).
    """
    problem = check_provider_url(url, allow_loopback_http=allow_loopback_http)
    if problem is not None:
        raise AuthProviderUnavailableError(_UNAVAILABLE, detail=problem)
    opener = urllib.request.build_opener(_SafeRedirects(allow_loopback_http))
    data = None if form is None else urllib.parse.urlencode(form).encode("ascii")
    sent = {"Accept": "application/json", "User-Agent": "authlib-core", **(headers or {})}
    if data is not None:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    method = "GET" if data is None else "POST"
    request = urllib.request.Request(url, data=data, headers=sent, method=method)  # noqa: S310 - scheme checked
    try:
        with opener.open(request, timeout=FETCH_TIMEOUT) as response:
            body = response.read(MAX_DOCUMENT_BYTES + 1)
            cache_control = response.headers.get("Cache-Control", "")
    except urllib.error.HTTPError as exc:
        try:  # an OAuth token endpoint answers 400 {"error": "invalid_grant"}: hand the error object back
            error_body = json.loads(exc.read(4096))
        except (ValueError, OSError):
            error_body = None
        finally:
            exc.close()  # the error carries the open response
        if method == "POST" and isinstance(error_body, dict) and isinstance(error_body.get("error"), str):
            return error_body, ""
        raise AuthProviderUnavailableError(_UNAVAILABLE, detail=f"{method} {url} failed: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise AuthProviderUnavailableError(_UNAVAILABLE, detail=f"{method} {url} failed: {exc}") from None
    if len(body) > MAX_DOCUMENT_BYTES:
        detail = f"{method} {url}: larger than {MAX_DOCUMENT_BYTES} bytes"
        raise AuthProviderUnavailableError(_UNAVAILABLE, detail=detail)
    try:
        return json.loads(body), cache_control
    except ValueError:
        raise AuthProviderUnavailableError(_UNAVAILABLE, detail=f"{method} {url}: the body is not JSON") from None


def _ttl(cache_control: str) -> float:
    match = _MAX_AGE.search(cache_control)
    if match is None or "no-store" in cache_control.lower():
        return DEFAULT_TTL if match is None else MIN_TTL
    return min(max(float(match.group(1)), MIN_TTL), MAX_TTL)
