"""Change email: ``POST /change-email`` — a confirmation link to the **current** address first.

Whoever holds a session cannot move the account to their own address without the current mailbox, nor onto an
address they do not own: opening the link mailed to the current address (``/verify-email``) sends a second link to
the new address, and the email changes (verified) only when that one is opened, as Better Auth's two-step flow.
Better Auth's answers (docs/auth.md, "Change email"):

* 401 ``UNAUTHORIZED`` without a session; 400 ``CHANGE_EMAIL_DISABLED`` when ``change_email_enabled`` is off;
* 400 ``{"message": "Email is the same"}`` (no code); 400 ``{"message": "Verification email isn't enabled"}``
  without a mail sender;
* 200 ``{"status": true}`` otherwise — also, with nothing sent, when the new address already has an account (so the
  answer reveals nothing about other accounts).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from authlib_core.auth.email_verification import send_verification
from authlib_core.auth.transport import APIError, AuthHttpResponse

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.auth.service import AuthService, _Call

__all__ = ["ROUTES"]

logger = logging.getLogger("authlib_core.auth")


def change_email(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``{newEmail, callbackURL?}`` → ``{status: true}``; mails a confirmation link to the current address."""
    path = "/change-email"
    new_email, callback = service.email_request(call, path, field="newEmail")
    current = service._require(call)
    if not service.settings.change_email_enabled:
        raise APIError(400, "CHANGE_EMAIL_DISABLED", "Change email is disabled")
    user = service.users.get(current.record.user_id)
    if user is None:
        raise APIError(401, "UNAUTHORIZED", "Unauthorized")
    if user.get("email") == new_email:
        raise APIError(400, None, "Email is the same")
    if service.tokens is None:
        raise APIError(400, None, "Verification email isn't enabled")
    if service.users.by_email(new_email) is None:
        send_verification(service, call, user, callback, purpose="change-email-confirmation", new_email=new_email)
        logger.info("change-email confirmation sent user=%s", current.record.user_id)
    return AuthHttpResponse(200, {"status": True})


ROUTES: Final[dict[tuple[str, str], Callable[[AuthService, _Call], AuthHttpResponse]]] = {
    ("POST", "/change-email"): change_email,
}
