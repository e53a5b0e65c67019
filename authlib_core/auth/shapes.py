"""Better Auth's public JSON shapes of a user and a session, and the field limits every route checks.

Example:
    >>> iso_ms(1_800_000_000_123.0)
    '2027-01-15T08:00:00.123Z'
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from authlib_core.database.sessions import SessionRecord
    from authlib_core.values import JSONValue

__all__ = ["MAX_IMAGE", "MAX_NAME", "iso_ms", "session_json", "user_json"]

#: Longest ``name`` a user may have (characters).
MAX_NAME: Final = 256
#: Longest ``image`` URL (characters).
MAX_IMAGE: Final = 2048


def iso_ms(ms: float) -> str:
    """JavaScript's ``Date.prototype.toISOString()`` of an epoch-milliseconds value."""
    whole = math.floor(ms)
    moment = datetime.fromtimestamp(whole // 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{whole % 1000:03d}Z"


def user_json(user: dict[str, Any]) -> dict[str, JSONValue]:
    """Better Auth's public user object; ``image`` only when stored."""
    out: dict[str, JSONValue] = {
        "id": str(user["_id"]),
        "name": user.get("name", ""),
        "email": user.get("email", ""),
        "emailVerified": bool(user.get("emailVerified", False)),
    }
    if "image" in user:
        out["image"] = user["image"]
    out["createdAt"] = iso_ms(float(user["createdAt"]))
    out["updatedAt"] = iso_ms(float(user["updatedAt"]))
    return out


def session_json(record: SessionRecord) -> dict[str, JSONValue]:
    """Better Auth's public session object, with the session id (a handle) in place of the raw token."""
    return {
        "id": record.session_id,
        "token": record.session_id,
        "userId": record.user_id,
        "expiresAt": iso_ms(record.ends_at()),
        "createdAt": iso_ms(record.created_at),
        "updatedAt": iso_ms(record.updated_at),
        "ipAddress": record.ip_address,
        "userAgent": record.user_agent,
    }
