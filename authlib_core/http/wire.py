"""Convex's public HTTP wire format: request bodies in, ``UdfResponse`` bodies out.

Requests:

- ``POST /api/query|mutation|action|function``: ``{"path": "myData:add", "args": {...} | [{...}], "format"?}``.
- ``GET /api/query?path=...&args=<JSON>&format=...``.
- ``POST /api/run/myData/add``: ``{"args": {...}, "format"?}``; the path comes from the URL.

``args`` is an object or a one-element array holding one (what ``ConvexHttpClient`` sends); it is decoded with the
``convex_encoded_json`` rules whatever ``format`` says, so ``{"$integer": ...}`` is always accepted. ``format``
names the encoding of the *response*; when it is absent the default follows Convex: ``json`` unless the
``Convex-Client`` header names an old npm (≤ 1.4.1) or python (≤ 0.5.0) client; ``/api/run`` always defaults to
``json``.

Responses: ``{"status": "success", "value": ...}`` or ``{"status": "error", "errorMessage": ..., "errorData"?}``
(function errors, HTTP 200); ``logLines`` is never sent. Malformed requests raise :class:`BadRequestError`, which
becomes HTTP 400 ``{"code", "message"}``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TYPE_CHECKING, Any

from authlib_core.errors import AuthlibError
from authlib_core.functions.paths import invalid_path_message
from authlib_core.http.payload_limits import MAX_REQUEST_BODY_BYTES
from authlib_core.values import BadFormatError, decode, encode, parse_format
from authlib_core.values.json_text import JsonTextError, loads_strict

if TYPE_CHECKING:
    from collections.abc import Mapping

    from authlib_core.values import Format, Value

__all__ = [
    "ENCODED",
    "JSON",
    "MAX_BODY_BYTES",
    "BadRequestError",
    "FunctionCall",
    "default_format",
    "dump_body",
    "error_body",
    "json_result",
    "parse_get_query",
    "parse_post_body",
    "parse_run_body",
    "success_body",
]

JSON: Format = "json"
ENCODED: Format = "convex_encoded_json"

#: Largest request body accepted: what fits a Lambda event (Convex allows 16 MiB of arguments; Lambda's 6 MB
#: synchronous payload does not). Derived in :mod:`authlib_core.http.payload_limits`.
MAX_BODY_BYTES = MAX_REQUEST_BODY_BYTES

# Clients newer than these versions default to clean JSON (crates/common/src/version.rs default_format).
_CLEAN_JSON_SINCE = {"npm": (1, 4, 1), "python": (0, 5, 0)}
_CLIENT_HEADER = re.compile(r"^(?P<client>[a-z][a-z-]*?)-(?P<version>\d+(?:\.\d+)*)(?:[-+].*)?\Z")


class BadRequestError(AuthlibError):
    """A request the HTTP layer cannot read (HTTP 400 ``{"code", "message"}``); ``code`` is Convex-like."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True, slots=True)
class FunctionCall:
    """A decoded call: function path, named arguments and the response format."""

    path: str
    args: Mapping[str, Value]
    format: Format


def default_format(convex_client: str | None) -> Format:
    """The response format when the request names none, from its ``Convex-Client`` header.

    Example:
        >>> default_format("npm-1.49.0"), default_format("npm-1.4.0"), default_format(None)
        ('json', 'convex_encoded_json', 'json')
    """
    if not convex_client:
        return JSON
    match = _CLIENT_HEADER.match(convex_client.strip())
    if match is None:
        return JSON
    since = _CLEAN_JSON_SINCE.get(match["client"])
    if since is None:
        return JSON
    version = tuple(int(part) for part in match["version"].split("."))
    return JSON if version > since else ENCODED


def parse_post_body(body: bytes, *, default: Format, args_style: str = "positional") -> FunctionCall:
    """Read a ``{"path", "args", "format"}`` body.

    ``args_style="positional"`` accepts ``args`` as an object or a one-element array (``/api/query`` and friends);
    ``"named"`` accepts only an object (``/api/function``).

    Raises:
        BadRequestError: the body is too large, not JSON, not an object, or has a bad ``path``, ``args`` or
            ``format``.
    """
    envelope = _load_envelope(body)
    path = envelope.get("path")
    if path is None:
        raise BadRequestError("BadJsonBody", 'The request body has no "path"; send {"path": "module:function", ...}')
    if not isinstance(path, str):
        raise BadRequestError("BadJsonBody", f'"path" must be a string like "myData:list", got {_kind(path)}')
    _check_path(path)
    fmt = _format(envelope.get("format"), default)
    return FunctionCall(path=path, args=_args(envelope.get("args"), named_only=args_style == "named"), format=fmt)


