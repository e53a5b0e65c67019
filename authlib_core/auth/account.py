"""The signed-in account: ``POST /update-user``, ``POST /change-password`` (deletion: :mod:`.deletion`).

Better Auth's answers, documented in docs/auth.md ("Endpoints"). Handlers take the service and the request's
:class:`~authlib_core.auth.service._Call`; :class:`~authlib_core.auth.service.AuthService` registers ``ROUTES``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from authlib_core.auth.shapes import MAX_IMAGE, MAX_NAME, user_json
from authlib_core.auth.transport import APIError, AuthHttpResponse
from authlib_core.auth.validation import parse_body, validation_error

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.auth.service import AuthService, _Call

__all__ = ["ROUTES"]

logger = logging.getLogger("authlib_core.auth")


def update_user(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``{name?, image?}`` → ``{"status": true}``; the session snapshots follow."""
    service.origins.check(call.request, login_form=False)
    body = parse_body(call.request, allow_form=False, required=True)
    current = service._require(call)
    if "email" in body:
        raise APIError(400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
    fields: dict[str, Any] = {}
    name = body.string("name", optional=True)
    if name is not None:
        if len(name) > MAX_NAME:
            raise validation_error("name", "Too big")
        fields["name"] = name
    if "image" in body:
        image = body.string("image", optional=True, nullable=True)
        if image is not None and len(image) > MAX_IMAGE:
            raise validation_error("image", "Too big")
        fields["image"] = image
    if not fields:
        raise APIError(400, None, "No fields to update")
    user = service.users.update(current.record.user_id, fields, now_ms=service._now())
    if user is None:
        raise APIError(401, "UNAUTHORIZED", "Unauthorized")
    service.sessions.update_user_snapshot(
        current.record.user_id, email=str(user.get("email", "")), name=str(user.get("name", ""))
    )
    response = AuthHttpResponse(200, {"status": True})
    service._set_session(call, response, current.token, current.record)
    return response


def change_password(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``{currentPassword, newPassword, revokeOtherSessions?}`` → ``{token, user}``."""
    path = "/change-password"
    service._ip_rate_limit(call, path)
    service.origins.check(call.request, login_form=False)
    body = parse_body(call.request, allow_form=False, required=True)
    new_password = body.required_string("newPassword")
    current_password = body.required_string("currentPassword")
    revoke_others = body.boolean("revokeOtherSessions")
    current = service._require(call)
    user_id = current.record.user_id
    service._check_password_length(new_password)
    stored = service._verify_password(call, path, user_id, current_password)
    if not service.users.set_password(
        user_id, new_hash=service.hasher.hash(new_password), expected_hash=stored, now_ms=service._now()
    ):
        raise APIError(409, "CONFLICT", "The password was changed by another request; try again.")
    user = service.users.get(user_id)
    if user is None:
        raise APIError(401, "UNAUTHORIZED", "Unauthorized")
    response = AuthHttpResponse(200, None)
    new_token: str | None = None
    if revoke_others is True:
        # Better Auth: every session (this one too) ends and a new one starts.
        service.sessions.delete_for_user(user_id)
        new_token, record = service._create_session(call, user, dont_remember=current.record.dont_remember)
        service._set_session(call, response, new_token, record)
    elif revoke_others is None and service.settings.revoke_other_sessions_on_password_change:
        service.sessions.delete_for_user(user_id, keep=current.record.session_id)
    logger.info("password changed user=%s", user_id)
    response.body = {"token": new_token, "user": user_json(user)}
    return response


ROUTES: Final[dict[tuple[str, str], Callable[[AuthService, _Call], AuthHttpResponse]]] = {
    ("POST", "/update-user"): update_user,
    ("POST", "/change-password"): change_password,
}
