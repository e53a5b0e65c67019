"""Password reset: ``POST /request-password-reset``, ``GET /reset-password/:token``, ``POST /reset-password``.

Better Auth 1.7's shapes (docs/auth.md, "Password reset"), with these decisions:

* **No enumeration.** request-password-reset answers the same body, and takes at least ``enumeration_floor``
  seconds (0.5 s), whether or not the address has an account; mail failures are only logged.
* **The link's GET does not use the token up** (Better Auth's behaviour; mail scanners follow links): it redirects
  to ``callbackURL`` with ``token=`` when the token is live, else with ``error=INVALID_TOKEN``.
* **The POST uses it up in the mutation that sets the password** (creating the credential account if the user had
  none), so a storage failure leaves the link usable; and it **revokes every session** of the user, before that
  mutation and once more after it: whoever held the old password is signed out.
* Every token use (GET and POST), good or bad, counts against the address like a sign-in; a bad token counts as a
  failed password (:meth:`~authlib_core.auth.service.AuthService.before_token_use`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from authlib_core.auth.links import checked_callback, redirect, with_query
from authlib_core.auth.tables import USERS_TABLE
from authlib_core.auth.transport import APIError, AuthHttpResponse
from authlib_core.auth.validation import parse_body, validation_error
from authlib_core.errors import ConflictError, StorageUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from authlib_core.auth.service import AuthService, _Call
    from authlib_core.auth.verification import IssuedToken
    from authlib_core.database import DatabaseWriter

__all__ = ["LINK_PREFIX", "RESET_MESSAGE", "ROUTES"]

#: ``GET /reset-password/<token>``: the path prefix of the emailed link.
LINK_PREFIX: Final = "/reset-password/"
#: Better Auth's answer, identical for known and unknown addresses.
RESET_MESSAGE: Final = "If this email exists in our system, check your email for the reset link"
PURPOSE: Final = "reset-password"

logger = logging.getLogger("authlib_core.auth")


def _enabled(service: AuthService) -> None:
    if service.tokens is None:
        raise APIError(400, "RESET_PASSWORD_DISABLED", "Reset password isn't enabled")


def request_password_reset(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``{email, redirectTo?}`` → ``{status: true, message}``, the same for every address."""
    path = "/request-password-reset"
    _enabled(service)
    email, redirect_to = service.email_request(call, path, url_field="redirectTo")
    base = service.link_base(call)
    user = service.users.by_email(email)
    if user is not None and service.throttle.mail_allowed(email, service._client_ip(call.request)):
        assert service.tokens is not None
        token = service.tokens.issue(
            PURPOSE, user_id=str(user["_id"]), email=email, lifetime=service.settings.reset_token_expires_in
        )
        url = f"{base}/api/auth{LINK_PREFIX}{token}?callbackURL={quote(redirect_to or '', safe='')}"
        service.send_mail("reset-password", to=email, url=url, name=str(user.get("name", "")))
    service.pad(call)
    return AuthHttpResponse(200, {"status": True, "message": RESET_MESSAGE})


def reset_password_link(service: AuthService, call: _Call) -> AuthHttpResponse:
    """The emailed link: 302 to ``callbackURL`` with ``token=`` or ``error=INVALID_TOKEN``."""
    _enabled(service)
    token = call.param
    if "callbackURL" not in call.request.query:
        raise validation_error("callbackURL", "Invalid input: expected string, received undefined")
    callback = checked_callback(call.request.query["callbackURL"], call.request, service.origins)
    service.before_token_use(call, LINK_PREFIX)
    assert service.tokens is not None
    live = service.tokens.check(token, (PURPOSE,))
    if live is None or live.expired:
        service.token_failed(call, LINK_PREFIX)
    if callback is None:
        return redirect(with_query("/api/auth/error", {"error": "INVALID_TOKEN"}), call.request, service.origins)
    if live is None or live.expired:
        return redirect(with_query(callback, {"error": "INVALID_TOKEN"}), call.request, service.origins)
    return redirect(with_query(callback, {"token": token}), call.request, service.origins)


def reset_password(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``{newPassword, token?}`` (or ``?token=``) → ``{status: true}``; every session of the user ends."""
    path = "/reset-password"
    _enabled(service)
    service.origins.check(call.request, login_form=False)
    body = parse_body(call.request, allow_form=False, required=True)
    new_password = body.required_string("newPassword")
    token = body.string("token", optional=True) or call.request.query.get("token") or ""
    if not token:
        raise APIError(400, "INVALID_TOKEN", "Invalid token")
    service._check_password_length(new_password)
    service.before_token_use(call, path)
    tokens = service.tokens
    assert tokens is not None
    live = tokens.check(token, (PURPOSE,))
    if live is None or live.expired or not _mailed_to_current_address(service.users.get(live.user_id), live):
        service.token_failed(call, path)
        raise APIError(400, "INVALID_TOKEN", "Invalid token")
    new_hash = service.hasher.hash(new_password)  # before the mutation, which may run more than once
    # The sessions end first: if anything after this fails, the link still works and a retry completes the reset.
    service.sessions.delete_for_user(live.user_id)
    now = service._now()

    def set_password(db: DatabaseWriter, issued: IssuedToken) -> None:
        user = db.get(issued.user_id) if db.normalize_id(USERS_TABLE, issued.user_id) is not None else None
        if user is not None and not _mailed_to_current_address(user, issued):  # the address changed meanwhile
            raise APIError(400, "INVALID_TOKEN", "Invalid token")
        if not service.users.reset_password_in(db, issued.user_id, new_hash=new_hash, now_ms=now):
            raise APIError(400, "USER_NOT_FOUND", "User not found")

    # The token is used up in the mutation that sets the password: both commit, or neither.
    issued = tokens.consume(token, (PURPOSE,), set_password)
    if issued is None or issued.expired:  # another request used it meanwhile
        service.token_failed(call, path)
        raise APIError(400, "INVALID_TOKEN", "Invalid token")
    try:  # a session signed in with the old password between the two steps ends too
        service.sessions.delete_for_user(issued.user_id)
    except (ConflictError, StorageUnavailableError):
        logger.warning("password reset user=%s: the second session sweep failed", issued.user_id)
    logger.info("password reset user=%s", issued.user_id)
    return AuthHttpResponse(200, {"status": True})


def _mailed_to_current_address(user: Mapping[str, Any] | None, token: IssuedToken) -> bool:
    """Whether the reset link went to the address the account has now (a gone user is reported by the mutation).

    A link mailed before the account moved to another address must not reset it: whoever holds the old mailbox (the
    reason for the move, perhaps) would take the account back.
    """
    return user is None or user.get("email") == token.email


def error_page(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``GET /error?error=CODE``: where a link without a usable ``callbackURL`` ends; says what happened, as JSON."""
    code = call.request.query.get("error", "")
    if not code.isascii() or not code.replace("_", "").isalnum() or len(code) > 64:
        code = "UNKNOWN"
    return AuthHttpResponse(
        400, {"error": code, "message": "This link cannot be used. Ask the app for a new one.", "code": code}
    )


ROUTES: Final[dict[tuple[str, str], Callable[[AuthService, _Call], AuthHttpResponse]]] = {
    ("POST", "/request-password-reset"): request_password_reset,
    ("GET", LINK_PREFIX): reset_password_link,
    ("POST", "/reset-password"): reset_password,
    ("GET", "/error"): error_page,
}
