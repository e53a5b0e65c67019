"""Authentication: who is calling (``ctx.auth``), and Better Auth's sessions, cookies and endpoints.

* :mod:`~authlib_core.auth.identity`: ``ctx.auth``, :class:`UserIdentity`, :func:`get_auth_user_id`.
* :class:`OIDCProvider`, :class:`CustomJWTProvider`: the identity providers of ``functions/auth_config.py``,
  whose JWTs become ``ctx.auth`` (:mod:`~authlib_core.auth.jwt_config`; docs/auth.md).
* :class:`GitHubSignIn`, :class:`OIDCSignIn`: the sign-in providers of ``functions/auth_config.py``'s
  ``social_providers`` (``POST /sign-in/social``; :mod:`~authlib_core.auth.social`).
* :data:`auth_tables`: the ``users``, ``authAccounts`` and ``verification`` tables to spread into your schema.
* :class:`AuthService`: ``/api/auth/*`` (:meth:`AuthService.handle`) and the per-request ``ctx.auth``
  (:meth:`AuthService.auth_for`), over the document database and a session store.
* One module per route group, each exporting ``ROUTES``: :mod:`~authlib_core.auth.sign_in`,
  :mod:`~authlib_core.auth.session_routes`, :mod:`~authlib_core.auth.account`,
  :mod:`~authlib_core.auth.password_reset`, :mod:`~authlib_core.auth.email_verification`,
  :mod:`~authlib_core.auth.change_email`, :mod:`~authlib_core.auth.social`; emailed links share
  :mod:`~authlib_core.auth.verification` (tokens)
  and :mod:`authlib_core.mail` (the sender).

Example:
    >>> from authlib_core.auth import NoAuth
    >>> NoAuth().get_user_identity() is None
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from authlib_core._lazy import lazy_attributes
from authlib_core.auth.identity import Auth, HasAuth, NoAuth, StaticAuth, UserIdentity, get_auth_user_id
from authlib_core.auth.tables import auth_tables

if TYPE_CHECKING:
    from authlib_core.auth.dev_secret import load_or_create_dev_secret
    from authlib_core.auth.jwt_config import CustomJWTProvider, OIDCProvider
    from authlib_core.auth.service import AuthService, RequestAuth
    from authlib_core.auth.social_config import GitHubSignIn, OIDCSignIn
    from authlib_core.auth.transport import AuthHttpRequest, AuthHttpResponse

__all__ = [
    "Auth",
    "AuthHttpRequest",
    "AuthHttpResponse",
    "AuthService",
    "CustomJWTProvider",
    "GitHubSignIn",
    "HasAuth",
    "NoAuth",
    "OIDCProvider",
    "OIDCSignIn",
    "RequestAuth",
    "StaticAuth",
    "UserIdentity",
    "auth_tables",
    "get_auth_user_id",
    "load_or_create_dev_secret",
]

_LAZY = {
    "AuthService": "authlib_core.auth.service",
    "RequestAuth": "authlib_core.auth.service",
    "AuthHttpRequest": "authlib_core.auth.transport",
    "AuthHttpResponse": "authlib_core.auth.transport",
    "load_or_create_dev_secret": "authlib_core.auth.dev_secret",
    # The provider declarations of functions/auth_config.py: loaded by the apps that declare providers.
    "CustomJWTProvider": "authlib_core.auth.jwt_config",
    "OIDCProvider": "authlib_core.auth.jwt_config",
    "GitHubSignIn": "authlib_core.auth.social_config",
    "OIDCSignIn": "authlib_core.auth.social_config",
}


# The service (and the database layer below it) loads only when a transport asks for it; user code that imports
# ``auth_tables`` or ``get_auth_user_id`` does not pay for it.
__getattr__ = lazy_attributes(__name__, _LAZY)
