"""Users and credential accounts in the document store, each change one serializable mutation.

Sign-up checks ``users.by_email`` and inserts the user and its credential account in **one** mutation: two concurrent
sign-ups of one email conflict, the loser re-runs, sees the winner's user and gets ``UserExistsError``. Password
hashing happens before the mutation (a mutation may run several times; an argon2 hash per attempt would be waste).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from authlib_core.auth.tables import ACCOUNTS_TABLE, CREDENTIAL_PROVIDER, USERS_TABLE

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from authlib_core.database import Database, DatabaseReader, DatabaseWriter
    from authlib_core.values import Value

__all__ = ["AccountRefusedError", "ProviderAccount", "UserExistsError", "UserRepository"]

Document = dict[str, "Value"]


class UserExistsError(Exception):
    """Sign-up of an email that already has a user."""


class AccountRefusedError(Exception):
    """A social sign-in, link or unlink that the account rules refuse; ``code`` is Better Auth's error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclasses.dataclass(frozen=True, slots=True)
class ProviderAccount:
    """Who a sign-in provider says signed in (:mod:`~authlib_core.auth.oauth_client` reads it)."""

    #: The provider's id in ``auth_config.py`` (the account's ``providerId``).
    provider_id: str
    #: The provider's id for the user (GitHub's numeric id, the ID token's ``sub``), as a string.
    account_id: str
    #: Normalized address, or None when the provider gave none (or an invalid one).
    email: str | None
    #: Whether the provider vouches that the user controls ``email``.
    email_verified: bool
    name: str
    image: str | None
    #: The scopes granted, comma-joined (Better Auth's ``scope`` column).
    scope: str


