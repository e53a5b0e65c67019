"""Email and password: ``POST /sign-up/email`` and ``POST /sign-in/email``.

Better Auth's answers, documented in docs/auth.md ("Endpoints"). Handlers take the service and the request's
:class:`~authlib_core.auth.service._Call`; :class:`~authlib_core.auth.service.AuthService` registers ``ROUTES``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from authlib_core.auth import email_verification
from authlib_core.auth.shapes import MAX_IMAGE, MAX_NAME, user_json
from authlib_core.auth.transport import APIError, AuthHttpResponse
from authlib_core.auth.users import UserExistsError
from authlib_core.auth.validation import is_valid_email, normalize_email, validation_error

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.auth.service import AuthService, _Call
    from authlib_core.values import JSONValue

__all__ = ["ROUTES"]

logger = logging.getLogger("authlib_core.auth")


def sign_up(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``{name, email, password, image?, rememberMe?, callbackURL?}`` → ``{token, user}`` and the session cookie."""
    path = "/sign-up/email"
    body, (name, raw_email, password) = service.open_request(
        call, path, ("name", "email", "password"), login=True, allow_form=True
    )
    image = body.string("image", optional=True, nullable=True)
    remember = body.boolean("rememberMe")
    callback = service._callback(call, body)
    email = normalize_email(raw_email)
    if not is_valid_email(email):
        raise validation_error("email", "Invalid email address")
    if len(name) > MAX_NAME or (image is not None and len(image) > MAX_IMAGE):
        raise validation_error("name" if len(name) > MAX_NAME else "image", "Too big")
    service._check_password_length(password)
    service._before_password(call, path, email)
    password_hash = service.hasher.hash(password)
    try:
        user = service.users.create(
            name=name, email=email, password_hash=password_hash, image=image, now_ms=service._now()
        )
    except UserExistsError:
        service._password_failed(call, path, email)
        raise APIError(
            422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email."
        ) from None
    logger.info("user signed up user=%s", user["_id"])
    if service.settings.sends_verification_on_sign_up and service.tokens is not None:
        email_verification.send_verification(service, call, user, callback)
    if service.settings.require_email_verification:  # Better Auth: no session until the address is verified
        return AuthHttpResponse(200, {"token": None, "user": user_json(user)})
    token, record = service._create_session(call, user, dont_remember=remember is False)
    response = AuthHttpResponse(200, {"token": token, "user": user_json(user)})
    service._set_session(call, response, token, record)
    return response


def sign_in(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``{email, password, rememberMe?, callbackURL?}`` → ``{redirect, token, url?, user}`` and the session cookie."""
    path = "/sign-in/email"
    body, (raw_email, password) = service.open_request(call, path, ("email", "password"), login=True, allow_form=True)
    remember = body.boolean("rememberMe")
    callback = service._callback(call, body)
    email = normalize_email(raw_email)
    if not is_valid_email(email):
        raise APIError(400, "INVALID_EMAIL", "Invalid email")
    service._check_password_length(password, check_min=False)
    service._before_password(call, path, email)
    user, account = service.users.find_for_sign_in(email)
    stored = None if account is None else account.get("password")
    if user is None or not isinstance(stored, str):
        service.hasher.burn(password)  # same cost as a real verification
        service._password_failed(call, path, email)  # counted alike: the limits reveal no account
        logger.info("sign-in failed")
        raise APIError(401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
    if not service.hasher.verify(stored, password):
        service._password_failed(call, path, email)
        logger.info("sign-in failed user=%s", user["_id"])
        raise APIError(401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
    user_id = str(user["_id"])
    if service.settings.require_email_verification and user.get("emailVerified") is not True:
        logger.info("sign-in refused: email not verified user=%s", user_id)
        raise APIError(403, "EMAIL_NOT_VERIFIED", "Email not verified")
    if service.hasher.needs_rehash(stored):
        upgraded = service.users.set_password(
            user_id, new_hash=service.hasher.hash(password), expected_hash=stored, now_ms=service._now()
        )
        if upgraded:
            logger.info("password hash upgraded to argon2id user=%s", user_id)
    previous = service._resolve(call)
    if previous is not None:  # a new sign-in replaces the session the browser held
        service.sessions.delete(previous.record.user_id, previous.record.session_id)
    token, record = service._create_session(call, user, dont_remember=remember is False)
    out: dict[str, JSONValue] = {"redirect": callback is not None, "token": token}
    if callback is not None:
        out["url"] = callback
    out["user"] = user_json(user)
    response = AuthHttpResponse(200, out)
    if callback is not None:
        response.headers["Location"] = callback
    service._set_session(call, response, token, record)
    logger.info("signed in user=%s session=%s", user_id, record.session_id)
    return response


ROUTES: Final[dict[tuple[str, str], Callable[[AuthService, _Call], AuthHttpResponse]]] = {
    ("POST", "/sign-up/email"): sign_up,
    ("POST", "/sign-in/email"): sign_in,
}
