"""Email verification: ``POST /send-verification-email`` and ``GET /verify-email`` (also the end of change-email).

Better Auth 1.7's shapes (docs/auth.md, "Email verification"), with one deliberate difference: Better Auth's link
holds a JWT that stays usable until it expires; ours holds a random token from the shared
:class:`~authlib_core.auth.verification.TokenService`, stored hashed and **used up on the first visit**.

``/verify-email`` takes every kind of emailed verification token:

* ``verify-email``: the user's ``emailVerified`` becomes true (already true counts as success);
* ``change-email-confirmation`` (mailed to the *current* address): when ``require_email_verification`` is on, a
  ``change-email-verification`` link goes to the new address; otherwise the email changes now (unverified);
* ``change-email-verification`` (mailed to the *new* address): the email changes and is verified.

Failures redirect to ``callbackURL`` with ``error=<CODE>`` when one was given, else answer 401 ``{message, code}``;
codes are ``INVALID_TOKEN``, ``TOKEN_EXPIRED``, ``USER_NOT_FOUND`` and ``EMAIL_ALREADY_EXISTS`` (the new address
was taken meanwhile). Success redirects to ``callbackURL``, else answers ``{"status": true, "user": null}``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from authlib_core.auth.links import checked_callback, redirect, with_query
from authlib_core.auth.tables import USERS_TABLE
from authlib_core.auth.transport import APIError, AuthHttpResponse
from authlib_core.auth.validation import validation_error
from authlib_core.errors import ConflictError, StorageUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.auth.service import AuthService, _Call
    from authlib_core.auth.verification import IssuedToken
    from authlib_core.database import DatabaseWriter

__all__ = ["ROUTES", "send_verification"]

logger = logging.getLogger("authlib_core.auth")

_PURPOSES: Final = ("verify-email", "change-email-confirmation", "change-email-verification")


def _enabled(service: AuthService) -> None:
    if service.tokens is None:
        raise APIError(400, "VERIFICATION_EMAIL_NOT_ENABLED", "Verification email isn't enabled")


def verification_url(service: AuthService, call: _Call, token: str, callback: str | None) -> str:
    """The ``/verify-email`` link of ``token`` (Better Auth's shape: ``callbackURL`` defaults to ``/``)."""
    return (
        f"{service.link_base(call)}/api/auth/verify-email?token={token}&callbackURL={quote(callback or '/', safe='')}"
    )


def send_verification(
    service: AuthService,
    call: _Call,
    user: dict[str, Any],
    callback: str | None,
    *,
    purpose: str = "verify-email",
    to: str | None = None,
    new_email: str | None = None,
) -> None:
    """Mail ``user`` a ``/verify-email`` link for ``purpose`` (to ``to``, default the user's address).

    Nothing is sent (silently) past the per-recipient limit (:meth:`~authlib_core.auth.throttle.Throttle.mail_allowed`).
    """
    assert service.tokens is not None
    email = str(user.get("email", ""))
    if not service.throttle.mail_allowed(to or email, service._client_ip(call.request)):
        return
    token = service.tokens.issue(
        purpose,
        user_id=str(user["_id"]),
        email=email,
        new_email=new_email,
        lifetime=service.settings.verification_token_expires_in,
    )
    url = verification_url(service, call, token, callback)
    kind = "change-email-confirmation" if purpose == "change-email-confirmation" else "verify-email"
    service.send_mail(kind, to=to or email, url=url, name=str(user.get("name", "")), new_email=new_email or "")


def send_verification_email(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``{email, callbackURL?}`` → ``{status: true}``; with a session, refuses another address or a verified one."""
    path = "/send-verification-email"
    _enabled(service)
    email, callback = service.email_request(call, path)
    service.link_base(call)  # refuse before any work when links cannot be built
    current = service._resolve(call)
    if current is not None:
        user = service.users.get(current.record.user_id)
        if user is None:
            raise APIError(401, "UNAUTHORIZED", "Unauthorized")
        if user.get("email") != email:
            raise APIError(400, "EMAIL_MISMATCH", "Email mismatch")
        if user.get("emailVerified") is True:
            raise APIError(400, "EMAIL_ALREADY_VERIFIED", "Email is already verified")
        send_verification(service, call, user, callback)
        return AuthHttpResponse(200, {"status": True})
    user = service.users.by_email(email)
    if user is not None and user.get("emailVerified") is not True:
        send_verification(service, call, user, callback)
    service.pad(call)
    return AuthHttpResponse(200, {"status": True})


class _Refused(Exception):
    """Aborts the verifying mutation (the token stays, the user is unchanged) with a Better Auth error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclasses.dataclass(slots=True)
class _Outcome:
    """What the verifying mutation did, for the steps after its commit."""

    user: dict[str, Any] | None = None
    changed_to: str | None = None
    next_token: str | None = None


def _apply_in(service: AuthService, db: DatabaseWriter, issued: IssuedToken, out: _Outcome) -> None:
    """Carry out a live token in the mutation that uses it up; raise :class:`_Refused` to undo both."""
    users = service.users
    if db.normalize_id(USERS_TABLE, issued.user_id) is None or (user := db.get(issued.user_id)) is None:
        raise _Refused("USER_NOT_FOUND")
    if user.get("email") != issued.email:
        raise _Refused("INVALID_TOKEN")  # the address changed since the link was sent
    out.user = dict(user)
    now = service._now()
    if issued.purpose == "verify-email":
        users.mark_verified_in(db, issued.user_id, email=issued.email, now_ms=now)
        return
    new_email = issued.new_email or ""
    # The current mailbox approved the change: the new one must prove itself too (as Better Auth's two-step flow),
    # or an account could be moved onto an address its holder does not own, and keep its social logins there.
    if issued.purpose == "change-email-confirmation":
        assert service.tokens is not None
        out.next_token = service.tokens.issue_in(
            db,
            "change-email-verification",
            user_id=issued.user_id,
            email=issued.email,
            new_email=new_email,
            lifetime=service.settings.verification_token_expires_in,
        )
        return
    changed = users.change_email_in(
        db, issued.user_id, expected=issued.email, new_email=new_email, verified=True, now_ms=now
    )
    if changed is None:
        raise _Refused("EMAIL_ALREADY_EXISTS")
    out.changed_to = new_email


def _after_commit(service: AuthService, call: _Call, issued: IssuedToken, out: _Outcome, callback: str | None) -> None:
    """Mail the next link, or refresh the session snapshots; both are best effort once the change committed."""
    assert out.user is not None
    if out.next_token is not None:
        url = verification_url(service, call, out.next_token, callback)
        new_email = issued.new_email or ""
        service.send_mail("verify-email", to=new_email, url=url, name=str(out.user.get("name", "")))
        return
    if out.changed_to is not None:
        logger.info("email changed user=%s", issued.user_id)
        try:
            service.sessions.update_user_snapshot(
                issued.user_id, email=out.changed_to, name=str(out.user.get("name", ""))
            )
        except (ConflictError, StorageUnavailableError):
            logger.warning("email changed user=%s: the session snapshots keep the old address", issued.user_id)
        return
    logger.info("email verified user=%s", issued.user_id)


def verify_email(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``?token=&callbackURL=`` → 302 to ``callbackURL`` (``error=`` on failure), or JSON without one."""
    path = "/verify-email"
    _enabled(service)
    token = call.request.query.get("token")
    if token is None:
        raise validation_error("token", "Invalid input: expected string, received undefined")
    callback = checked_callback(call.request.query.get("callbackURL"), call.request, service.origins)
    service.before_token_use(call, path)
    service.link_base(call)  # refuse before any change when a follow-up link could not be built
    assert service.tokens is not None
    out = _Outcome()
    code: str | None = None
    try:
        issued = service.tokens.consume(token, _PURPOSES, lambda db, live: _apply_in(service, db, live, out))
    except _Refused as refused:
        issued, code = None, refused.code
    if code is None:
        if issued is None:
            code = "INVALID_TOKEN"
        elif issued.expired:
            code = "TOKEN_EXPIRED"
        else:
            _after_commit(service, call, issued, out, callback)
    if code in ("INVALID_TOKEN", "TOKEN_EXPIRED"):
        service.token_failed(call, path)
    if code is not None:
        if callback is not None:
            return redirect(with_query(callback, {"error": code}), call.request, service.origins)
        raise APIError(401, code, code.replace("_", " ").capitalize())
    if callback is not None:
        return redirect(callback, call.request, service.origins)
    return AuthHttpResponse(200, {"status": True, "user": None})


ROUTES: Final[dict[tuple[str, str], Callable[[AuthService, _Call], AuthHttpResponse]]] = {
    ("POST", "/send-verification-email"): send_verification_email,
    ("GET", "/verify-email"): verify_email,
}
