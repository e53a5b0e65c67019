"""How large a request and a response may be: the app's limits, derived from the platform's.

On AWS every request reaches a function as a Lambda event and every response leaves it as the function's result,
through API Gateway (HTTP API):

* **Lambda, synchronous invocation: 6 MB each way** ("For synchronous invocations, the maximum payload size is
  6 MB", Lambda API reference, ``Invoke``; Lambda quotas). Over it, Lambda refuses the invocation or the result
  and API Gateway answers ``500 {"message":"Internal Server Error"}`` -- nothing the client can act on.
* **API Gateway HTTP API: 10 MB payload** (HTTP API quotas). Looser than Lambda's, so Lambda's decides.

The app's own limits sit just inside Lambda's, so a client gets *our* error, with the sizes and what to do, rather
than AWS's opaque one; they apply on the dev server too, so an app that fits locally fits on AWS:

* a request body over :data:`MAX_REQUEST_BODY_BYTES` is refused with ``400 {"code":"RequestTooLarge"}``. The rest
  of Lambda's 6 MB is left for the event around the body (headers, request context: a few KB) and for the JSON
  escaping of the body inside the event (each ``"`` or ``\\`` doubles). A body whose event exceeds 6 MB anyway
  never reaches the function: Lambda refuses the invocation and API Gateway answers with its own error;
* a response whose Lambda result would exceed :data:`MAX_RESPONSE_PAYLOAD_BYTES` is replaced by an error that says
  so (:func:`response_payload_bytes` measures it as the Lambda runtime serialises it).

Example:
    >>> MAX_REQUEST_BODY_BYTES
    5242880
    >>> response_payload_bytes({"statusCode": 200, "body": "{}"})
    33
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "HTTP_API_PAYLOAD_BYTES",
    "LAMBDA_SYNC_PAYLOAD_BYTES",
    "MAX_REQUEST_BODY_BYTES",
    "MAX_RESPONSE_PAYLOAD_BYTES",
    "response_payload_bytes",
    "response_too_large",
]

#: Lambda's synchronous invocation payload, request and response alike (6 MB = 6 MiB: "smaller than 6291456 bytes").
LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024
#: API Gateway HTTP API's payload limit (looser than Lambda's; listed so docs and tests can compare).
HTTP_API_PAYLOAD_BYTES = 10 * 1024 * 1024
#: Room in a 6 MB Lambda event for everything but the raw body: the event's fields and the body's JSON escaping.
EVENT_ALLOWANCE_BYTES = 1024 * 1024
#: Largest request body the app accepts (HTTP 400 ``RequestTooLarge`` above it).
MAX_REQUEST_BODY_BYTES = LAMBDA_SYNC_PAYLOAD_BYTES - EVENT_ALLOWANCE_BYTES
#: Largest response, measured as the serialised Lambda result.
MAX_RESPONSE_PAYLOAD_BYTES = LAMBDA_SYNC_PAYLOAD_BYTES

# A str of n characters serialises to at most 6n bytes (a control character becomes a \\uXXXX escape).
_WORST_BYTES_PER_CHAR = 6
_ENVELOPE_SLACK = 64 * 1024


def response_payload_bytes(response: Mapping[str, Any]) -> int:
    """Bytes of ``response`` (an API Gateway v2 result) as the Lambda runtime sends it.

    The python3.12+ runtimes serialise the result as JSON with Unicode characters as UTF-8, not ``\\u`` escapes
    (Lambda developer guide, "Building Lambda functions with Python", Response format).

    Example:
        >>> response_payload_bytes({"body": "\\u00e9"})
        14
    """
    return len(json.dumps(response, ensure_ascii=False).encode("utf-8"))


def response_too_large(response: Mapping[str, Any]) -> int | None:
    """The serialised size of ``response`` when it exceeds :data:`MAX_RESPONSE_PAYLOAD_BYTES`, else None.

    Cheap for the usual response: only a body long enough to possibly exceed the limit is serialised to measure it.

    Example:
        >>> response_too_large({"statusCode": 200, "body": "x" * 100}) is None
        True
    """
    body = response.get("body")
    if isinstance(body, str) and len(body) * _WORST_BYTES_PER_CHAR + _ENVELOPE_SLACK < MAX_RESPONSE_PAYLOAD_BYTES:
        return None
    size = response_payload_bytes(response)
    return size if size > MAX_RESPONSE_PAYLOAD_BYTES else None
