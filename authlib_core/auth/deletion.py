"""Deleting the signed-in account: ``POST /delete-user`` and the emailed link, ``GET /delete-user/callback``.

Better Auth 1.7.25's answers (``better-auth/dist/api/routes/update-user.mjs``; docs/auth.md, "Deleting accounts"):

* off (``delete_user_enabled`` false, the default): ``POST`` answers 404 with no body once signed in, the link
  404 ``NOT_FOUND``;
* ``POST {password?, token?, callbackURL?}``: a ``password`` is checked first (an empty one counts as none, as
  Better Auth's ``if (password)``); a ``token`` (from the emailed link) deletes at once; else, with
  ``delete_user_verification``, a ``delete-account`` link is mailed and the answer is
  ``{"success": true, "message": "Verification email sent"}``; else a fresh session (or the password) deletes;
* ``GET /delete-user/callback?token=&callbackURL=``: needs the session of the user the link was sent to (404
  ``FAILED_TO_GET_USER_INFO`` without one, so a mail scanner's visit changes nothing), uses the token up (404
  ``INVALID_TOKEN`` when unknown, used, expired or another user's), deletes, then redirects to ``callbackURL``
  (302) or answers ``{"success": true, "message": "User deleted"}``.

The token is used up in the mutation that deletes the user (with ``on_user_deleted`` and the
``after_user_deleted`` job): both commit, or neither, and the link still works after a failure. Sessions and their
cookies go right after the commit.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final
from urllib.parse import quote

from authlib_core.auth.links import checked_callback, redirect
from authlib_core.auth.transport import APIError, AuthHttpResponse
from authlib_core.auth.validation import parse_body
from authlib_core.errors import ConflictError, StorageUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.auth.service import AuthService, _Call, _Current
    from authlib_core.auth.verification import IssuedToken
    from authlib_core.database import DatabaseWriter

__all__ = ["CALLBACK_PATH", "DELETE_USER_DISABLED", "PURPOSE", "ROUTES"]

logger = logging.getLogger("authlib_core.auth")

#: The emailed link's route.
CALLBACK_PATH: Final = "/delete-user/callback"
#: The token purpose of a deletion link.
PURPOSE: Final = "delete-account"
#: Logged when deletion is asked for while it is off (the client sees only 404, as from Better Auth).
DELETE_USER_DISABLED: Final = (
    "POST /delete-user refused: it is off (the default). Turn it on with delete_user = True in "
    "functions/auth_config.py (or AUTHLIB_DELETE_USER=on) if users may delete their own account."
)
_NO_MAIL: Final = (
    "delete_user_verification is on, but this server sends no mail, so the confirmation link cannot be sent and "
    "nothing was deleted: set AUTHLIB_MAIL (ses or folder), or turn delete_user_verification off."
)


def _deleted() -> AuthHttpResponse:
    return AuthHttpResponse(200, {"success": True, "message": "User deleted"})


def delete_user(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``{password?, token?, callbackURL?}`` → ``{"success": true, "message": "User deleted"}`` (or
    ``"Verification email sent"``); see the module docstring for the order of the checks."""
    path = "/delete-user"
    service.origins.check(call.request, login_form=False)
    body = parse_body(call.request, allow_form=False, required=False)
    # Better Auth tests ``if (ctx.body.password)``: an empty string is no password, so freshness, the token or the
    # emailed link decide instead.
    password = body.string("password", optional=True) or None
    token = body.string("token", optional=True)
    callback = service._callback(call, body)
    current = service._require(call)
    if not service.settings.delete_user_enabled:
        # Better Auth's order: the body, then the session (401), then 404 with no body when it is off.
        logger.warning(DELETE_USER_DISABLED)
        return AuthHttpResponse(404, body_is_empty=True)
    user_id = current.record.user_id
    sends_link = service.settings.delete_user_verification
    if password is not None or token or sends_link:
        service._ip_rate_limit(call, path)
    if password is not None:
        service._check_password_length(password, check_min=False)
        service._verify_password(call, path, user_id, password)
    if token:
        service._before_password(call, path, "emailed-token")
        _delete_with_token(service, call, path, user_id, token)
        return _signed_out(service, call, user_id, _deleted(), link_used=True)
    if sends_link:
        _send_link(service, call, current, callback)
        return AuthHttpResponse(200, {"success": True, "message": "Verification email sent"})
    if password is None and not service._is_fresh(current.record):
        raise APIError(400, "SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action.")
    service.users.delete(user_id)
    return _signed_out(service, call, user_id, _deleted())


