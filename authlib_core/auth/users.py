"""Users and credential accounts in the document store, each change one serializable mutation.

Sign-up checks ``users.by_email`` and inserts the user and its credential account in **one** mutation: two concurrent
sign-ups of one email conflict, the loser re-runs, sees the winner's user and gets ``UserExistsError``. Password
hashing happens before the mutation (a mutation may run several times; an argon2 hash per attempt would be waste).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authlib_core.auth.tables import ACCOUNTS_TABLE, CREDENTIAL_PROVIDER, USERS_TABLE

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.database import Database, DatabaseReader, DatabaseWriter
    from authlib_core.values import Value

__all__ = ["UserExistsError", "UserRepository"]

Document = dict[str, "Value"]


class UserExistsError(Exception):
    """Sign-up of an email that already has a user."""


class UserRepository:
    """The auth layer's reads and writes of ``users`` and ``authAccounts``.

    ``on_create(db, user_id)`` runs inside the transaction that creates a user (the app's ``on_user_created``
    mutation, see :mod:`authlib_core.auth.jwt_config`): what it writes or schedules commits with the new user.
    """

    def __init__(self, database: Database, on_create: Callable[[DatabaseWriter, str], object] | None = None) -> None:
        self.database = database
        self.on_create = on_create

    @staticmethod
    def _user_by_email(db: DatabaseReader, email: str) -> Document | None:
        return db.query(USERS_TABLE).with_index("by_email", lambda q: q.eq("email", email)).first()

    @staticmethod
    def _credential(db: DatabaseReader, user_id: str) -> Document | None:
        return (
            db.query(ACCOUNTS_TABLE)
            .with_index("by_user_provider", lambda q: q.eq("userId", user_id).eq("providerId", CREDENTIAL_PROVIDER))
            .first()
        )

    def find_for_sign_in(self, email: str) -> tuple[Document | None, Document | None]:
        """The user with this (normalized) email and its credential account, each possibly None."""

        def read(db: DatabaseReader) -> tuple[Document | None, Document | None]:
            user = self._user_by_email(db, email)
            if user is None:
                return None, None
            return user, self._credential(db, str(user["_id"]))

        return self.database.run_query(read)

    def create(self, *, name: str, email: str, password_hash: str, image: str | None, now_ms: int) -> Document:
        """Insert a user and its credential account; raises :class:`UserExistsError` if the email is taken."""

        def write(db: DatabaseWriter) -> Document:
            if self._user_by_email(db, email) is not None:
                raise UserExistsError(email)
            user: dict[str, Any] = {
                "name": name,
                "email": email,
                "emailVerified": False,
                "createdAt": float(now_ms),
                "updatedAt": float(now_ms),
            }
            if image is not None:
                user["image"] = image
            user_id = db.insert(USERS_TABLE, user)
            db.insert(
                ACCOUNTS_TABLE,
                {
                    "userId": user_id,
                    "providerId": CREDENTIAL_PROVIDER,
                    "accountId": user_id,
                    "password": password_hash,
                    "createdAt": float(now_ms),
                    "updatedAt": float(now_ms),
                },
            )
            if self.on_create is not None:
                self.on_create(db, user_id)
            created = db.get(user_id)
            assert created is not None
            return created

        return self.database.run_mutation(write)

    def get(self, user_id: str) -> Document | None:
        """The user document, or None (also for a malformed id)."""

        def read(db: DatabaseReader) -> Document | None:
            if db.normalize_id(USERS_TABLE, user_id) is None:
                return None
            return db.get(user_id)

        return self.database.run_query(read)

    def credential(self, user_id: str) -> Document | None:
        """The user's credential account (with the password hash), or None."""
        return self.database.run_query(lambda db: self._credential(db, user_id))

    def update(self, user_id: str, fields: dict[str, Any], *, now_ms: int) -> Document | None:
        """Patch the user (``updatedAt`` too); the new document, or None if the user is gone."""

        def write(db: DatabaseWriter) -> Document | None:
            if db.get(user_id) is None:
                return None
            db.patch(user_id, {**fields, "updatedAt": float(now_ms)})
            return db.get(user_id)

        return self.database.run_mutation(write)

    def set_password(self, user_id: str, *, new_hash: str, expected_hash: str | None, now_ms: int) -> bool:
        """Replace the credential's hash — only if it is still ``expected_hash`` (when given). True on success."""

        def write(db: DatabaseWriter) -> bool:
            account = self._credential(db, user_id)
            if account is None:
                return False
            if expected_hash is not None and account.get("password") != expected_hash:
                return False
            db.patch(str(account["_id"]), {"password": new_hash, "updatedAt": float(now_ms)})
            return True

        return self.database.run_mutation(write)

    def reset_password_in(self, db: DatabaseWriter, user_id: str, *, new_hash: str, now_ms: int) -> bool:
        """Set the password in the caller's mutation, creating the credential account if the user has none.

        False if the user is gone.
        """
        if db.normalize_id(USERS_TABLE, user_id) is None or db.get(user_id) is None:
            return False
        account = self._credential(db, user_id)
        if account is None:
            db.insert(
                ACCOUNTS_TABLE,
                {
                    "userId": user_id,
                    "providerId": CREDENTIAL_PROVIDER,
                    "accountId": user_id,
                    "password": new_hash,
                    "createdAt": float(now_ms),
                    "updatedAt": float(now_ms),
                },
            )
        else:
            db.patch(str(account["_id"]), {"password": new_hash, "updatedAt": float(now_ms)})
        return True

    def by_email(self, email: str) -> Document | None:
        """The user with this (normalized) email, or None."""
        return self.database.run_query(lambda db: self._user_by_email(db, email))

    def change_email_in(
        self, db: DatabaseWriter, user_id: str, *, expected: str, new_email: str, verified: bool, now_ms: int
    ) -> Document | None:
        """In the caller's mutation: set the email, only if it is still ``expected`` and ``new_email`` is free.

        The new user document, or None.
        """
        if db.normalize_id(USERS_TABLE, user_id) is None:
            return None
        user = db.get(user_id)
        if user is None or user.get("email") != expected or self._user_by_email(db, new_email) is not None:
            return None
        db.patch(user_id, {"email": new_email, "emailVerified": verified, "updatedAt": float(now_ms)})
        return db.get(user_id)

    @staticmethod
    def mark_verified_in(db: DatabaseWriter, user_id: str, *, email: str, now_ms: int) -> bool:
        """In the caller's mutation: ``emailVerified = true`` if the user still has ``email``; False otherwise."""
        if db.normalize_id(USERS_TABLE, user_id) is None:
            return False
        user = db.get(user_id)
        if user is None or user.get("email") != email:
            return False
        if user.get("emailVerified") is not True:
            db.patch(user_id, {"emailVerified": True, "updatedAt": float(now_ms)})
        return True

    def delete(self, user_id: str) -> None:
        """Delete the user and all its accounts (one mutation)."""

        def write(db: DatabaseWriter) -> None:
            accounts = (
                db.query(ACCOUNTS_TABLE).with_index("by_user_provider", lambda q: q.eq("userId", user_id)).collect()
            )
            for account in accounts:
                db.delete(str(account["_id"]))
            if db.get(user_id) is not None:
                db.delete(user_id)

        self.database.run_mutation(write)