class UserRepository:
    """The auth layer's reads and writes of ``users`` and ``authAccounts``.

    ``on_create(db, user_id)`` runs inside the transaction that creates a user (the app's ``on_user_created``
    mutation, see :mod:`authlib_core.auth.jwt_config`): what it writes or schedules commits with the new user.
    ``on_delete(db, user_id)`` runs inside the transaction that deletes one (``on_user_deleted``), before the user's
    documents go: the app's own documents go with them, or nothing does if it raises. ``after_delete(db, user)``
    runs in that transaction too, once they are gone, with the deleted user's document (``after_user_deleted``
    schedules its job there, so the job exists exactly when the deletion commits).
    """

    def __init__(
        self,
        database: Database,
        on_create: Callable[[DatabaseWriter, str], object] | None = None,
        on_delete: Callable[[DatabaseWriter, str], object] | None = None,
        after_delete: Callable[[DatabaseWriter, Mapping[str, Value]], object] | None = None,
    ) -> None:
        self.database = database
        self.on_create = on_create
        self.on_delete = on_delete
        self.after_delete = after_delete

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

    # ------------------------------------------------------------------ social accounts

    @staticmethod
    def _by_provider_account(db: DatabaseReader, provider_id: str, account_id: str) -> Document | None:
        return (
            db.query(ACCOUNTS_TABLE)
            .with_index("by_provider_account", lambda q: q.eq("providerId", provider_id).eq("accountId", account_id))
            .first()
        )

    @staticmethod
    def _accounts_of(db: DatabaseReader, user_id: str) -> list[Document]:
        return db.query(ACCOUNTS_TABLE).with_index("by_user_provider", lambda q: q.eq("userId", user_id)).collect()

    @staticmethod
    def _insert_account(db: DatabaseWriter, user_id: str, account: ProviderAccount, now_ms: int) -> None:
        row: dict[str, Any] = {
            "userId": user_id,
            "providerId": account.provider_id,
            "accountId": account.account_id,
            "createdAt": float(now_ms),
            "updatedAt": float(now_ms),
        }
        if account.scope:
            row["scope"] = account.scope
        db.insert(ACCOUNTS_TABLE, row)

    def social_sign_in(self, account: ProviderAccount, *, now_ms: int) -> tuple[Document, bool]:
        """The user ``account`` signs in as, and whether it was created now (one serializable mutation).

        * A linked account signs its user in.
        * Otherwise a user with the same email gets the account linked **only when both addresses are verified**
          (the provider vouches for it and the user confirmed it here); else ``account_not_linked``.
        * Otherwise a new user is created with the provider's name and image — only for an address the provider
          verified: an account made from an unverified address could be claimed later by the address's owner
          (a password reset) while the provider account stays linked to it (pre-account hijacking).

        Raises:
            AccountRefusedError: ``email_not_found`` (the provider gave no address), ``account_not_linked``,
                ``email_not_verified`` (no user has the address and the provider did not verify it).
        """

        def write(db: DatabaseWriter) -> tuple[Document, bool]:
            linked = self._by_provider_account(db, account.provider_id, account.account_id)
            if linked is not None:
                user = db.get(str(linked["userId"]))
                if user is not None:
                    if account.scope and linked.get("scope") != account.scope:
                        db.patch(str(linked["_id"]), {"scope": account.scope, "updatedAt": float(now_ms)})
                    return user, False
                db.delete(str(linked["_id"]))  # left behind by a user deleted elsewhere
            if account.email is None:
                raise AccountRefusedError("email_not_found")
            user = self._user_by_email(db, account.email)
            if user is not None:
                if not account.email_verified or user.get("emailVerified") is not True:
                    raise AccountRefusedError("account_not_linked")
                user_id = str(user["_id"])
                self._insert_account(db, user_id, account, now_ms)
                return user, False
            if not account.email_verified:
                raise AccountRefusedError("email_not_verified")
            fields: dict[str, Any] = {
                "name": account.name,
                "email": account.email,
                "emailVerified": True,
                "createdAt": float(now_ms),
                "updatedAt": float(now_ms),
            }
            if account.image is not None:
                fields["image"] = account.image
            user_id = db.insert(USERS_TABLE, fields)
            self._insert_account(db, user_id, account, now_ms)
            if self.on_create is not None:  # a new user by social sign-in, as by sign-up
                self.on_create(db, user_id)
            created = db.get(user_id)
            assert created is not None
            return created, True

        return self.database.run_mutation(write)

    def link(self, user_id: str, account: ProviderAccount, *, now_ms: int) -> None:
        """Link ``account`` to ``user_id`` (one mutation); linking it again only refreshes its scope.

        Raises:
            AccountRefusedError: ``account_already_linked_to_different_user``, ``unable_to_link_account`` (the user
                is gone).
        """

        def write(db: DatabaseWriter) -> None:
            if db.normalize_id(USERS_TABLE, user_id) is None or db.get(user_id) is None:
                raise AccountRefusedError("unable_to_link_account")
            linked = self._by_provider_account(db, account.provider_id, account.account_id)
            if linked is None:
                self._insert_account(db, user_id, account, now_ms)
            elif linked["userId"] != user_id:
                raise AccountRefusedError("account_already_linked_to_different_user")
            elif account.scope:
                db.patch(str(linked["_id"]), {"scope": account.scope, "updatedAt": float(now_ms)})

        self.database.run_mutation(write)

    def accounts(self, user_id: str) -> list[Document]:
        """Every account of the user (credential and social), oldest first."""
        return self.database.run_query(lambda db: self._accounts_of(db, user_id))

    def unlink(self, user_id: str, account_row_id: str) -> None:
        """Delete one of the user's accounts by its row id, never the last one (one mutation).

        Raises:
            AccountRefusedError: ``FAILED_TO_UNLINK_LAST_ACCOUNT`` (checked first, as Better Auth),
                ``ACCOUNT_NOT_FOUND`` (no such account of this user).
        """

        def write(db: DatabaseWriter) -> None:
            rows = self._accounts_of(db, user_id)
            if len(rows) <= 1:
                raise AccountRefusedError("FAILED_TO_UNLINK_LAST_ACCOUNT")
            target = next((row for row in rows if row["_id"] == account_row_id), None)
            if target is None:
                raise AccountRefusedError("ACCOUNT_NOT_FOUND")
            db.delete(account_row_id)

        self.database.run_mutation(write)

    def delete(self, user_id: str) -> None:
        """Delete the user and all its accounts, between ``on_delete`` and ``after_delete`` (one mutation)."""
        self.database.run_mutation(lambda db: self.delete_in(db, user_id))

    def delete_in(self, db: DatabaseWriter, user_id: str) -> None:
        """:meth:`delete` inside the caller's mutation (an emailed deletion link is used up in the same one)."""
        if self.on_delete is not None:
            self.on_delete(db, user_id)
        accounts = self._accounts_of(db, user_id)
        for account in accounts:
            db.delete(str(account["_id"]))
        user = db.get(user_id)
        if user is None:
            return
        db.delete(user_id)
        if self.after_delete is not None:
            self.after_delete(db, user)
