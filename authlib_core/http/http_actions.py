"""Serving HTTP actions: an API Gateway v2 event for a path outside ``/api`` → the route's handler → the v2 result.

:class:`~authlib_core.http.app.HttpApp` hands every request whose path is not under ``/api`` here, on the dev server
and in Lambda alike. What a client gets:

==========================================================  ======================================================
the route's handler returned a ``Response``                 that response (``Set-Cookie`` headers → v2 ``cookies``)
no ``functions/http.py``, or no route for the path/method    404 ``{"code":"NotFound","message":...}`` (Convex: 404)
body over :data:`~.payload_limits.MAX_REQUEST_BODY_BYTES`    413 ``{"code":"RequestTooLarge",...}``, nothing runs
(as carried in the event: base64 for a binary body)
a deployment that does not serve ``http`` (allowed kinds)    403 ``{"code":"Forbidden",...}``, nothing runs
``request.text()/json()`` failed and was not caught          400 ``{"code":"BadRequestBody",...}``
a bearer JWT was invalid and the handler asked ``ctx.auth``  401, as for the Convex API
storage unavailable / conflicts after retries                503, as for the Convex API
anything else raised, or a value that is not a ``Response``  500 ``{"code":"InternalServerError","message":
(a bad status or an unsafe header raises in ``Response``)   "[Request ID: X] Server Error"}``; ``ConvexError`` adds
                                                            ``"data"``; the dev server adds what and where
the response would exceed Lambda's 6 MB result               500 ``{"code":"ResponseTooLarge",...}`` with the sizes
==========================================================  ======================================================

Identity: ``ctx.auth`` comes from the session cookie or ``Authorization: Bearer``, as for other functions, but is
resolved only when the handler asks. As in Convex, a bearer token that fails verification does not refuse the
request (a webhook sender's own token is not ours); ``ctx.auth.get_user_identity()`` raises instead.
"""

from __future__ import annotations

import base64
import threading
from typing import TYPE_CHECKING, Any

from authlib_core.errors import AuthlibError, ConvexError
from authlib_core.functions.http_messages import InvalidRequestBodyError, Request, Response
from authlib_core.http.errors import describe_error, server_error_message
from authlib_core.http.payload_limits import MAX_REQUEST_BODY_BYTES, MAX_RESPONSE_PAYLOAD_BYTES, response_too_large
from authlib_core.http.wire import JSON, json_result

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from aws_lambda_powertools import Logger

    from authlib_core.auth import Auth, UserIdentity
    from authlib_core.functions.http_router import RouteMatch
    from authlib_core.http.identity import IdentityResolver
    from authlib_core.http.messages import HttpRequest
    from authlib_core.runtime import Runtime

__all__ = ["HTTP_KIND", "DeferredAuth", "HttpActionOutcome", "serve_http_action"]

#: The name of HTTP actions in ``AUTHLIB_ALLOWED_KINDS``.
HTTP_KIND = "http"


class DeferredAuth:
    """``ctx.auth`` of an HTTP action: the credential is resolved on the first ``get_user_identity()``.

    A credential that fails verification (a bad JWT) raises there, not before the handler runs (Convex's rule).
    """

    __slots__ = ("_auth", "_lock", "_request", "_resolver")

    def __init__(self, resolver: IdentityResolver, request: HttpRequest) -> None:
        self._resolver = resolver
        self._request = request
        self._lock = threading.Lock()
        self._auth: Auth | None = None

    def get_user_identity(self) -> UserIdentity | None:
        """The caller's identity, or None; raises ``AuthTokenError`` for a bearer JWT that fails verification."""
        with self._lock:
            if self._auth is None:
                self._auth = self._resolver.resolve(self._request)
        return self._auth.get_user_identity()

    @property
    def ignored_reason(self) -> str | None:
        """Why a session cookie was set aside (the origin check), once the identity was asked for; else None."""
        reason = getattr(self._auth, "ignored_reason", None)
        return reason if isinstance(reason, str) else None


class HttpActionOutcome:
    """The v2 result of one request, with what the call line logs."""

    __slots__ = ("label", "outcome", "result", "trace")

    def __init__(self, result: dict[str, Any], outcome: str, label: str | None, trace: str | None = None) -> None:
        self.result = result
        self.outcome = outcome
        self.label = label
        self.trace = trace

    @property
    def status(self) -> int:
        """The HTTP status sent."""
        return int(self.result["statusCode"])


