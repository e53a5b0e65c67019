"""Who is calling: the seam between an HTTP request and ``ctx.auth``.

The HTTP layer asks an :class:`IdentityResolver` for the :class:`~authlib_core.auth.Auth` of every function call.
:class:`~authlib_core.http.app.HttpApp` uses the runtime's auth service by default
(:class:`~authlib_core.http.auth_bridge.RuntimeAuthBridge`), which looks up the session named by the request's
session cookie or ``Authorization: Bearer`` token; :class:`AnonymousResolver` makes every call anonymous. Tests
inject their own::

    class FakeResolver:
        def resolve(self, request):
            token = bearer_token(request)
            return StaticAuth(UserIdentity(...)) if token == "t1" else NoAuth()

A resolver must be cheap when the function never asks who is calling: return an ``Auth`` that looks the session
up lazily, on the first ``get_user_identity()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from authlib_core.auth import NoAuth

if TYPE_CHECKING:
    from authlib_core.auth import Auth
    from authlib_core.http.messages import HttpRequest, HttpResponse

__all__ = [
    "SESSION_COOKIE_NAMES",
    "AnonymousResolver",
    "AuthHandler",
    "IdentityResolver",
    "bearer_token",
    "session_credential",
]

#: The cookies that carry a Better Auth session token: the ``__Secure-`` one (https) first.
SESSION_COOKIE_NAMES = ("__Secure-better-auth.session_token", "better-auth.session_token")


class IdentityResolver(Protocol):
    """Turns a request into the ``ctx.auth`` of the function it calls."""

    def resolve(self, request: HttpRequest) -> Auth:
        """The caller's ``Auth``; anonymous (``NoAuth``) when the request carries no usable credential."""
        ...


class AuthHandler(Protocol):
    """Serves ``/api/auth/*`` (sign-up, sign-in, get-session, ...). Provided by the sessions layer."""

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one auth request; ``request.path`` is the full path, starting with ``/api/auth``."""
        ...


class AnonymousResolver:
    """The default resolver: every call is anonymous."""

    __slots__ = ()

    def resolve(self, request: HttpRequest) -> Auth:
        """Always :class:`~authlib_core.auth.NoAuth`."""
        return NoAuth()


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive), else ``None``."""
    header = request.header("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def session_credential(request: HttpRequest) -> str | None:
    """The session credential a request carries: the bearer token, else the session cookie's raw value.

    The bearer token wins when both are present (it is what a non-browser client chose to send). The value is
    returned as sent (a signed cookie value is still ``<token>.<signature>``, %-encoded); verifying it is the
    sessions layer's job.
    """
    token = bearer_token(request)
    if token is not None:
        return token
    for name in SESSION_COOKIE_NAMES:
        value = request.cookies.get(name)
        if value:
            return value
    return None