def parse_run_body(body: bytes, url_path: str) -> FunctionCall:
    """Read a ``POST /api/run/<module/path/fn>`` request: ``url_path`` is what follows ``/api/run/``.

    Raises:
        BadRequestError: as :func:`parse_post_body`, or the URL does not name a function.
    """
    parts = url_path.split("/")
    if len(parts) < 2 or not all(parts):
        raise BadRequestError(
            "BadConvexFunctionIdentifier",
            f"/api/run/{url_path} does not name a function; use /api/run/<module path>/<function name>",
        )
    path = "/".join(parts[:-1]) + ":" + parts[-1]
    _check_path(path)
    envelope = _load_envelope(body) if body.strip() else {}
    fmt = _format(envelope.get("format"), JSON)
    return FunctionCall(path=path, args=_args(envelope.get("args"), named_only=False), format=fmt)


def parse_get_query(query: Mapping[str, str], *, default: Format) -> FunctionCall:
    """Read ``GET /api/query?path=...&args=<JSON>&format=...``.

    Raises:
        BadRequestError: ``path`` is missing, or ``args`` is not JSON, or ``format`` is unknown.
    """
    path = query.get("path")
    if not path:
        raise BadRequestError("BadQueryString", "The query string has no path; add ?path=module:function")
    _check_path(path)
    raw_args = query.get("args")
    args_json: Any = None
    if raw_args:
        try:
            args_json = _loads(raw_args)
        except JsonTextError as exc:
            raise BadRequestError("BadQueryString", _json_problem("The args parameter", exc)) from exc
    fmt = _format(query.get("format"), default)
    return FunctionCall(path=path, args=_args(args_json, named_only=False), format=fmt)


def success_body(value: Value, fmt: Format) -> dict[str, Any]:
    """``{"status": "success", "value": <value in fmt>}``."""
    return {"status": "success", "value": encode(value, fmt)}


def error_body(message: str, fmt: Format, *, data: Value = None, has_data: bool = False) -> dict[str, Any]:
    """``{"status": "error", "errorMessage": ..., "errorData"?: <data in fmt>}`` (``errorData`` iff ``has_data``)."""
    body: dict[str, Any] = {"status": "error", "errorMessage": message}
    if has_data:
        body["errorData"] = encode(data, fmt)
    return body


def dump_body(body: Any) -> str:
    """Compact JSON, never a NaN literal (encoded values carry special floats as strings or ``$float``).

    Example:
        >>> dump_body({"status": "success", "value": ["é", 1]})
        '{"status":"success","value":["é",1]}'
    """
    return _BODY_ENCODER.encode(body)


#: ``json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)``, its encoder built once (it
#: keeps no state between calls).
_BODY_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_result(status: int, body: Any) -> dict[str, Any]:
    """An API Gateway v2 result with a JSON body, built without the router (failures, refusals, HTTP actions' errors).

    Example:
        >>> json_result(404, {"code": "NotFound"})["body"]
        '{"code":"NotFound"}'
    """
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "cookies": [],
        "body": dump_body(body),
        "isBase64Encoded": False,
    }


def _load_envelope(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY_BYTES:
        raise BadRequestError(
            "RequestTooLarge",
            f"The request body is {len(body)} bytes; the limit is {MAX_BODY_BYTES} bytes (what fits in AWS "
            "Lambda's 6 MB request payload). Send less per call: split the arguments over several calls, or store "
            "large data elsewhere (e.g. S3) and pass a reference.",
        )
    try:
        envelope = _loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadRequestError("BadJsonBody", "The request body is not UTF-8 text") from exc
    except JsonTextError as exc:
        raise BadRequestError("BadJsonBody", _json_problem("The request body", exc)) from exc
    if not isinstance(envelope, dict):
        raise BadRequestError("BadJsonBody", f"The request body must be a JSON object, got {_kind(envelope)}")
    return envelope


def _loads(text: str) -> Any:
    return loads_strict(text)


def _json_problem(what: str, exc: JsonTextError) -> str:
    return f"{what} is not valid JSON: {exc}" if exc.syntax else f"{what} cannot be accepted: {exc}"


def _check_path(path: str) -> None:
    problem = invalid_path_message(path)
    if problem is not None:
        raise BadRequestError("BadConvexFunctionIdentifier", problem)


def _format(raw: Any, default: Format) -> Format:
    if raw is not None and not isinstance(raw, str):
        raise BadRequestError("BadFormat", f'"format" must be a string, got {_kind(raw)}')
    try:
        return parse_format(raw, default)
    except BadFormatError as exc:
        raise BadRequestError("BadFormat", f"Invalid format {raw!r}; use 'json' or 'convex_encoded_json'") from exc


def _args(raw: Any, *, named_only: bool) -> Mapping[str, Value]:
    if raw is None:
        return {}
    if isinstance(raw, list) and not named_only:
        if len(raw) != 1:
            raise BadRequestError(
                "InvalidArguments", f'"args" as an array must hold exactly one object, got {len(raw)} elements'
            )
        raw = raw[0]
    if not isinstance(raw, dict):
        expected = "an object" if named_only else "an object or a one-element array holding one"
        raise BadRequestError("InvalidArguments", f'"args" must be {expected}, got {_kind(raw)}')
    # Values Convex cannot represent ($-prefixed keys, bad $integer) raise InvalidValueError: a function error,
    # as in Convex, where argument conversion fails inside the function call.
    decoded = decode(raw)
    assert isinstance(decoded, dict)  # an object decodes to an object
    return decoded


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
