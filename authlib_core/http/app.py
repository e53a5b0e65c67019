"""The router: Convex's public API and ``/api/auth/*`` on a Powertools ``APIGatewayHttpResolver``.

Routes:

=============================  ==================================================================
``POST /api/query``            a query; body ``{"path", "args", "format"?}``
``GET  /api/query``            a query; ``?path=&args=<JSON>&format=``
``POST /api/mutation``         a mutation
``POST /api/action``           an action
``POST /api/function``         any kind (``ConvexHttpClient.function``); ``args`` is an object
``POST /api/run/<mod/path/fn>`` any kind; the last URL segment is the function name
``* /api/auth/*``              the auth handler (404 until one is configured)
``GET /api/ok``                health check: ``{"status": "ok"}`` (does not load the functions)
``* <not under /api>``         the HTTP actions of ``functions/http.py`` (:mod:`~authlib_core.http.http_actions`)
=============================  ==================================================================

Anything else under ``/api`` is 404 ``{"code": "NotFound", ...}``. Internal functions are never callable here.
CORS is not this module's job: API Gateway (production) and the dev server (locally) own it (docs/http.md).

The routes live on a Powertools ``APIGatewayHttpResolver``; the fixed function-call routes (the first five) are
looked up directly by method and path and answered with the same handler, their payload v2 result built here as
Powertools' ``ResponseBuilder`` builds it (``tests/http/test_direct_routes.py`` holds the two to the same answer).
That path never imports Powertools' event handler (~55 ms of a cold start: its package loads every resolver,
``asyncio`` and the event data classes); the resolver is imported when a request needs it (``/api/auth/*``, health,
404s, ``/api/run/*``, a named stage).

:class:`HttpApp` is the Lambda handler: ``HttpApp(...)(event, context)``. Both the Lambda entry point and the dev
server build one; only where the :class:`~authlib_core.runtime.Runtime` comes from differs.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import threading
import time
from typing import TYPE_CHECKING, Any, TypeAlias, cast
from urllib.parse import parse_qsl

from aws_lambda_powertools import Logger
from aws_lambda_powertools.shared.functions import powertools_dev_is_set

from authlib_core.database.deadline import budget_from_context, request_budget
from authlib_core.errors import FunctionNotFoundError
from authlib_core.functions import Kind
from authlib_core.functions.paths import is_api_path
from authlib_core.http.auth_bridge import RuntimeAuthBridge
from authlib_core.http.errors import KindNotAllowedError, describe_error, server_error_message
from authlib_core.http.http_actions import HTTP_KIND, serve_http_action
from authlib_core.http.log_context import LambdaLogContext
from authlib_core.http.messages import HttpRequest
from authlib_core.http.payload_limits import MAX_RESPONSE_PAYLOAD_BYTES, response_too_large
from authlib_core.http.request_line import RequestLine
from authlib_core.http.wire import (
    JSON,
    default_format,
    dump_body,
    error_body,
    json_result,
    parse_get_query,
    parse_post_body,
    parse_run_body,
    success_body,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.shared.cookies import Cookie

    from authlib_core.auth import Auth
    from authlib_core.http.identity import AuthHandler, IdentityResolver
    from authlib_core.http.messages import HttpResponse
    from authlib_core.http.wire import FunctionCall
    from authlib_core.runtime import Runtime
    from authlib_core.values import Format

    _Parse: TypeAlias = Callable[[HttpRequest], FunctionCall]

__all__ = ["AUTH_IGNORED_HEADER", "CallRecord", "HttpApp"]

#: Response header naming why a session cookie was not used for a function call (see ``RequestAuth.ignored_reason``).
AUTH_IGNORED_HEADER = "X-Authlib-Auth-Ignored"

_JSON_TYPE = "application/json"


class _Reply:
    """A function-call route's answer: a JSON body, its status and any extra headers."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers


@dataclasses.dataclass(frozen=True, slots=True)
class CallRecord:
    """One handled request, as logged: never arguments, cookies, tokens or headers."""

    method: str
    route: str  # the URL path
    function: str | None  # "myData:getMyData"; None for auth, health and unmatched routes
    kind: str | None  # "query", "mutation", "action", "any"
    status: int
    outcome: str  # success | error | rejected | unavailable | server_error | auth | not_found | ok
    duration_ms: float
    request_id: str
    #: The readable traceback of an uncaught exception, only when errors are exposed (the dev server prints it).
    trace: str | None = None


