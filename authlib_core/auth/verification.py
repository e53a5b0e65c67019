"""The one token service behind every emailed link: password reset, email verification, change email, deletion.

A token is 32 random bytes (256 bits) from :mod:`secrets`, base64url (43 characters). Only its SHA-256 is stored,
in the ``verification`` table, in Better Auth's shape (``identifier``, ``value``, ``expiresAt``, ``createdAt``,
``updatedAt``):

* ``identifier`` = ``<purpose>:<base64url(SHA-256(token))>`` — Better Auth's ``<purpose>:<token>`` with its
  ``storeIdentifier: "hashed"`` option always on, so a copy of the table grants nothing;
* ``value`` = JSON ``{"userId": ..., "email": ...}`` plus the purpose's own fields (``newEmail``): the token is
  bound to one user, one purpose and the address it was sent for;
* ``expiresAt`` = issue time + the purpose's lifetime (:class:`~authlib_core.config.AuthSettings`).

:meth:`TokenService.consume` reads and deletes the row in **one** serializable mutation, so two concurrent uses of
one token cannot both succeed (the loser's mutation re-runs and finds nothing). An expired row is deleted when it is
met, and each issue removes a few expired rows of any purpose, so the table does not grow without bound.

Example:
    >>> tokens = TokenService(database, clock=time.time)  # doctest: +SKIP
    >>> raw = tokens.issue("reset-password", user_id="u1", email="ada@example.com", lifetime=3600)  # doctest: +SKIP
    >>> tokens.consume(raw, ("reset-password",)).user_id  # doctest: +SKIP
    'u1'
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import secrets
import time
from typing import TYPE_CHECKING, Final, NotRequired, TypedDict, Unpack

from authlib_core.auth.tables import VERIFICATION_TABLE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from authlib_core.database import Database, DatabaseReader, DatabaseWriter
    from authlib_core.values import Value

__all__ = ["PURPOSES", "TOKEN_BYTES", "IssuedToken", "TokenFields", "TokenService", "is_token_shape"]

TOKEN_BYTES: Final = 32
#: What a token may be for.
PURPOSES: Final = frozenset(
    {
        "reset-password",
        "verify-email",
        "change-email-confirmation",
        "change-email-verification",
        "delete-account",
        "oauth-state",
    }
)
_BOUND_KEYS: Final = frozenset({"userId", "email", "newEmail"})
_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
_PURGE_BATCH: Final = 16


def is_token_shape(value: str) -> bool:
    """True when ``value`` could be a token (43 base64url characters); anything else is refused unread."""
    return _SHAPE.fullmatch(value) is not None


def _identifier(purpose: str, token: str) -> str:
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return f"{purpose}:{base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')}"


def _row(db: DatabaseReader, identifier: str) -> dict[str, Value] | None:
    return db.query(VERIFICATION_TABLE).with_index("by_identifier", lambda q: q.eq("identifier", identifier)).first()


class TokenFields(TypedDict):
    """What :meth:`TokenService.issue` binds a token to (keyword arguments)."""

    user_id: str
    email: str
    #: Seconds until the token expires.
    lifetime: int
    new_email: NotRequired[str | None]
    data: NotRequired[Mapping[str, str] | None]


@dataclasses.dataclass(frozen=True, slots=True)
class IssuedToken:
    """What a stored token was issued for."""

    purpose: str
    user_id: str
    email: str
    new_email: str | None
    expires_at: int
    #: The row was found but its time was up (Better Auth answers ``TOKEN_EXPIRED`` where it can tell).
    expired: bool = False
    #: The purpose's own string fields given to :meth:`TokenService.issue` as ``data`` (an OAuth sign-in's
    #: PKCE verifier, nonce and redirect targets).
    data: Mapping[str, str] = dataclasses.field(default_factory=dict)


class TokenService:
    """Issues, checks and consumes single-use, expiring, purpose-bound tokens stored hashed."""

    def __init__(self, database: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.database = database
        self._clock = clock

    def _now(self) -> int:
        return int(self._clock() * 1000)

    def issue(self, purpose: str, **fields: Unpack[TokenFields]) -> str:
        """A fresh raw token for ``purpose``, stored hashed; it expires ``lifetime`` seconds from now.

        ``data`` holds further string fields stored with the token and handed back as :attr:`IssuedToken.data`.
        """
        return self.database.run_mutation(lambda db: self.issue_in(db, purpose, **fields))

    def issue_in(self, db: DatabaseWriter, purpose: str, **fields: Unpack[TokenFields]) -> str:
        """:meth:`issue` inside the caller's mutation (it commits, or not, with the caller's other writes)."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown token purpose {purpose!r}")
        data = fields.get("data") or {}
        if _BOUND_KEYS & set(data):
            raise ValueError(f"data may not set {sorted(_BOUND_KEYS & set(data))}")
        user_id, email, lifetime, new_email = (
            fields["user_id"],
            fields["email"],
            fields["lifetime"],
            fields.get("new_email"),
        )
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self._now()
        bound: dict[str, str] = {**data, "userId": user_id, "email": email}
        if new_email is not None:
            bound["newEmail"] = new_email
        row: dict[str, Value] = {
            "identifier": _identifier(purpose, token),
            "value": json.dumps(bound, separators=(",", ":")),
            "expiresAt": float(now + lifetime * 1000),
            "createdAt": float(now),
            "updatedAt": float(now),
        }

        expired = (
            db.query(VERIFICATION_TABLE).with_index("by_expiresAt", lambda q: q.lt("expiresAt", float(now)))
        ).take(_PURGE_BATCH)
        for old in expired:
            db.delete(str(old["_id"]))
        db.insert(VERIFICATION_TABLE, row)
        return token

    @staticmethod
    def _find(db: DatabaseReader, token: str, purposes: Iterable[str]) -> tuple[str, dict[str, Value]] | None:
        for purpose in sorted(purposes):
            row = _row(db, _identifier(purpose, token))
            if row is not None:
                return purpose, row
        return None

    def _decode(self, purpose: str, row: dict[str, Value], now: int) -> IssuedToken | None:
        expires_at = row.get("expiresAt")
        if not isinstance(expires_at, float):
            return None
        try:
            bound = json.loads(str(row.get("value")))
        except ValueError:
            return None
        if not isinstance(bound, dict) or not isinstance(bound.get("userId"), str):
            return None
        new_email = bound.get("newEmail")
        return IssuedToken(
            purpose=purpose,
            user_id=bound["userId"],
            email=str(bound.get("email", "")),
            new_email=new_email if isinstance(new_email, str) else None,
            expires_at=int(expires_at),
            expired=expires_at <= now,
            data={k: v for k, v in bound.items() if k not in _BOUND_KEYS and isinstance(v, str)},
        )

    def check(self, token: str, purposes: Iterable[str]) -> IssuedToken | None:
        """What the token was issued for, without using it up (the reset link's GET); None if unknown.

        Check :attr:`IssuedToken.expired` before trusting the answer.
        """
        if not is_token_shape(token):
            return None
        found = self.database.run_query(lambda db: self._find(db, token, purposes))
        return None if found is None else self._decode(found[0], found[1], self._now())

    def consume(
        self,
        token: str,
        purposes: Iterable[str],
        then: Callable[[DatabaseWriter, IssuedToken], None] | None = None,
    ) -> IssuedToken | None:
        """Use the token up: what it was issued for, or None (unknown, used, another purpose).

        Check :attr:`IssuedToken.expired` before acting on the answer.

        The row is deleted in the same mutation that reads it, also when it has expired. ``then`` runs in that
        mutation for a live token, so the token is used up exactly when its effect (a new password, a verified
        address) commits: a storage failure leaves both undone and the link still usable; an exception from
        ``then`` aborts both.
        """
        if not is_token_shape(token):
            return None
        allowed = tuple(purposes)
        now = self._now()

        def write(db: DatabaseWriter) -> IssuedToken | None:
            found = self._find(db, token, allowed)
            if found is None:
                return None
            purpose, row = found
            db.delete(str(row["_id"]))
            issued = self._decode(purpose, row, now)
            if issued is not None and not issued.expired and then is not None:
                then(db, issued)
            return issued

        return self.database.run_mutation(write)
