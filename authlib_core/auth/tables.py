"""The document tables auth owns: ``users`` and ``authAccounts``. Spread them into your schema.

Example (``functions/schema.py``)::

    from authlib_core import define_schema, define_table, v
    from authlib_core.auth import auth_tables

    schema = define_schema({**auth_tables, "myData": define_table({...})})

Functions may read ``ctx.db.get(user_id)`` (fields ``name``, ``email``, ``emailVerified``, ``image``,
``createdAt``, ``updatedAt``, all times in float milliseconds). ``authAccounts`` holds one row per way a user signs
in (Better Auth's ``account`` table): ``providerId`` ``credential`` with the password hash in ``password``, or a
social provider's id with the provider's user id in ``accountId`` and the granted ``scope``; it should never be
returned to a client. ``verification`` holds the hashes of emailed-link
tokens (:mod:`authlib_core.auth.verification`); functions have no reason to read it.
"""

from __future__ import annotations

from authlib_core.schema import TableDefinition, define_table
from authlib_core.values import v

__all__ = ["ACCOUNTS_TABLE", "CREDENTIAL_PROVIDER", "USERS_TABLE", "VERIFICATION_TABLE", "auth_tables"]

USERS_TABLE = "users"
ACCOUNTS_TABLE = "authAccounts"
#: Emailed-link tokens (reset, verification, change email), hashed: Better Auth's ``verification`` table.
VERIFICATION_TABLE = "verification"
#: ``providerId`` of email-and-password accounts (Better Auth's name).
CREDENTIAL_PROVIDER = "credential"

auth_tables: dict[str, TableDefinition] = {
    USERS_TABLE: define_table(
        {
            "name": v.string(),
            "email": v.string(),
            "emailVerified": v.boolean(),
            "image": v.optional(v.union(v.string(), v.null())),
            "createdAt": v.float64(),
            "updatedAt": v.float64(),
        }
    ).index("by_email", ["email"]),
    ACCOUNTS_TABLE: define_table(
        {
            "userId": v.id(USERS_TABLE),
            "providerId": v.string(),
            "accountId": v.string(),
            "password": v.optional(v.string()),
            "scope": v.optional(v.string()),
            "createdAt": v.float64(),
            "updatedAt": v.float64(),
        }
    )
    .index("by_user_provider", ["userId", "providerId"])
    .index("by_provider_account", ["providerId", "accountId"]),
    VERIFICATION_TABLE: define_table(
        {
            "identifier": v.string(),
            "value": v.string(),
            "expiresAt": v.float64(),
            "createdAt": v.float64(),
            "updatedAt": v.float64(),
        }
    )
    .index("by_identifier", ["identifier"])
    .index("by_expiresAt", ["expiresAt"]),
}
