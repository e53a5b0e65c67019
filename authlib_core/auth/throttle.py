"""Rate limits on the password endpoints, shaped so that nobody can use them to lock the owner out.

Two rules (docs/auth.md, "Rate limits", has the reasoning and the settings):

1. **Per address** (Better Auth's rule): every request to sign-in, sign-up, change-password and a password
   delete-user counts against the client address (IPv6: its /64) and path: ``ip_rate_limit`` per
   ``ip_rate_window`` seconds.
2. **Per account, failures only** (OWASP Authentication and Credential Stuffing cheat sheets): a wrong password
   (or, on sign-up, an email already taken) counts against the pair *account + address* and against the account
   alone. An address with ``account_rate_limit`` failures on an account within ``account_rate_window`` gets 429 for
   that account until the window ends; other addresses are not affected, so a third party cannot deny the owner.
   When the account as a whole reaches ``account_global_limit`` failures in the window (a distributed attack), it
   is in *lockdown*: every address that has failed on it waits for the window to end, and an address that has
   not failed gets one attempt — so the owner, signing in from their own address, still gets in with the right
   password, while an attacker gets one guess per fresh address per window.

Unknown and known emails are counted alike, so the limits reveal nothing about which accounts exist. Counters live
in the engine's :class:`~authlib_core.database.sessions.RateLimitStore` (shared by every process and Lambda
instance); an account is keyed by a hash of its email or user id, never the value itself.

Example:
    >>> throttle = Throttle(settings, rate_limit_store)  # doctest: +SKIP
    >>> throttle.before_password("ada@example.com", "203.0.113.7", "/sign-in/email")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from typing import TYPE_CHECKING, Final

from authlib_core.auth.transport import APIError

if TYPE_CHECKING:
    from authlib_core.config import AuthSettings
    from authlib_core.database.sessions import RateLimitStore

__all__ = ["TOO_MANY", "Throttle"]

logger = logging.getLogger("authlib_core.auth")

TOO_MANY: Final = "Too many requests. Please try again later."
_COUNT_ONLY: Final = 2**31 - 1  # failure counters only count; the decision is taken by ``before_password``


def _too_many(retry_after: int) -> APIError:
    return APIError(429, None, TOO_MANY, headers={"X-Retry-After": str(retry_after)})


def address_bucket(ip: str) -> str:
    """The bucket an address counts in: itself, or its /64 for IPv6 (one host usually holds a whole /64)."""
    if ":" in ip:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return ip or "unknown"


class Throttle:
    """The two rules over one rate-limit store; every method is a no-op when ``settings.rate_limit_enabled`` is off."""

    def __init__(self, settings: AuthSettings, store: RateLimitStore) -> None:
        self.settings = settings
        self.store = store

    def per_ip(self, ip: str, path: str) -> None:
        """Count this request against its address and path.

        Raises:
            APIError: 429 with ``X-Retry-After`` when the address is over the limit.
        """
        settings = self.settings
        if not settings.rate_limit_enabled:
            return
        allowed, retry_after = self.store.hit(
            f"ip:{address_bucket(ip)}|{path}", settings.ip_rate_window, settings.ip_rate_limit
        )
        if not allowed:
            logger.info("rate limited ip on %s", path)
            raise _too_many(retry_after)

    def _keys(self, account: str, ip: str, path: str) -> tuple[str, str]:
        digest = hashlib.sha256(account.encode("utf-8")).hexdigest()[:32]
        return f"fail:{digest}|{path}|{address_bucket(ip)}", f"fail:{digest}|{path}"

    def before_password(self, account: str, ip: str, path: str) -> None:
        """Refuse, before any password is verified, an address that has failed too often on ``account``.

        Raises:
            APIError: 429 with ``X-Retry-After``.
        """
        settings = self.settings
        if not settings.rate_limit_enabled:
            return
        pair_key, account_key = self._keys(account, ip, path)
        window = settings.account_rate_window
        failures, retry_after = self.store.peek(pair_key, window)
        if failures >= settings.account_rate_limit:
            logger.info("rate limited account and address on %s", path)
            raise _too_many(retry_after)
        if failures == 0:
            return  # a clean address always gets its attempt; the work depends on its own history, not the account's
        total, total_retry = self.store.peek(account_key, window)
        if total >= settings.account_global_limit:
            logger.info("rate limited account in lockdown on %s", path)
            raise _too_many(min(retry_after, total_retry))

    def mail_allowed(self, recipient: str, ip: str) -> bool:
        """Count one emailed link to ``recipient`` asked for from ``ip``; False past either limit of the window.

        Two budgets per ``account_rate_window``, as for passwords: ``account_rate_limit`` links to one recipient asked
        from one address, and ``account_global_limit`` to one recipient in all. So one requester cannot flood an
        inbox, and cannot use up the recipient's links either: the owner asking from their own address still gets
        one until requests from many addresses have spent the recipient's whole budget. Past a limit the link is
        not sent and the caller gets the same answer as always (the limit reveals nothing). Always True with rate
        limits off.
        """
        settings = self.settings
        if not settings.rate_limit_enabled:
            return True
        digest = hashlib.sha256(recipient.encode("utf-8")).hexdigest()[:32]
        pair = f"mail:{digest}|{address_bucket(ip)}"
        sent, _ = self.store.peek(pair, settings.account_rate_window)
        if sent >= settings.account_rate_limit:
            logger.info("emailed link not sent: this address asked for enough links to the recipient in this window")
            return False
        allowed, _ = self.store.hit(f"mail:{digest}", settings.account_rate_window, settings.account_global_limit)
        if not allowed:
            logger.info("emailed link not sent: the recipient had enough for this window")
            return False
        self.store.hit(pair, settings.account_rate_window, _COUNT_ONLY)
        return True

    def password_failed(self, account: str, ip: str, path: str) -> None:
        """Count one failure against ``account`` + address and against ``account``."""
        settings = self.settings
        if not settings.rate_limit_enabled:
            return
        for key in self._keys(account, ip, path):
            self.store.hit(key, settings.account_rate_window, _COUNT_ONLY)
