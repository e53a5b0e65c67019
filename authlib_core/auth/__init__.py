"""Authentication: who is calling (``ctx.auth``). Sessions and passwords live in this package too.

Example:
    >>> from authlib_core.auth import NoAuth
    >>> NoAuth().get_user_identity() is None
    True
"""

from __future__ import annotations

from authlib_core.auth.identity import Auth, HasAuth, NoAuth, StaticAuth, UserIdentity, get_auth_user_id

__all__ = ["Auth", "HasAuth", "NoAuth", "StaticAuth", "UserIdentity", "get_auth_user_id"]
