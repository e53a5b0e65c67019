"""Where the dev server's defaults differ from Lambda's, and the start-up line that says so.

Auth rate limits are **off** on the dev server unless ``AUTHLIB_RATE_LIMIT`` is set (as Better Auth switches them
off outside production): a frontend test suite signs in far more often than a person. On Lambda they are on.

Example:
    >>> from authlib_core.config import Settings
    >>> describe_rate_limits(with_dev_defaults(Settings()))
    'auth rate limits: off (the dev server default; AUTHLIB_RATE_LIMIT=on turns them on)'
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from authlib_core.config import Settings
    from authlib_core.runtime import Runtime

__all__ = ["describe_rate_limits", "describe_social", "with_dev_defaults"]


def with_dev_defaults(settings: Settings) -> Settings:
    """``settings`` with what the environment left open decided for local development."""
    if settings.rate_limit_enabled is None:
        return dataclasses.replace(settings, rate_limit_enabled=False)
    return settings


def describe_rate_limits(settings: Settings) -> str:
    """One line for the dev server's banner: are auth rate limits on, and with which numbers."""
    if settings.rate_limit_enabled is False:
        return "auth rate limits: off (the dev server default; AUTHLIB_RATE_LIMIT=on turns them on)"
    return (
        f"auth rate limits: on ({settings.rate_limit_ip_max} requests per {settings.rate_limit_ip_window} s per "
        f"address; {settings.rate_limit_account_max} failed passwords per account and address, "
        f"{settings.rate_limit_account_global_max} per account, per {settings.rate_limit_account_window} s)"
    )


def describe_social(runtime: Runtime | None, url: str) -> str | None:
    """The banner line for ``auth_config.py``'s sign-in providers (None without any): the redirect URIs to register.

    Example:
        >>> describe_social(None, "http://127.0.0.1:3210") is None
        True
    """
    social = None if runtime is None or runtime.auth is None else runtime.auth.social
    if not social:
        return None
    usable = {provider.id for provider in social.usable()}
    names = [p.id if p.id in usable else f"{p.id} (no client secret)" for p in social.declared()]
    return (
        f"social sign-in: {', '.join(names)}; register {url}/api/auth/callback/<id> as the redirect URI at each "
        "provider (AUTHLIB_BASE_URL when deployed)"
    )
