"""HTTP: Convex's public API and ``/api/auth/*`` over API Gateway v2 events (Lambda and the dev server).

- :mod:`~authlib_core.http.wire`: the request and response bodies of Convex's wire format.
- :mod:`~authlib_core.http.errors`: exceptions → status codes and bodies (the only place).
- :mod:`~authlib_core.http.identity`: request → ``ctx.auth`` (the :class:`IdentityResolver` seam).
- :mod:`~authlib_core.http.app`: the router, :class:`HttpApp`.
- :mod:`~authlib_core.http.lambda_handler`: the Lambda entry point ``handler(event, context)``.

Importing this package does not import Powertools; import :mod:`authlib_core.http.app` for the router.
"""

from __future__ import annotations

from authlib_core.http.identity import (
    SESSION_COOKIE_NAMES,
    AnonymousResolver,
    AuthHandler,
    IdentityResolver,
    bearer_token,
    session_credential,
)
from authlib_core.http.messages import HttpRequest, HttpResponse

__all__ = [
    "SESSION_COOKIE_NAMES",
    "AnonymousResolver",
    "AuthHandler",
    "HttpRequest",
    "HttpResponse",
    "IdentityResolver",
    "bearer_token",
    "session_credential",
]
