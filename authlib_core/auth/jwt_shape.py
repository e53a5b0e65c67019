"""The shape of a bearer token: whether it is a JWS compact JWT, and its parts *unverified*.

Every function that reads a bearer token asks :func:`looks_like_jwt` (a JWT goes to the identity providers of
``functions/auth_config.py``, anything else is a session token), so this module holds only that and imports only
the standard library: the provider declarations (:mod:`~authlib_core.auth.jwt_config`) load only for apps that
declare providers.

Example:
    >>> looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"), token_part("eyJhbGciOiJSUzI1NiJ9.e30.c2ln", 1)
    (True, {})
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

__all__ = ["looks_like_jwt", "token_part"]


def looks_like_jwt(token: str) -> bool:
    """Whether a bearer token is a JWS compact JWT (three parts, the first a JSON header with ``alg``).

    Session tokens of this library (``<userId>.<sessionId>.<secret>``, signed or not) also have dots, so the
    header is decoded: a session token's first part never decodes to a JSON object.

    Example:
        >>> looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"), looks_like_jwt("user1.abc.def")
        (True, False)
    """
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or len(parts[0]) > 4096:
        return False
    header = token_part(token, 0)
    return header is not None and "alg" in header


def token_part(token: str, index: int) -> dict[str, Any] | None:
    """Part ``index`` of a JWS compact token (0 the header, 1 the claims) as a JSON object, *unverified*; else None.

    Only for a token already verified, or to choose how to verify it.

    Example:
        >>> token_part("eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhIn0.c2ln", 1)
        {'aud': 'a'}
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(parts[index] + "=" * (-len(parts[index]) % 4)))
    except (ValueError, binascii.Error, IndexError):
        return None
    return value if isinstance(value, dict) else None
