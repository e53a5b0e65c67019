"""Connects the HTTP layer to the sessions layer: ``/api/auth/*`` and the per-request ``ctx.auth``.

The :class:`~authlib_core.auth.AuthService` lives in the :class:`~authlib_core.runtime.Runtime` (built once per cold
start, rebuilt by the dev server on reload); this bridge looks it up lazily, translates the transport-neutral
:class:`~authlib_core.http.messages.HttpRequest` into the auth layer's request and back, and falls back to anonymous
calls and a clear 404 when the app's schema has no auth tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from authlib_core.auth import NoAuth, StaticAuth
from authlib_core.auth.jwt_shape import looks_like_jwt
from authlib_core.auth.transport import AuthHttpRequest
from authlib_core.errors import AuthTokenError
from authlib_core.http.identity import bearer_token
from authlib_core.http.messages import HttpResponse

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.auth import Auth, UserIdentity
    from authlib_core.http.messages import HttpRequest
    from authlib_core.runtime import Runtime

__all__ = ["AUTH_PREFIX", "RuntimeAuthBridge", "external_identity", "to_auth_request"]

AUTH_PREFIX = "/api/auth"


def to_auth_request(request: HttpRequest) -> AuthHttpRequest:
    """The auth layer's view of ``request``: path below ``/api/auth``, the origin the browser used as base URL."""
    path = request.path[len(AUTH_PREFIX) :] if request.path.startswith(AUTH_PREFIX) else request.path
    host = request.header("host") or "localhost"
    scheme = "https" if request.is_https else "http"
    return AuthHttpRequest(
        method=request.method,
        path=path or "/",
        base_url=f"{scheme}://{host}",
        query=dict(request.query),
        headers=dict(request.headers),
        cookies=dict(request.cookies),
        body=request.body,
        client_ip=request.client_ip or None,
        is_https=request.is_https,
    )


def external_identity(runtime: Runtime, token: str) -> UserIdentity:
    """The identity a JWT of a provider in ``functions/auth_config.py`` proves (HTTP bearer and WebSocket alike).

    Example:
        >>> external_identity(runtime, id_token).token_identifier  # doctest: +SKIP
        'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc|2f1c...'

    Raises:
        AuthTokenError: the app declares no providers, or the token is invalid (the message says why).
        AuthProviderUnavailableError: the provider's keys could not be fetched.
    """
    if runtime.external_auth is None:
        raise AuthTokenError(
            "No auth provider found matching the given token: the request carries a JWT, and this app "
            "accepts none (it has no functions/auth_config.py). Declare the token's issuer there, or send "
            "no Authorization header.",
            code="NoAuthProvider",
        )
    return runtime.external_auth.verify(token)


class RuntimeAuthBridge:
    """Both seams of :class:`~authlib_core.http.app.HttpApp` — identity resolver and auth handler — over the runtime.

    Example:
        >>> bridge = RuntimeAuthBridge(lazy_runtime)  # doctest: +SKIP
        >>> HttpApp(lazy_runtime, identity=bridge, auth=bridge)  # doctest: +SKIP
    """

    __slots__ = ("_runtime",)

    def __init__(self, runtime: Callable[[], Runtime]) -> None:
        self._runtime = runtime

    def resolve(self, request: HttpRequest) -> Auth:
        """A lazy ``ctx.auth``: the session (cookie or bearer) is read at most once, on first use.

        A bearer JWT (``functions/auth_config.py``) is verified here, before the function runs, as Convex does.

        Raises:
            AuthTokenError: the bearer is a JWT that is invalid or from no configured provider (HTTP 401).
            AuthProviderUnavailableError: the provider's keys could not be fetched (HTTP 503).
        """
        runtime = self._runtime()
        token = bearer_token(request)
        if token is not None and looks_like_jwt(token):
            return StaticAuth(external_identity(runtime, token))
        service = runtime.auth
        if service is None:
            return NoAuth()
        return service.auth_for(to_auth_request(request))

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer ``/api/auth/*`` with Better Auth's shapes."""
        service = self._runtime().auth
        if service is None:
            return HttpResponse(
                404,
                {
                    "code": "NotFound",
                    "message": "Authentication is not configured: this app's schema has no auth tables. Add "
                    "**auth_tables (from authlib_core.auth) to define_schema in functions/schema.py.",
                },
            )
        answer = service.handle(to_auth_request(request))
        return HttpResponse(
            answer.status,
            answer.body,
            headers=answer.all_headers(),
            set_cookies=tuple(answer.set_cookies),
            empty=answer.body_is_empty,
        )
