"""HTTP actions: ``@http_action`` handlers and the router of ``functions/http.py`` (Convex's ``httpRouter``).

``functions/http.py`` exports ``http = http_router()``; each ``http.route(...)`` maps a path (or a path prefix)
and a method to an ``@http_action`` handler, which receives ``(ctx, request)`` -- an action context
(``ctx.run_query`` / ``run_mutation`` / ``run_action``, ``ctx.auth``) and a
:class:`~authlib_core.functions.http_messages.Request` -- and returns a
:class:`~authlib_core.functions.http_messages.Response`.

Matching follows Convex's ``HttpRouter.lookup``: an exact ``path`` first, then the **longest** ``path_prefix`` for
the request's method; ``HEAD`` is looked up as ``GET``. Paths under ``/api`` belong to the Convex API and
``/api/auth``: they cannot be registered and a ``"/"`` prefix never matches them.

Example:
    >>> from authlib_core import http_action, http_router, Response
    >>> @http_action
    ... def hello(ctx, request):
    ...     return Response({"hello": request.query.get("name", "world")})
    >>> http = http_router()
    >>> http.route(path="/hello", method="GET", handler=hello)
    >>> http.lookup("/hello", "GET").label, http.lookup("/hello", "POST") is None
    ('/hello', True)
"""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from authlib_core.functions.arguments import refuse_async
from authlib_core.functions.paths import is_api_path

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "ROUTABLE_METHODS",
    "HttpActionDefinition",
    "HttpRouter",
    "RouteMatch",
    "http_action",
    "http_router",
    "is_api_path",
]

#: The methods a route may name (Convex's ``ROUTABLE_HTTP_METHODS``); HEAD is served by the GET route.
ROUTABLE_METHODS = ("GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")

P = ParamSpec("P")
R = TypeVar("R", covariant=True)


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class HttpActionDefinition(Generic[P, R]):
    """A handler tagged with ``@http_action``: route it from ``functions/http.py``.

    It is not a function clients can call by path (``/api/run`` does not find it); it answers only at the paths
    its routes give it. It stays callable: ``hello(ctx, request)`` calls the handler directly (tests).
    """

    handler: Callable[P, R]
    #: The module the decorator ran in (shown in messages).
    module: str

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.handler(*args, **kwargs)

    @property
    def name(self) -> str:
        """The handler's ``__name__``."""
        return str(getattr(self.handler, "__name__", "<handler>"))


def http_action(handler: Callable[P, R], /) -> HttpActionDefinition[P, R]:
    """Define an HTTP action: ``handler(ctx, request) -> Response``.

    ``ctx`` is an action context: no ``ctx.db``; read and write with ``ctx.run_query`` / ``ctx.run_mutation``
    (each its own transaction), call actions with ``ctx.run_action``; ``ctx.auth`` is the caller's session (cookie or
    ``Authorization: Bearer``), resolved only when asked. The request is not validated: check what you read.

    Example:
        >>> from authlib_core import Response, http_action
        >>> @http_action
        ... def ping(ctx, request):
        ...     return Response("pong")
        >>> ping(None, None).content
        b'pong'

    Common mistake: trusting a webhook's body before checking its signature. Verify the signature over
    ``request.body`` (the raw bytes) with ``hmac.compare_digest`` before parsing or acting on it.
    """
    if isinstance(handler, HttpActionDefinition):
        return handler
    if not callable(handler):
        raise TypeError(f"@http_action decorates a function (ctx, request), got {type(handler).__name__}")
    refuse_async(handler)
    frame = sys._getframe(1)
    return HttpActionDefinition(handler=handler, module=str(frame.f_globals.get("__name__", "")))


@dataclasses.dataclass(frozen=True, slots=True)
class RouteMatch:
    """What :meth:`HttpRouter.lookup` finds: the handler, the route's method and its label (``"/a/*"`` for a prefix)."""

    handler: HttpActionDefinition[..., Any]
    method: str
    label: str