def delete_user_callback(service: AuthService, call: _Call) -> AuthHttpResponse:
    """The emailed link: deletes the signed-in user it was sent to, then 302 to ``callbackURL`` (or 200 JSON)."""
    if call.request.method.upper() == "HEAD":  # a link checker's HEAD must never delete an account
        return AuthHttpResponse(405, headers={"Allow": "GET"}, body_is_empty=True)
    query = call.request.query
    if "token" not in query:
        # zod's wording for a query field, as Better Auth answers
        raise APIError(400, "VALIDATION_ERROR", "[query.token] Invalid input: expected string, received undefined")
    callback = checked_callback(query.get("callbackURL"), call.request, service.origins)
    if not service.settings.delete_user_enabled:
        logger.warning(DELETE_USER_DISABLED)
        raise APIError(404, "NOT_FOUND", "Not found")
    current = service._resolve(call)
    if current is None:
        raise APIError(404, "FAILED_TO_GET_USER_INFO", "Failed to get user info")
    user_id = current.record.user_id
    service.before_token_use(call, CALLBACK_PATH)
    _delete_with_token(service, call, CALLBACK_PATH, user_id, query["token"])
    response = redirect(callback, call.request, service.origins) if callback else _deleted()
    return _signed_out(service, call, user_id, response, link_used=True)


def _send_link(service: AuthService, call: _Call, current: _Current, callback: str | None) -> None:
    """Mail the signed-in user a ``delete-account`` link (nothing past the per-recipient mail limit)."""
    tokens = service.tokens
    if tokens is None:
        logger.error(_NO_MAIL)
        raise APIError(500, "MAIL_NOT_CONFIGURED", _NO_MAIL)
    base = service.link_base(call)  # refuse before any work when links cannot be built
    user = service.users.get(current.record.user_id)
    if user is None:
        raise APIError(401, "UNAUTHORIZED", "Unauthorized")
    email = str(user.get("email", ""))
    if not service.throttle.mail_allowed(email, service._client_ip(call.request)):
        return
    token = tokens.issue(
        PURPOSE, user_id=current.record.user_id, email=email, lifetime=service.settings.delete_token_expires_in
    )
    url = f"{base}/api/auth{CALLBACK_PATH}?token={token}&callbackURL={quote(callback or '/', safe='')}"
    service.send_mail("delete-account", to=email, url=url, name=str(user.get("name", "")))
    logger.info("account deletion link sent user=%s", current.record.user_id)


def _delete_with_token(service: AuthService, call: _Call, path: str, user_id: str, token: str) -> None:
    """Use up ``token`` and delete ``user_id`` in one mutation.

    A token issued to another user is used up too and nothing is deleted (Better Auth's behaviour).

    Raises:
        APIError: 404 ``INVALID_TOKEN`` (unknown, used, expired, or another user's); counted as a failed token use.
    """
    other_user = False

    def delete(db: DatabaseWriter, issued: IssuedToken) -> None:
        nonlocal other_user
        other_user = issued.user_id != user_id
        if not other_user:
            service.users.delete_in(db, user_id)

    tokens = service.tokens or service.states  # a link sent before mail was turned off still works
    issued = None if tokens is None else tokens.consume(token, (PURPOSE,), delete)
    if issued is None or issued.expired or other_user:
        service.token_failed(call, path)
        raise APIError(404, "INVALID_TOKEN", "Invalid token")


def _signed_out(
    service: AuthService, call: _Call, user_id: str, response: AuthHttpResponse, *, link_used: bool = False
) -> AuthHttpResponse:
    """After the deletion committed: the user's sessions end and ``response`` clears the caller's cookies.

    When a link was used up (``link_used``) a failed session sweep cannot be retried by the client (the link is
    gone), so it is logged and the deletion is still reported; otherwise the error reaches the client (503), whose
    retry finds no user left to delete and sweeps again.
    """
    try:
        service.sessions.delete_for_user(user_id)
    except (ConflictError, StorageUnavailableError):
        if not link_used:
            raise
        logger.error("user deleted user=%s, but ending its sessions failed; they end when they expire", user_id)
    logger.info("user deleted user=%s", user_id)
    response.set_cookies.extend(service._clear_cookies(call))
    return response


ROUTES: Final[dict[tuple[str, str], Callable[[AuthService, _Call], AuthHttpResponse]]] = {
    ("POST", "/delete-user"): delete_user,
    ("GET", CALLBACK_PATH): delete_user_callback,
}
