"""Sessions: get-session, sign-out, list-sessions and the three revoke endpoints.

Better Auth's answers, documented in docs/auth.md ("Endpoints"). Handlers take the service and the request's
:class:`~authlib_core.auth.service._Call`; :class:`~authlib_core.auth.service.AuthService` registers ``ROUTES``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from authlib_core.auth.shapes import session_json, user_json
from authlib_core.auth.tokens import is_session_id, parse_token, token_matches
from authlib_core.auth.transport import APIError, AuthHttpResponse
from authlib_core.auth.validation import parse_body

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.auth.service import AuthService, _Call

__all__ = ["ROUTES"]

logger = logging.getLogger("authlib_core.auth")


def get_session(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``{session, user}``, or ``null`` when signed out; refreshes a session that is due (sliding expiry)."""
    headers = {"cache-control": "no-store", "pragma": "no-cache"}
    current = service._resolve(call)
    if current is None:
        response = AuthHttpResponse(200, None, headers)
        if call.token is not None and call.token[0] is not None:
            # As Better Auth: a token of this server that names no live session is cleared; a cookie that fails the
            # signature check (another app's on this host, an old secret's) is left alone, and the answer is null.
            response.set_cookies = service._clear_cookies(call)
        return response
    record = current.record
    user = service.users.get(record.user_id)
    if user is None:  # the user was deleted: the session dies with it
        service.sessions.delete_for_user(record.user_id)
        return AuthHttpResponse(200, None, headers, service._clear_cookies(call))
    response = AuthHttpResponse(200, None, headers)
    now = service._now()
    disable_refresh = call.request.query.get("disableRefresh") == "true"
    new_expiry = min(now + service.settings.expires_in * 1000, record.absolute_expires_at)
    due = now - record.updated_at >= service.settings.update_age * 1000 and new_expiry > record.expires_at
    if due and not record.dont_remember and not disable_refresh:
        refreshed = service.sessions.refresh(record.user_id, record.session_id, expires_at=new_expiry, updated_at=now)
        if refreshed is None:  # deleted meanwhile
            raise APIError(
                401, "FAILED_TO_GET_SESSION", "Failed to get session", set_cookies=service._clear_cookies(call)
            )
        record = refreshed
        service._set_session(call, response, current.token, record)
    response.body = {"session": session_json(record), "user": user_json(user)}
    return response


def post_get_session(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``405 METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED``, as Better Auth without ``deferSessionRefresh``."""
    raise APIError(
        405,
        "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
        "POST method requires deferSessionRefresh to be enabled in session config",
    )


def sign_out(service: AuthService, call: _Call) -> AuthHttpResponse:
    """Ends the presented session; always ``{"success": true}`` with the cookies cleared."""
    service.origins.check(call.request, login_form=False)
    current = service._resolve(call)
    if current is not None:
        service.sessions.delete(current.record.user_id, current.record.session_id)
        logger.info("signed out user=%s session=%s", current.record.user_id, current.record.session_id)
    return AuthHttpResponse(200, {"success": True}, set_cookies=service._clear_cookies(call))


def list_sessions(service: AuthService, call: _Call) -> AuthHttpResponse:
    """The user's live sessions (handles, never tokens); a fresh session is required."""
    current = service._require(call)
    if not service._is_fresh(current.record):
        raise APIError(403, "SESSION_NOT_FRESH", "Session is not fresh")
    records = service.sessions.list_for_user(current.record.user_id)
    return AuthHttpResponse(200, [session_json(record) for record in records])


def revoke_session(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``{token}`` (a handle or a raw token) → ``{"status": true}``, whether or not it was the caller's."""
    service.origins.check(call.request, login_form=False)
    body = parse_body(call.request, allow_form=False, required=True)
    target = body.required_string("token")
    current = service._require(call)
    user_id = current.record.user_id
    session_id: str | None = None
    parsed = parse_token(target)
    if parsed is not None and parsed.user_id == user_id:
        record = service.sessions.get(user_id, parsed.session_id)
        if record is not None and token_matches(target, record.token_hash):
            session_id = record.session_id
    elif is_session_id(target):
        session_id = target  # a handle: only ever looked up in the caller's own partition
    response = AuthHttpResponse(200, {"status": True})
    if session_id is not None:
        service.sessions.delete(user_id, session_id)
        logger.info("session revoked user=%s session=%s", user_id, session_id)
        if session_id == current.record.session_id:
            response.set_cookies = service._clear_cookies(call)
    return response


def revoke_sessions(service: AuthService, call: _Call) -> AuthHttpResponse:
    """Ends every session of the user, this one too."""
    service.origins.check(call.request, login_form=False)
    current = service._require(call)
    count = service.sessions.delete_for_user(current.record.user_id)
    logger.info("all sessions revoked user=%s count=%d", current.record.user_id, count)
    return AuthHttpResponse(200, {"status": True}, set_cookies=service._clear_cookies(call))


def revoke_other_sessions(service: AuthService, call: _Call) -> AuthHttpResponse:
    """Ends every session of the user but this one."""
    service.origins.check(call.request, login_form=False)
    current = service._require(call)
    count = service.sessions.delete_for_user(current.record.user_id, keep=current.record.session_id)
    logger.info("other sessions revoked user=%s count=%d", current.record.user_id, count)
    return AuthHttpResponse(200, {"status": True})


ROUTES: Final[dict[tuple[str, str], Callable[[AuthService, _Call], AuthHttpResponse]]] = {
    ("GET", "/get-session"): get_session,
    ("POST", "/get-session"): post_get_session,
    ("POST", "/sign-out"): sign_out,
    ("GET", "/list-sessions"): list_sessions,
    ("POST", "/revoke-session"): revoke_session,
    ("POST", "/revoke-sessions"): revoke_sessions,
    ("POST", "/revoke-other-sessions"): revoke_other_sessions,
}
