"""Emailed links and the redirects they end in, built from checked parts only.

Every redirect target goes through :func:`~authlib_core.auth.redirects.redirect_target` (same site or a trusted
origin, no control characters); the values added here (a token, an error code) are URL-encoded.

Example:
    >>> with_query("/reset?x=1#top", {"token": "a b"})
    '/reset?x=1&token=a+b#top'
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from authlib_core.auth.redirects import redirect_target
from authlib_core.auth.transport import APIError, AuthHttpResponse

if TYPE_CHECKING:
    from collections.abc import Mapping

    from authlib_core.auth.origin import OriginPolicy
    from authlib_core.auth.transport import AuthHttpRequest

__all__ = ["checked_callback", "redirect", "with_query"]


def with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` appended to its query (before any ``#fragment``)."""
    base, hash_, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        joiner = ""
    return f"{base}{joiner}{urlencode(params)}{hash_}{fragment}"


def checked_callback(
    url: str | None, request: AuthHttpRequest, origins: OriginPolicy, *, code: str = "INVALID_CALLBACK_URL"
) -> str | None:
    """``url`` checked as a redirect target (None stays None); a refusal carries ``code`` (Better Auth's per field).

    Raises:
        APIError: 400 for a malformed value, 403 for another site.
    """
    if not url:
        return None
    try:
        return redirect_target(url, request, origins)
    except APIError as refused:
        raise APIError(refused.status, code, refused.message.replace("callbackURL", "URL")) from None


def redirect(target: str, request: AuthHttpRequest, origins: OriginPolicy) -> AuthHttpResponse:
    """A 302 to ``target`` (checked again here, after parameters were added) with an empty body."""
    return AuthHttpResponse(302, headers={"Location": redirect_target(target, request, origins)}, body_is_empty=True)