def serve_http_action(
    event: Mapping[str, Any],
    request: HttpRequest,
    *,
    runtime: Callable[[], Runtime],
    identity: IdentityResolver,
    logger: Logger,
    load_error_source: Path | None,
    auth_ignored_header: str,
) -> HttpActionOutcome:
    """Route ``request`` (built from ``event``) to its HTTP action and run it (rules in the module docstring)."""
    source = load_error_source
    label: str | None = None
    try:
        carried = len(str(event.get("body") or ""))
        if carried > MAX_REQUEST_BODY_BYTES:
            return _refused(413, "RequestTooLarge", _too_large_request(carried, event), label)
        current = runtime()
        source = current.settings.functions_dir if current.settings.expose_errors else None
        allowed = current.settings.allowed_kinds
        if allowed is not None and HTTP_KIND not in allowed:
            message = (
                f"{request.method} {request.path} would run an HTTP action, and this deployment serves only "
                f"{', '.join(sorted(allowed))} functions (AUTHLIB_ALLOWED_KINDS={','.join(sorted(allowed))}); send "
                "HTTP actions to the endpoint that serves them (on AWS, the API's $default route)."
            )
            return _refused(403, "Forbidden", message, label)
        router = current.app.http
        match = router.lookup(request.path, request.method) if router is not None else None
        if match is None:
            return _refused(404, "NotFound", _no_route(request, current), label)
        label = match.label
        auth = DeferredAuth(identity, request)
        response = _run(match, current, auth, _action_request(request, str(event.get("rawQueryString") or "")))
        result = _result(response, head=request.method == "HEAD")
        if auth.ignored_reason is not None:
            result["headers"][auth_ignored_header] = auth.ignored_reason
    except Exception as exc:
        return _failed(exc, request, logger, source, label)
    size = response_too_large(result)
    if size is not None:
        logger.warning("response too large", extra={"request_id": request.request_id, "response_bytes": size})
        message = (
            f"The HTTP action's response is {size} bytes as a Lambda result; the limit is "
            f"{MAX_RESPONSE_PAYLOAD_BYTES} bytes (AWS Lambda's 6 MB response payload; a binary body counts "
            "base64-encoded). Send less, or serve large files from S3 with a presigned URL."
        )
        return _refused(500, "ResponseTooLarge", message, label, outcome="server_error")
    return HttpActionOutcome(result, "success" if result["statusCode"] < 500 else "error", label)


def _run(match: RouteMatch, runtime: Runtime, auth: DeferredAuth, request: Request) -> Response:
    ctx = runtime.executor.action_context(auth)
    response = match.handler.handler(ctx, request)
    if not isinstance(response, Response):
        raise TypeError(
            f"the HTTP action {match.handler.module}.{match.handler.name} returned "
            f"{type(response).__name__}, not a Response; return Response(body, status=..., headers=...)"
        )
    return response


def _action_request(request: HttpRequest, query: str) -> Request:
    headers = dict(request.headers)
    if request.cookies:  # API Gateway moves Cookie into the event's cookies; a handler reads it as a header
        headers["cookie"] = "; ".join(f"{name}={value}" for name, value in request.cookies.items())
    host = request.header("host") or "localhost"
    scheme = "https" if request.is_https else "http"
    url = f"{scheme}://{host}{request.path}" + (f"?{query}" if query else "")
    return Request(request.method, url, headers=headers, body=request.body, path=request.path, raw_query=query)


def _result(response: Response, *, head: bool) -> dict[str, Any]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in response.headers:
        if name.lower() == "set-cookie":
            cookies.append(value)
        elif name.lower() == "content-type":
            continue
        else:
            key = next((k for k in headers if k.lower() == name.lower()), name)
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
    if response.content_type is not None:
        headers["Content-Type"] = response.content_type
    content = b"" if head else response.content
    result: dict[str, Any] = {"statusCode": response.status, "headers": headers, "cookies": cookies}
    try:
        result["body"], result["isBase64Encoded"] = content.decode("utf-8"), False
    except UnicodeDecodeError:
        result["body"], result["isBase64Encoded"] = base64.b64encode(content).decode("ascii"), True
    return result


def _no_route(request: HttpRequest, runtime: Runtime) -> str:
    router = runtime.app.http
    if router is None:
        return (
            f"No route for {request.method} {request.path}: this app serves no HTTP actions (functions/http.py "
            "does not exist)."
        )
    methods = [m for m in router.methods_at(request.path) if m != request.method]
    if methods:
        return f"No route for {request.method} {request.path}; this path has routes for {', '.join(methods)}."
    return f"No route for {request.method} {request.path}"


def _too_large_request(carried: int, event: Mapping[str, Any]) -> str:
    binary = " (a binary body travels base64-encoded, 4/3 of its size)" if event.get("isBase64Encoded") else ""
    return (
        f"The request body takes {carried} bytes in the Lambda event{binary}; the limit is {MAX_REQUEST_BODY_BYTES} "
        "bytes (what fits in AWS Lambda's 6 MB request payload). Send less, or upload large files to S3 with a "
        "presigned URL."
    )


def _failed(
    exc: Exception, request: HttpRequest, logger: Logger, source: Path | None, label: str | None
) -> HttpActionOutcome:
    if isinstance(exc, InvalidRequestBodyError):
        return _refused(400, exc.code, exc.message, label)
    error = describe_error(exc, request_id=request.request_id, fmt=JSON, logger=logger, source=source)
    if error.status != 200:  # 401 (bad JWT asked for), 503 (storage), 400: the Convex API's answer
        return HttpActionOutcome(json_result(error.status, error.body), error.outcome, label, error.trace)
    # A function error on the Convex API (HTTP 200 there) is an uncaught exception here: 500. Only a ConvexError's
    # message and data (raised on purpose) reach a production client; the dev server shows what and where.
    message = server_error_message(request.request_id)
    if source is not None or isinstance(exc, ConvexError):
        message = error.body.get("errorMessage", message)
    elif isinstance(exc, AuthlibError):  # describe_error logged unexpected exceptions with their stack already
        logger.error(
            "uncaught error in an HTTP action",
            extra={"request_id": request.request_id, "error_code": exc.code, "error_message": exc.message},
        )
    body: dict[str, Any] = {"code": "InternalServerError", "message": message}
    if "errorData" in error.body:
        body["data"] = error.body["errorData"]
    return HttpActionOutcome(json_result(500, body), "server_error", label, error.trace)


def _refused(
    status: int, code: str, message: str, label: str | None, *, outcome: str = "rejected"
) -> HttpActionOutcome:
    outcome = "not_found" if status == 404 else outcome
    return HttpActionOutcome(json_result(status, {"code": code, "message": message}), outcome, label)