class HttpApp:
    """The HTTP handler over a runtime: call it with an API Gateway v2 event and a Lambda context.

    ``runtime`` is called once per function call and returns the current runtime (built lazily, swapped by the dev
    server on reload). ``identity`` turns a request into ``ctx.auth`` and ``auth`` serves ``/api/auth/*``; both
    default to the runtime's auth service (:class:`~authlib_core.http.auth_bridge.RuntimeAuthBridge`), which makes
    calls anonymous and answers 404 when the app has no auth tables. ``on_call`` receives a :class:`CallRecord`
    per request (the dev server prints it). ``load_error_source`` (the dev server's functions folder) exposes an
    error raised while the runtime is obtained (a functions folder that does not load) as ``expose_errors`` does;
    once a runtime is obtained, its ``settings.expose_errors`` decides.

    Safe to call from several threads: each thread gets its own Powertools resolver (the resolver keeps the
    current event on itself).
    """

    def __init__(
        self,
        runtime: Callable[[], Runtime],
        *,
        identity: IdentityResolver | None = None,
        auth: AuthHandler | None = None,
        logger: Logger | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        load_error_source: Path | None = None,
    ) -> None:
        self._runtime = runtime
        self._load_error_source = load_error_source
        bridge = RuntimeAuthBridge(runtime)
        self.identity: IdentityResolver = identity or bridge
        self.auth: AuthHandler | None = auth or bridge
        self.logger = logger or _default_logger()
        self._on_call = on_call
        self._local = threading.local()
        self._log_context = LambdaLogContext(self.logger)  # Powertools' inject_lambda_context keys, per call
        self._request_line = RequestLine(self.logger)

    def __call__(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """Handle one API Gateway HTTP API (payload v2) event; returns the v2 response dict."""
        try:
            # Storage calls and conflict retries stop within this budget (Lambda's remaining time, API Gateway's
            # 30 s), so a slow or hung store answers 503 rather than a gateway timeout or a killed invocation.
            with request_budget(budget_from_context(context)):
                self._log_context.inject(event, context)
                response: dict[str, Any] = self._dispatch(event, context)
        except Exception:  # a malformed event or a bug in the router itself; never leak it
            request_id = _request_id(event)
            self.logger.exception("the HTTP router failed", extra={"request_id": request_id})
            return json_result(500, {"code": "InternalServerError", "message": server_error_message(request_id)})
        size = response_too_large(response)
        if size is not None:
            return self._too_large(event, size)
        return response

    def _too_large(self, event: Mapping[str, Any], size: int) -> dict[str, Any]:
        """Our error in place of a result Lambda would refuse (API Gateway would answer an opaque 500)."""
        request_id = _request_id(event)
        path = str(event.get("rawPath") or "")
        self.logger.warning(
            "response too large", extra={"request_id": request_id, "route": path, "response_bytes": size}
        )
        message = (
            f"The response is {size} bytes; the limit is {MAX_RESPONSE_PAYLOAD_BYTES} bytes (AWS Lambda's 6 MB "
            "response payload). Return less per call: paginate (.paginate()), or return only the fields needed."
        )
        if path.startswith("/api/auth") or not is_api_path(path):  # raw HTTP: auth and HTTP actions
            return json_result(500, {"code": "ResponseTooLarge", "message": message})
        return json_result(
            200, error_body(f"{server_error_message(request_id)}\nUncaught ResponseTooLarge: {message}", JSON)
        )

    # --- routing -----------------------------------------------------------------------------------------------

    def _dispatch(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        raw_path = event.get("rawPath")
        if isinstance(raw_path, str) and raw_path and not is_api_path(raw_path):
            return self._http_action(event)
        # The resolver's answer for the fixed function-call routes, without its routing machinery (in its debug
        # mode, POWERTOOLS_DEV, the resolver also prints each event: then it answers everything itself). Read once
        # per thread, as the resolver reads it when it is built.
        debug = getattr(self._local, "debug", None)
        if debug is None:
            debug = self._local.debug = powertools_dev_is_set()
        route = None if debug else _function_route(event)
        if route is not None:
            return _v2_result(self._function_route(event, *route))
        resolver = getattr(self._local, "resolver", None)
        if resolver is None:
            resolver = self._local.resolver = self._build_resolver()
        result: dict[str, Any] = resolver.resolve(dict(event), context)
        return result

    def _function_route(self, event: Mapping[str, Any], kind: Kind | None, parse: _Parse) -> _Reply:
        """A function-call route, as the resolver runs it: an exception the route lets out answers 500."""
        try:
            return self._function_call(event, kind, parse)
        except Exception:
            return self._last_resort(event)

    def _last_resort(self, event: Mapping[str, Any]) -> _Reply:
        request_id = _request_id(event)
        self.logger.exception("unhandled exception in a route", extra={"request_id": request_id})
        return _json_reply(500, {"code": "InternalServerError", "message": server_error_message(request_id)})

    def _build_resolver(self) -> APIGatewayHttpResolver:
        from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

        app = APIGatewayHttpResolver()

        def function_route(kind: Kind | None, parse: _Parse) -> Callable[[], Response[str]]:
            return lambda: _response(self._function_call(app.current_event.raw_event, kind, parse))

        for (method, rule), (kind, parse) in _FUNCTION_ROUTES.items():
            app.route(rule, method=method)(function_route(kind, parse))

        @app.post("/api/run/.+")
        def post_run() -> Response[str]:
            return _response(
                self._function_call(
                    app.current_event.raw_event, None, lambda r: parse_run_body(r.body, r.path[len("/api/run/") :])
                )
            )

        @app.route("/api/auth(/.*)?", method=["GET", "POST", "PUT", "PATCH", "DELETE"])
        def auth_route(*_: str) -> Response[str]:
            return self._auth_call(app)

        @app.get("/api/ok")
        def health() -> Response[str]:
            request = _request(app.current_event.raw_event)
            self._record(request, None, None, 200, "ok", time.perf_counter())
            return _response(_json_reply(200, {"status": "ok"}))

        @app.not_found
        def not_found(_: Exception) -> Response[str]:
            request = _request(app.current_event.raw_event)
            self._record(request, None, None, 404, "not_found", time.perf_counter())
            message = f"No route for {request.method} {request.path}"
            return _response(_json_reply(404, {"code": "NotFound", "message": message}))

        def last_resort(exc: Exception) -> Response[str]:
            return _response(self._last_resort(app.current_event.raw_event))

        app.exception_handler(Exception)(last_resort)
        return app

    def _serves_only_http_actions(self) -> bool:
        """``AUTHLIB_ALLOWED_KINDS=http``: the HTTP action function, which API Gateway reaches for unrouted paths.

        A request under ``/api`` arriving there matched none of the API's routes: ``/api/auth/*`` is answered 404
        without running the auth handler (whose session writes that function's role does not allow); function calls
        are refused by the allowed-kinds check (403), other paths are 404 as anywhere.
        """
        try:
            allowed = self._runtime().settings.allowed_kinds
        except Exception:  # a runtime that cannot be built: the route's own handler reports it
            return False
        return allowed is not None and allowed == {HTTP_KIND}

    # --- handlers ------------------------------------------------------------------------------------------------

    def _http_action(self, event: Mapping[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        request = _request(event)
        outcome = serve_http_action(
            event,
            request,
            runtime=self._runtime,
            identity=self.identity,
            logger=self.logger,
            load_error_source=self._load_error_source,
            auth_ignored_header=AUTH_IGNORED_HEADER,
        )
        self._record(
            request,
            outcome.label,
            "http" if outcome.label else None,
            outcome.status,
            outcome.outcome,
            started,
            outcome.trace,
        )
        return outcome.result

    def _function_call(self, event: Mapping[str, Any], kind: Kind | None, parse: _Parse) -> _Reply:
        started = time.perf_counter()
        request = _request(event)
        fmt: Format = JSON
        path: str | None = None
        source: Path | None = self._load_error_source  # until the runtime says otherwise
        trace: str | None = None
        auth: Auth | None = None
        try:
            call = parse(request)
            fmt, path = call.format, call.path
            runtime = self._runtime()
            source = runtime.settings.functions_dir if runtime.settings.expose_errors else None
            _check_allowed_kind(runtime, call.path, kind)
            auth = self.identity.resolve(request)
            value = runtime.executor.call(call.path, call.args, kind=kind, auth=auth, request_id=request.request_id)
            status, body, outcome = 200, success_body(value, fmt), "success"
        except Exception as exc:
            error = describe_error(exc, request_id=request.request_id, fmt=fmt, logger=self.logger, source=source)
            status, body, outcome, trace = error.status, error.body, error.outcome, error.trace
        self._record(request, path, kind.value if kind else "any", status, outcome, started, trace)
        ignored = getattr(auth, "ignored_reason", None)
        if isinstance(ignored, str):  # a session cookie the origin check set aside: say so, never silently
            return _Reply(status, dump_body(body), {AUTH_IGNORED_HEADER: ignored})
        return _Reply(status, dump_body(body))

    def _auth_call(self, app: APIGatewayHttpResolver) -> Response[str]:
        started = time.perf_counter()
        request = _request(app.current_event.raw_event)
        if self._serves_only_http_actions():
            self._record(request, None, None, 404, "not_found", started)
            message = f"No route for {request.method} {request.path}: this endpoint serves only HTTP actions"
            return _response(_json_reply(404, {"code": "NotFound", "message": message}))
        if self.auth is None:
            self._record(request, None, None, 404, "not_found", started)
            message = "Authentication is not configured on this server"
            return _response(_json_reply(404, {"code": "NotFound", "message": message}))
        try:
            response: HttpResponse = self.auth.handle(request)
        except Exception:
            self.logger.exception("the auth handler failed", extra={"request_id": request.request_id})
            self._record(request, None, None, 500, "server_error", started)
            message = server_error_message(request.request_id)
            return _response(_json_reply(500, {"code": "InternalServerError", "message": message}))
        self._record(request, None, None, response.status, "auth", started)
        from aws_lambda_powertools.event_handler import Response

        return Response(
            status_code=response.status,
            content_type=_JSON_TYPE,
            body="" if response.empty else dump_body(response.body),
            # content_type above is the one Content-Type; a second spelling would reach the client as a duplicate
            headers={k: v for k, v in response.headers.items() if k.lower() != "content-type"},
            # Powertools serializes each cookie with str(); complete Set-Cookie strings pass through unchanged.
            cookies=cast("list[Cookie]", list(response.set_cookies)),
        )

    def _record(
        self,
        request: HttpRequest,
        function: str | None,
        kind: str | None,
        status: int,
        outcome: str,
        started: float,
        trace: str | None = None,
    ) -> None:
        fields: dict[str, Any] = {
            "method": request.method,
            "route": request.path,
            "function": function,
            "kind": kind,
            "status": status,
            "outcome": outcome,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "request_id": request.request_id,
        }
        self._request_line.write(fields)
        if self._on_call is not None:  # the record is built only for a listener (the dev server)
            self._on_call(CallRecord(**fields, trace=trace))


def _check_allowed_kind(runtime: Runtime, path: str, kind: Kind | None) -> None:
    """Refuse, before anything runs, a call of a kind the deployment does not serve (``AUTHLIB_ALLOWED_KINDS``).

    The kind is the route's (``/api/mutation``), or for ``/api/run`` and ``/api/function`` the function's own; an
    unknown function is left to the executor, which answers "Could not find public function".
    """
    allowed = runtime.settings.allowed_kinds
    if allowed is None:
        return
    if kind is None:
        try:
            kind = runtime.executor.registry.lookup(path, public_only=True).definition.kind
        except FunctionNotFoundError:
            return
    if kind.value not in allowed:
        raise KindNotAllowedError(path, kind.value, allowed)


def _default(request: HttpRequest) -> Format:
    return default_format(request.header("convex-client"))


def _post_body(request: HttpRequest) -> FunctionCall:
    return parse_post_body(request.body, default=_default(request))


def _named_post_body(request: HttpRequest) -> FunctionCall:
    return parse_post_body(request.body, default=_default(request), args_style="named")


def _get_query(request: HttpRequest) -> FunctionCall:
    return parse_get_query(request.query, default=_default(request))


#: The function-call routes with a fixed path: (method, path) -> (the kind the route expects, how it reads the call).
_FUNCTION_ROUTES: dict[tuple[str, str], tuple[Kind | None, _Parse]] = {
    ("POST", "/api/query"): (Kind.QUERY, _post_body),
    ("GET", "/api/query"): (Kind.QUERY, _get_query),
    ("POST", "/api/mutation"): (Kind.MUTATION, _post_body),
    ("POST", "/api/action"): (Kind.ACTION, _post_body),
    ("POST", "/api/function"): (None, _named_post_body),
}


def _function_route(event: Mapping[str, Any]) -> tuple[Kind | None, _Parse] | None:
    """The route of a request the resolver would send to a fixed function-call route, else None (the resolver).

    The resolver matches ``requestContext.http.method`` (upper-cased) and the event's path against ``^rule$``: its
    ``rawPath``, less ``/<stage>`` on a stage other than ``$default`` (never ``requestContext.http.path``). Only an
    exact, already upper-case match on the ``$default`` stage is taken here; anything else (``post``, a trailing
    newline that ``$`` would accept, a named stage) is left to the resolver, which then answers as before.
    """
    context = event.get("requestContext")
    if not isinstance(context, dict) or context.get("stage") != "$default":
        return None
    http = context.get("http")
    if not isinstance(http, dict):
        return None
    method, path = http.get("method"), event.get("rawPath")
    if not isinstance(method, str) or not isinstance(path, str):
        return None
    return _FUNCTION_ROUTES.get((method, path))


def _v2_result(reply: _Reply) -> dict[str, Any]:
    """The payload v2 result of ``reply``, as Powertools' ``ResponseBuilder`` builds the resolver's: ``Content-Type``
    first, then the reply's headers, no cookies, a text body (never base64, never compressed: no route of the
    resolver compresses, and its CORS is off; API Gateway or the dev server owns CORS)."""
    headers = {"Content-Type": _JSON_TYPE}
    if reply.headers:
        headers.update(reply.headers)
    return {"statusCode": reply.status, "body": reply.body, "isBase64Encoded": False, "headers": headers, "cookies": []}


def _response(reply: _Reply) -> Response[str]:
    """``reply`` as the Powertools ``Response`` a resolver route returns."""
    from aws_lambda_powertools.event_handler import Response

    return Response(status_code=reply.status, content_type=_JSON_TYPE, body=reply.body, headers=reply.headers)


def _default_logger() -> Logger:
    """The app's Powertools logger: service ``POWERTOOLS_SERVICE_NAME`` when set (template.yaml sets it per
    stage), else "authlib-core". (``Logger(service=...)`` would override the variable.)"""
    return Logger(service=None if os.environ.get("POWERTOOLS_SERVICE_NAME") else "authlib-core")


def _json_reply(status: int, body: Any) -> _Reply:
    return _Reply(status, dump_body(body))


def _request_id(event: Mapping[str, Any]) -> str:
    context = event.get("requestContext") if isinstance(event, dict) else None
    request_id = context.get("requestId") if isinstance(context, dict) else None
    return request_id if isinstance(request_id, str) else "unknown"


def _request(event: Mapping[str, Any]) -> HttpRequest:
    """The neutral request of an API Gateway v2 event."""
    context = event.get("requestContext") or {}
    http = context.get("http") or {}
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    cookies: dict[str, str] = {}
    for item in event.get("cookies") or ():
        name, sep, value = str(item).partition("=")
        if sep and name.strip() and name.strip() not in cookies:
            cookies[name.strip()] = value.strip()
    raw_body = event.get("body") or ""
    body = base64.b64decode(raw_body) if event.get("isBase64Encoded") else str(raw_body).encode("utf-8")
    query: dict[str, str] = {}
    raw_query = event.get("rawQueryString")
    if raw_query:  # a POST function call has none
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            query.setdefault(key, value)
    return HttpRequest(
        method=str(http.get("method") or "GET").upper(),
        path=str(event.get("rawPath") or http.get("path") or "/"),
        query=query,
        headers=headers,
        cookies=cookies,
        body=body,
        client_ip=str(http.get("sourceIp") or ""),
        is_https=headers.get("x-forwarded-proto", "https").lower() != "http",
        request_id=_request_id(event),
    )
