"""Session tokens: ``<userId>.<sessionId>.<secret>``, of which only the SHA-256 is ever stored.

* ``secret`` is 32 bytes (256 bits) from :mod:`secrets`, base64url without padding (43 characters).
* ``sessionId`` is 16 bytes (128 bits), base64url (22 characters). It is the session's public handle: the
  ``id`` and ``token`` fields of get-session and list-sessions, and what revoke-session accepts. Knowing it grants
  nothing, because validation needs the secret.
* ``userId`` locates the user's partition of the session store, so validating a token is one consistent read
  (``get(user_id, session_id)``) followed by a constant-time comparison of ``SHA-256(token)``.

Example:
    >>> token = new_session_token("u1", new_session_id())
    >>> parsed = parse_token(token)
    >>> parsed.user_id, token_matches(token, hash_token(token))
    ('u1', True)
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets

__all__ = [
    "SECRET_BYTES",
    "SESSION_ID_BYTES",
    "ParsedToken",
    "hash_token",
    "is_session_id",
    "new_session_id",
    "new_session_token",
    "parse_token",
    "token_matches",
]

SECRET_BYTES = 32
SESSION_ID_BYTES = 16

_USER_ID = r"[A-Za-z0-9_-]{1,128}"
_SESSION_ID = r"[A-Za-z0-9_-]{22}"
_TOKEN = re.compile(rf"^({_USER_ID})\.({_SESSION_ID})\.([A-Za-z0-9_-]{{43}})\Z")
_SESSION_ID_RE = re.compile(rf"^{_SESSION_ID}\Z")


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedToken:
    """The locating parts of a well-formed token (the secret part is only ever hashed)."""

    user_id: str
    session_id: str


def new_session_id() -> str:
    """A fresh random session id (128 bits)."""
    return secrets.token_urlsafe(SESSION_ID_BYTES)


def new_session_token(user_id: str, session_id: str) -> str:
    """A fresh raw token for a session of ``user_id``; it carries 256 random bits."""
    if not re.fullmatch(_USER_ID, user_id) or not _SESSION_ID_RE.match(session_id):
        raise ValueError("user ids and session ids must be URL-safe base64 characters")
    return f"{user_id}.{session_id}.{secrets.token_urlsafe(SECRET_BYTES)}"


def parse_token(token: str) -> ParsedToken | None:
    """The user and session id of a well-formed token, or None. Reads nothing."""
    match = _TOKEN.match(token)
    return None if match is None else ParsedToken(match.group(1), match.group(2))


def is_session_id(value: str) -> bool:
    """True when ``value`` has the shape of a session id (a public handle)."""
    return _SESSION_ID_RE.match(value) is not None


def hash_token(token: str) -> str:
    """Hex SHA-256 of the raw token: what the session store keeps. A fast hash suffices for 256-bit secrets."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, token_hash: str) -> bool:
    """Constant-time check that ``token`` hashes to ``token_hash``."""
    return hmac.compare_digest(hash_token(token).encode("ascii"), token_hash.encode("ascii", "replace"))
