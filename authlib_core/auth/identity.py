"""Who is calling: ``ctx.auth``, :class:`UserIdentity` and :func:`get_auth_user_id`.

The functions layer hands every context an object satisfying :class:`Auth`. The HTTP layer builds one from the
session cookie or bearer token; tests and the CLI use :class:`StaticAuth` (a fixed identity) or :class:`NoAuth`.

Example:
    >>> from authlib_core.auth import StaticAuth, UserIdentity, get_auth_user_id
    >>> class Ctx:
    ...     auth = StaticAuth(UserIdentity(subject="u1", token_identifier="authlib|u1", issuer="authlib"))
    >>> get_auth_user_id(Ctx())
    'u1'
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

    from authlib_core.values import Value

__all__ = ["Auth", "HasAuth", "NoAuth", "ProvisionalAuth", "StaticAuth", "UserIdentity", "get_auth_user_id"]


@dataclasses.dataclass(frozen=True, slots=True)
class UserIdentity:
    """The signed-in user, as ``ctx.auth.get_user_identity()`` returns it (Convex's ``UserIdentity``).

    ``subject`` is the user's id (an id of the ``users`` table); ``token_identifier`` is ``"<issuer>|<subject>"``
    by Convex's convention and is unique across issuers.

    Example:
        >>> UserIdentity(subject="u1", token_identifier="https://x|u1", issuer="https://x", email="a@b.c").to_json()
        {'subject': 'u1', 'tokenIdentifier': 'https://x|u1', 'issuer': 'https://x', 'email': 'a@b.c'}

    Common mistake: storing ``email`` as the owner of a document. Emails change; store ``subject`` (what
    :func:`get_auth_user_id` returns).
    """

    subject: str
    token_identifier: str
    issuer: str
    email: str | None = None
    name: str | None = None
    email_verified: bool | None = None
    session_id: str | None = None
    extra: Mapping[str, Value] = dataclasses.field(default_factory=dict)
    #: True for an identity from an external provider's JWT (``functions/auth_config.py``): ``subject`` is that
    #: provider's user id, not one of this app's ``users``, so :func:`get_auth_user_id` returns ``None``.
    #: Not part of :meth:`to_json`.
    external: bool = False

    def to_json(self) -> dict[str, Value]:
        """The identity with Convex's camelCase keys; unset optional fields are left out, ``extra`` is merged in."""
        out: dict[str, Value] = dict(self.extra)
        out.update({"subject": self.subject, "tokenIdentifier": self.token_identifier, "issuer": self.issuer})
        optional: dict[str, Value] = {
            "email": self.email,
            "name": self.name,
            "emailVerified": self.email_verified,
            "sessionId": self.session_id,
        }
        out.update({key: value for key, value in optional.items() if value is not None})
        return out


class Auth(Protocol):
    """``ctx.auth``: tells a function who is calling.

    Example:
        >>> from authlib_core import query
        >>> @query
        ... def whoami(ctx):
        ...     identity = ctx.auth.get_user_identity()
        ...     return None if identity is None else identity.email
    """

    def get_user_identity(self) -> UserIdentity | None:
        """The caller's identity, or ``None`` when the request carries no valid session."""
        ...


class ProvisionalAuth(Protocol):
    """A ``ctx.auth`` that may answer before the session is read, and says afterwards whether it answered right.

    When this Lambda instance has recently confirmed the presented session, ``get_user_identity()`` answers at once
    with that identity while the session is read again in the background; :meth:`settle` waits for that read. The
    executor runs queries and mutations with it and lets nothing out of the run — result, error, writes, printed
    lines — before ``settle()`` returned ``None``; otherwise it discards the run and runs the function again with
    the ``Auth`` that ``settle()`` returned (docs/performance.md, "Round trips on AWS").

    Example:
        >>> auth = request_auth.speculative()  # doctest: +SKIP
        >>> auth.get_user_identity().subject   # doctest: +SKIP
        'u1'
        >>> auth.settle() is None              # the session read confirmed u1  # doctest: +SKIP
        True
    """

    def get_user_identity(self) -> UserIdentity | None:
        """The caller's identity: the remembered one while the confirming read is under way, else the real one."""
        ...

    def settle(self) -> Auth | None:
        """Wait for the confirming read. ``None`` when every identity answered was the caller's (or none was
        answered from memory); else the ``Auth`` to run the function again with (the real identity, or a fresh
        lookup when the read failed)."""
        ...


class HasAuth(Protocol):
    """Anything with an ``auth`` attribute: every function context (query, mutation and action)."""

    @property
    def auth(self) -> Auth: ...


@dataclasses.dataclass(frozen=True, slots=True)
class NoAuth:
    """An :class:`Auth` for anonymous calls: ``get_user_identity()`` is always ``None``."""

    def get_user_identity(self) -> UserIdentity | None:
        """Always ``None``."""
        return None


@dataclasses.dataclass(frozen=True, slots=True)
class StaticAuth:
    """An :class:`Auth` with a fixed identity (tests, ``authlib-core run --identity``).

    Example:
        >>> StaticAuth(UserIdentity("u1", "authlib|u1", "authlib")).get_user_identity().subject
        'u1'
    """

    identity: UserIdentity | None

    def get_user_identity(self) -> UserIdentity | None:
        """The identity given at construction."""
        return self.identity


def get_auth_user_id(ctx: HasAuth) -> str | None:
    """The signed-in user's id (``identity.subject``), or ``None`` when the call is anonymous.

    It names a user of this app's own sign-in (a ``users`` document). A caller identified by an external
    provider's JWT (``functions/auth_config.py``) gets ``None`` here: read ``ctx.auth.get_user_identity()`` and
    map its ``token_identifier`` to your own users (docs/auth.md, "Identity from external JWTs").

    Example:
        >>> from authlib_core import ConvexError, get_auth_user_id, query
        >>> @query
        ... def mine(ctx):
        ...     user_id = get_auth_user_id(ctx)
        ...     if user_id is None:
        ...         raise ConvexError("Not authenticated")
        ...     return user_id

    Common mistake: treating ``None`` as a valid owner and querying with it. Check for ``None`` first and raise
    a :class:`~authlib_core.errors.ConvexError` the client can act on.
    """
    identity = ctx.auth.get_user_identity()
    return None if identity is None or identity.external else identity.subject
