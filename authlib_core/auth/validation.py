"""Request bodies: content types, JSON/form parsing and zod-style ``VALIDATION_ERROR`` messages.

Messages match what Better Auth's zod schemas produce (``[body.email] Invalid email address``,
``[body.name] Invalid input: expected string, received undefined``), so clients that show them look the same.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from authlib_core.auth.transport import APIError, AuthHttpRequest
from authlib_core.values.json_text import JsonTextError, loads_strict

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "MAX_AUTH_BODY_BYTES",
    "Body",
    "is_valid_email",
    "normalize_email",
    "parse_body",
]

_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"
# zod's email pattern (v4 default)
_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}\Z"
)
MAX_EMAIL_LENGTH = 254
#: Largest ``/api/auth/*`` body read (its fields are capped far below: names 256, images 2048, passwords 128).
MAX_AUTH_BODY_BYTES = 64 * 1024


def is_valid_email(value: str) -> bool:
    """True for addresses zod's ``z.email()`` accepts (and no longer than 254 characters)."""
    return len(value) <= MAX_EMAIL_LENGTH and _EMAIL.match(value) is not None


def normalize_email(value: str) -> str:
    """Emails are stored and compared in lower case (as Better Auth does)."""
    return value.strip().lower()


def _js_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def validation_error(field: str | None, message: str) -> APIError:
    """``400 VALIDATION_ERROR`` with zod's ``[body.<field>]`` prefix."""
    where = "body" if field is None else f"body.{field}"
    return APIError(400, "VALIDATION_ERROR", f"[{where}] {message}")


class Body:
    """A parsed request body with typed, zod-worded accessors."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def string(self, field: str, *, optional: bool = False, nullable: bool = False) -> str | None:
        """A string field; missing → error unless ``optional``; ``null`` only when ``nullable``."""
        if field not in self.data:
            if optional:
                return None
            raise validation_error(field, "Invalid input: expected string, received undefined")
        value = self.data[field]
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            raise validation_error(field, f"Invalid input: expected string, received {_js_type(value)}")
        return value

    def required_string(self, field: str) -> str:
        """A string field that must be present."""
        value = self.string(field)
        assert value is not None
        return value

    def boolean(self, field: str) -> bool | None:
        """An optional boolean; form bodies send ``"true"``/``"false"``."""
        if field not in self.data or self.data[field] is None:
            return None
        value = self.data[field]
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise validation_error(field, f"Invalid input: expected boolean, received {_js_type(value)}")
        return value


def parse_body(request: AuthHttpRequest, *, allow_form: bool, required: bool) -> Body:
    """Parse the body by content type.

    Raises:
        APIError: 413 for a body over :data:`MAX_AUTH_BODY_BYTES`;
            415 for a content type other than JSON (or form, when ``allow_form``); 400 for a body that is not
            an object, or missing when ``required``.
    """
    raw = request.body
    if len(raw) > MAX_AUTH_BODY_BYTES:
        raise APIError(
            413,
            "PAYLOAD_TOO_LARGE",
            f"The request body is {len(raw)} bytes; the limit on /api/auth/* is {MAX_AUTH_BODY_BYTES} bytes",
        )
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    allowed = (_FORM, _JSON) if allow_form else (_JSON,)
    if raw.strip() and content_type not in allowed:
        shown = content_type or "none"
        raise APIError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f'Content-Type "{shown}" is not allowed. Allowed types: {", ".join(allowed)}',
        )
    if not raw.strip():
        if required:
            raise validation_error(None, "Invalid input: expected object, received undefined")
        return Body({})
    if content_type == _FORM:
        try:
            return Body(dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
        except UnicodeDecodeError:
            raise validation_error(None, "Invalid input: expected object, received string") from None
    try:
        data = loads_strict(raw)
    except UnicodeDecodeError:
        raise APIError(400, "VALIDATION_ERROR", "[body] Invalid JSON: the body is not UTF-8 text") from None
    except JsonTextError as exc:
        message = "[body] Invalid JSON" if exc.syntax else f"[body] {exc}"
        raise APIError(400, "VALIDATION_ERROR", message) from None
    if not isinstance(data, dict):
        raise validation_error(None, f"Invalid input: expected object, received {_js_type(data)}")
    return Body(data)