class HttpRouter:
    """The routes of ``functions/http.py``: build it with :func:`http_router` and call :meth:`route`.

    Example:
        >>> http = http_router()
        >>> http.route(path_prefix="/files/", method="GET", handler=http_action(lambda ctx, request: None))
        >>> http.lookup("/files/a/b.txt", "HEAD").label
        '/files/*'
    """

    __slots__ = ("_exact", "_prefixes")

    def __init__(self) -> None:
        self._exact: dict[str, dict[str, HttpActionDefinition[..., Any]]] = {}
        self._prefixes: dict[str, dict[str, HttpActionDefinition[..., Any]]] = {}

    def route(
        self,
        *,
        method: str,
        handler: HttpActionDefinition[..., Any],
        path: str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Serve ``handler`` for ``method`` at ``path`` (exactly) or at every path starting with ``path_prefix``.

        Raises:
            ValueError: the method is not one of GET, POST, PUT, DELETE, OPTIONS, PATCH; both or neither of
                ``path`` / ``path_prefix``; a path not starting with ``/``, a prefix not ending with ``/``, a path
                under ``/api``, a character a URL path cannot hold; the same path (or prefix) twice for a method.
            TypeError: ``handler`` is not decorated with ``@http_action``.
        """
        candidate: object = handler  # checked at run time: http.py is untyped user code
        if not isinstance(candidate, HttpActionDefinition):
            shown = getattr(handler, "__name__", type(handler).__name__)
            raise TypeError(
                f"http.route(handler=...) takes an @http_action function, got {shown!r}; decorate it with "
                "@http_action (from authlib_core)."
            )
        if method not in ROUTABLE_METHODS:
            hint = " (methods are upper case)" if isinstance(method, str) and method.upper() in ROUTABLE_METHODS else ""
            head = " HEAD requests are answered by the GET route." if method == "HEAD" else ""
            raise ValueError(
                f"{method!r} is not a method a route can serve{hint}; use one of {', '.join(ROUTABLE_METHODS)}.{head}"
            )
        if (path is None) == (path_prefix is None):
            raise ValueError("http.route takes exactly one of path= (an exact path) or path_prefix= (a prefix).")
        if path is not None:
            _check_path(path, "path")
            methods = self._exact.setdefault(path, {})
            if method in methods:
                raise ValueError(f"Path {path!r} for method {method} is already in use.")
            methods[method] = handler
            return
        assert path_prefix is not None
        _check_path(path_prefix, "path_prefix")
        if not path_prefix.endswith("/"):
            raise ValueError(f"path_prefix {path_prefix!r} must end with a / (for example {path_prefix + '/'!r}).")
        prefixes = self._prefixes.setdefault(method, {})
        if path_prefix in prefixes:
            raise ValueError(f"{method} path_prefix {path_prefix!r} is already defined.")
        prefixes[path_prefix] = handler

    def lookup(self, path: str, method: str) -> RouteMatch | None:
        """The route serving ``method`` at ``path``: exact match first, then the longest prefix; else ``None``.

        ``HEAD`` is looked up as ``GET``. Paths under ``/api`` never match.
        """
        if is_api_path(path):
            return None
        method = "GET" if method == "HEAD" else method
        exact = self._exact.get(path, {}).get(method)
        if exact is not None:
            return RouteMatch(exact, method, path)
        prefixes = self._prefixes.get(method, {})
        for prefix in sorted(prefixes, key=len, reverse=True):
            if path.startswith(prefix):
                return RouteMatch(prefixes[prefix], method, prefix + "*")
        return None

    def methods_at(self, path: str) -> list[str]:
        """The methods some route serves at ``path`` (for the "no route for this method" answer)."""
        return [method for method in ROUTABLE_METHODS if self.lookup(path, method) is not None]

    @property
    def routes(self) -> list[tuple[str, str]]:
        """``(method, path or "prefix*")`` of every route: exact routes, then prefixes (Convex's ``getRoutes``)."""
        exact = [(method, path) for path, methods in self._exact.items() for method in methods]
        prefixed = [(method, prefix + "*") for method, prefixes in self._prefixes.items() for prefix in prefixes]
        return exact + prefixed

    def __repr__(self) -> str:
        return f"HttpRouter({self.routes!r})"


def http_router() -> HttpRouter:
    """A new, empty router; ``functions/http.py`` assigns it to ``http`` and adds routes.

    Example:
        >>> http = http_router()
        >>> http.routes
        []
    """
    return HttpRouter()


def _check_path(path: object, what: str) -> None:
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"{what} {path!r} does not start with a /.")
    bad = [c for c in path if c in "?#\\" or not c.isprintable() or c.isspace() or not c.isascii()]
    if bad:
        raise ValueError(
            f"{what} {path!r} holds {bad[0]!r}, which a URL path cannot carry as it is; percent-encode it "
            "(requests are matched against the path as sent, still percent-encoded)."
        )
    if is_api_path(path):
        raise ValueError(
            f"{what} {path!r} is under /api, which belongs to the Convex API and /api/auth; choose another path "
            "(for example /webhooks/...)."
        )
