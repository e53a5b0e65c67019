"""``AuthService``: Better Auth's ``/api/auth/*`` endpoints and the per-request ``ctx.auth``.

One entry point for HTTP, :meth:`AuthService.handle` (framework-neutral: see :mod:`~authlib_core.auth.transport`),
and one for function calls, :meth:`AuthService.auth_for`. Both read a session the same way:

1. take the token from ``Authorization: Bearer`` (signed ``token.sig`` or raw) or the signed session cookie;
2. verify the cookie signature (any configured secret) — a bad one ends here, **without reading any store**;
3. read the session once, by ``(userId, sessionId)`` from the token (one consistent ``GetItem`` on DynamoDB);
4. compare ``SHA-256(token)`` with the stored hash in constant time; check the idle and absolute expiry.

Nothing here logs a token, a cookie or a password.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import logging
import math
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from authlib_core.auth import change_email, email_verification, password_reset
from authlib_core.auth.cookies import (
    CookieNames,
    encode_uri_component,
    expire_cookie,
    parse_cookie_header,
    serialize_cookie,
    sign,
    unsign,
)
from authlib_core.auth.identity import UserIdentity
from authlib_core.auth.links import checked_callback
from authlib_core.auth.origin import OriginPolicy, origin_of
from authlib_core.auth.passwords import PasswordHasher, js_length
from authlib_core.auth.redirects import header_value, redirect_target
from authlib_core.auth.throttle import Throttle
from authlib_core.auth.tokens import (
    hash_token,
    is_session_id,
    new_session_id,
    new_session_token,
    parse_token,
    token_matches,
)
from authlib_core.auth.transport import APIError, AuthHttpRequest, AuthHttpResponse
from authlib_core.auth.users import UserExistsError, UserRepository
from authlib_core.auth.validation import Body, is_valid_email, normalize_email, parse_body, validation_error
from authlib_core.auth.verification import TokenService
from authlib_core.config import is_loopback_url
from authlib_core.database.sessions import RateLimitStore, SessionRecord, SessionStore
from authlib_core.errors import ConfigError, ConflictError, StorageUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.config import AuthSettings
    from authlib_core.database import Database
    from authlib_core.mail import MailSender, MailTemplates
    from authlib_core.values import JSONValue

__all__ = ["COOKIE_IGNORED_REASONS", "AuthService", "RequestAuth"]

#: ``X-Authlib-Auth-Ignored`` values: why a session cookie on a state-changing call was not used (Better Auth's
#: origin check, as on ``/api/auth/*``). The same text for every caller; it names the rule, not the session.
COOKIE_IGNORED_REASONS = {
    "MISSING_OR_NULL_ORIGIN": (
        "session cookie ignored: a cookie-authenticated POST needs an Origin header naming this server or a trusted "
        "origin; send Origin, or authenticate with Authorization: Bearer <token>"
    ),
    "INVALID_ORIGIN": (
        "session cookie ignored: the Origin header is not this server or a trusted origin (AUTHLIB_TRUSTED_ORIGINS); "
        "add the origin there, or authenticate with Authorization: Bearer <token>"
    ),
}

logger = logging.getLogger("authlib_core.auth")

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_USER_AGENT = 512
_MAX_NAME = 256
_MAX_IMAGE = 2048


def iso_ms(ms: float) -> str:
    """JavaScript's ``Date.prototype.toISOString()`` of an epoch-milliseconds value."""
    whole = math.floor(ms)
    moment = datetime.fromtimestamp(whole // 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{whole % 1000:03d}Z"


def user_json(user: dict[str, Any]) -> dict[str, JSONValue]:
    """Better Auth's public user object; ``image`` only when stored."""
    out: dict[str, JSONValue] = {
        "id": str(user["_id"]),
        "name": user.get("name", ""),
        "email": user.get("email", ""),
        "emailVerified": bool(user.get("emailVerified", False)),
    }
    if "image" in user:
        out["image"] = user["image"]
    out["createdAt"] = iso_ms(float(user["createdAt"]))
    out["updatedAt"] = iso_ms(float(user["updatedAt"]))
    return out


def session_json(record: SessionRecord) -> dict[str, JSONValue]:
    """Better Auth's public session object, with the session id (a handle) in place of the raw token."""
    return {
        "id": record.session_id,
        "token": record.session_id,
        "userId": record.user_id,
        "expiresAt": iso_ms(record.ends_at()),
        "createdAt": iso_ms(record.created_at),
        "updatedAt": iso_ms(record.updated_at),
        "ipAddress": record.ip_address,
        "userAgent": record.user_agent,
    }


@dataclasses.dataclass(slots=True)
class _Current:
    """The session a request presented, once verified."""

    token: str
    record: SessionRecord
    via_cookie: bool


def _has_verification(database: Database) -> bool:
    from authlib_core.auth.tables import VERIFICATION_TABLE

    schema = database.schema
    return schema is not None and VERIFICATION_TABLE in schema.tables


class _Call:
    """Per-request state of :meth:`AuthService.handle`: cookie names, the lazily resolved session, extra output."""

    def __init__(self, service: AuthService, request: AuthHttpRequest) -> None:
        self.request = request
        self.secure = (
            service.settings.secure_cookies if service.settings.secure_cookies is not None else request.is_https
        )
        self.names = CookieNames(service.settings.cookie_prefix, self.secure)
        self.cookies = dict(request.cookies) or parse_cookie_header(request.header("cookie") or "")
        self.resolved = False
        self.current: _Current | None = None
        self.presented = False  # a session cookie or bearer was sent (valid or not)
        self.token: tuple[str | None, bool] | None = None  # _presented_token's answer, verified once per request
        self.param = ""  # the path parameter of /reset-password/:token
        self.started = time.monotonic()


class AuthService:
    """Sessions, passwords and the auth endpoints over a document database and a session store.

    Build one per process and share it (it is thread-safe); the stores come from the engine in use.

    Example:
        >>> service = AuthService(settings.auth, database, session_store, rate_limit_store)  # doctest: +SKIP
        >>> response = service.handle(AuthHttpRequest("GET", "/ok", base_url="http://127.0.0.1:8787"))  # doctest: +SKIP
    """

    def __init__(
        self,
        settings: AuthSettings,
        database: Database,
        sessions: SessionStore,
        rate_limits: RateLimitStore,
        *,
        clock: Callable[[], float] = time.time,
        hasher: PasswordHasher | None = None,
        mailer: MailSender | None = None,
        templates: MailTemplates | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.secrets:
            raise ConfigError(
                "AuthService needs at least one secret (AUTHLIB_SECRETS in production; the dev server creates one in "
                ".authlib/secret)."
            )
        self.settings = settings
        self.users = UserRepository(database)
        self.sessions = sessions
        self.rate_limits = rate_limits
        self.throttle = Throttle(settings, rate_limits)
        self.origins = OriginPolicy(settings.trusted_origins)
        self.hasher = hasher or PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        self._clock = clock
        self._sleep = sleep
        self.mailer = mailer
        if mailer is not None and templates is None:
            from authlib_core.mail import MailTemplates

            templates = MailTemplates()
        self.templates = templates
        # Emailed links need the ``verification`` table (in ``auth_tables``) and a mail sender.
        with_links = mailer is not None and _has_verification(database)
        self.tokens = TokenService(database, clock=clock) if with_links else None
        self._routes: dict[tuple[str, str], Callable[[_Call], AuthHttpResponse]] = {
            ("GET", "/ok"): self._ok,
            ("POST", "/sign-up/email"): self._sign_up,
            ("POST", "/sign-in/email"): self._sign_in,
            ("GET", "/get-session"): self._get_session,
            ("POST", "/get-session"): self._post_get_session,
            ("POST", "/sign-out"): self._sign_out,
            ("GET", "/list-sessions"): self._list_sessions,
            ("POST", "/revoke-session"): self._revoke_session,
            ("POST", "/revoke-sessions"): self._revoke_sessions,
            ("POST", "/revoke-other-sessions"): self._revoke_other_sessions,
            ("POST", "/update-user"): self._update_user,
            ("POST", "/change-password"): self._change_password,
            ("POST", "/delete-user"): self._delete_user,
        }
        for module in (password_reset, email_verification, change_email):
            for key, handler in module.ROUTES.items():
                self._routes[key] = functools.partial(handler, self)

    # ------------------------------------------------------------------ entry points

    def handle(self, request: AuthHttpRequest) -> AuthHttpResponse:
        """Answer one ``/api/auth/*`` request (``request.path`` is the part after ``/api/auth``)."""
        method = request.method.upper()
        path = "/" + request.path.strip("/")
        route = self._routes.get(("GET" if method == "HEAD" else method, path))
        param = ""
        if route is None and method in ("GET", "HEAD") and path.startswith(password_reset.LINK_PREFIX):
            route, param = self._routes[("GET", password_reset.LINK_PREFIX)], path[len(password_reset.LINK_PREFIX) :]
        if route is None:
            return AuthHttpResponse(404, body_is_empty=True)
        call = _Call(self, request)
        call.param = param
        try:
            response = route(call)
            for name, value in response.headers.items():
                header_value(name, value)
            return response
        except APIError as error:
            return error.to_response()
        except (ConflictError, StorageUnavailableError) as error:
            logger.warning("auth %s %s: storage unavailable (%s): %s", method, path, error.code, error.detail)
            return AuthHttpResponse(503, {"message": error.message, "code": error.code})
        except Exception:
            logger.exception("auth %s %s failed", method, path)
            return AuthHttpResponse(500, {"message": "Internal Server Error", "code": "INTERNAL_SERVER_ERROR"})

    def auth_for(self, request: AuthHttpRequest) -> RequestAuth:
        """A lazy ``ctx.auth`` for the function calls of one request: at most one session read, however many calls."""
        return RequestAuth(self, request)

    # ------------------------------------------------------------------ sessions

    def _now(self) -> int:
        return int(self._clock() * 1000)

    def _presented_token(self, call: _Call) -> tuple[str | None, bool]:
        """``(token, via_cookie)`` from the bearer header or the signed cookie, verified without any store read."""
        if call.token is None:
            call.token = self._verify_presented_token(call)
        return call.token

    def _verify_presented_token(self, call: _Call) -> tuple[str | None, bool]:
        authorization = call.request.header("authorization")
        if authorization is not None and authorization[:7].lower() == "bearer ":
            value = authorization[7:].strip()
            call.presented = True
            token = unsign(value, self.settings.secrets)
            if token is None:
                raw = unquote(value)
                token = raw if parse_token(raw) is not None else None
            return token, False
        raw_cookie = call.cookies.get(call.names.session_token)
        if raw_cookie is None:
            return None, False
        call.presented = True
        return unsign(raw_cookie, self.settings.secrets), True

    def _resolve(self, call: _Call) -> _Current | None:
        if call.resolved:
            return call.current
        call.resolved = True
        token, via_cookie = self._presented_token(call)
        parsed = None if token is None else parse_token(token)
        if token is None or parsed is None:
            return None
        record = self.sessions.get(parsed.user_id, parsed.session_id)
        if record is None or not token_matches(token, record.token_hash):
            return None
        if not record.is_live(self._now()):  # expired between the store's clock and ours: refused, not deleted
            return None  # (this runs for ctx.auth too, whose functions may only read sessions)
        call.current = _Current(token, record, via_cookie)
        return call.current

    def _require(self, call: _Call) -> _Current:
        current = self._resolve(call)
        if current is None:
            raise APIError(401, "UNAUTHORIZED", "Unauthorized")
        return current

    def _is_fresh(self, record: SessionRecord) -> bool:
        return self.settings.fresh_age == 0 or self._now() - record.created_at < self.settings.fresh_age * 1000

    def _client_ip(self, request: AuthHttpRequest) -> str:
        candidate = request.client_ip
        if self.settings.trust_forwarded_for:
            forwarded = [part.strip() for part in (request.header("x-forwarded-for") or "").split(",") if part.strip()]
            if forwarded:
                candidate = forwarded[-1]  # appended by the proxy we trust
        if not candidate:
            return ""
        try:
            return str(ipaddress.ip_address(candidate.strip()))
        except ValueError:
            return ""

    def _create_session(self, call: _Call, user: dict[str, Any], *, dont_remember: bool) -> tuple[str, SessionRecord]:
        now = self._now()
        user_id = str(user["_id"])
        session_id = new_session_id()
        token = new_session_token(user_id, session_id)
        settings = self.settings
        # rememberMe:false: a browser-session cookie, never refreshed, ending within dont_remember_lifetime (1 day)
        # and never later than the configured idle expiry or absolute lifetime.
        lifetime = min(settings.absolute_lifetime, settings.dont_remember_lifetime if dont_remember else 2**53)
        absolute = now + lifetime * 1000
        expires = min(now + settings.expires_in * 1000, absolute)
        record = SessionRecord(
            user_id=user_id,
            session_id=session_id,
            token_hash=hash_token(token),
            created_at=now,
            updated_at=now,
            expires_at=expires,
            absolute_expires_at=absolute,
            ip_address=self._client_ip(call.request),
            user_agent=(call.request.header("user-agent") or "")[:_MAX_USER_AGENT],
            dont_remember=dont_remember,
            email=str(user.get("email", "")),
            name=str(user.get("name", "")),
        )
        self.sessions.create(record)
        logger.info("session created user=%s session=%s", user_id, session_id)
        return token, record

    def _set_session(self, call: _Call, response: AuthHttpResponse, token: str, record: SessionRecord) -> None:
        """Set (or re-issue) the session cookie, the dont_remember cookie and the ``set-auth-token`` header."""
        secret = self.settings.secrets[0]
        max_age = None if record.dont_remember else max(0, -(-(record.ends_at() - self._now()) // 1000))
        signed = sign(token, secret)
        response.set_cookies.append(
            serialize_cookie(
                call.names.session_token, encode_uri_component(signed), max_age=max_age, secure=call.secure
            )
        )
        if record.dont_remember:
            response.set_cookies.append(
                serialize_cookie(
                    call.names.dont_remember,
                    encode_uri_component(sign("true", secret)),
                    max_age=None,
                    secure=call.secure,
                )
            )
        response.headers["set-auth-token"] = signed
        response.headers["Access-Control-Expose-Headers"] = "set-auth-token"

    def _clear_cookies(self, call: _Call) -> list[str]:
        names = call.names
        return [
            expire_cookie(name, secure=call.secure)
            for name in (names.session_token, names.session_data, names.dont_remember)
        ]

    def _ip_rate_limit(self, call: _Call, path: str) -> None:
        self.throttle.per_ip(self._client_ip(call.request), path)

    def _before_password(self, call: _Call, path: str, account: str) -> None:
        self.throttle.before_password(account, self._client_ip(call.request), path)

    def _password_failed(self, call: _Call, path: str, account: str) -> None:
        self.throttle.password_failed(account, self._client_ip(call.request), path)

    def _check_password_length(self, password: str, *, check_min: bool = True) -> None:
        length = js_length(password)
        if check_min and length < self.settings.min_password_length:
            raise APIError(400, "PASSWORD_TOO_SHORT", "Password too short")
        if length > self.settings.max_password_length:
            raise APIError(400, "PASSWORD_TOO_LONG", "Password too long")

    def _callback(self, call: _Call, body: Body) -> str | None:
        url = body.string("callbackURL", optional=True)
        return redirect_target(url, call.request, self.origins) if url else None

    # ------------------------------------------------------------------ emailed links (used by the flow modules)

    def link_base(self, call: _Call) -> str:
        """The origin emailed links point at: ``base_url``, else the request's own origin if it is this machine.

        A Host header is never trusted for a link (password-reset poisoning: a request with ``Host: evil.example``
        would mail the victim a link that hands the token to the attacker).

        Raises:
            APIError: 500 ``BASE_URL_NOT_CONFIGURED`` when neither applies.
        """
        if self.settings.base_url:
            return self.settings.base_url.rstrip("/")
        if is_loopback_url(call.request.base_url):
            return call.request.base_url.rstrip("/")
        logger.error("emailed link refused: AUTHLIB_BASE_URL is not set and the request is not from this machine")
        raise APIError(
            500,
            "BASE_URL_NOT_CONFIGURED",
            "This server cannot build emailed links: set AUTHLIB_BASE_URL to its public URL.",
        )

    def send_mail(self, kind: str, *, to: str, url: str, name: str, new_email: str = "") -> None:
        """Render and send one message; a failure is logged, never shown to the caller (it would tell who exists)."""
        assert self.mailer is not None
        assert self.templates is not None
        try:
            self.mailer.send(self.templates.render(kind, to=to, url=url, name=name, new_email=new_email))
        except Exception as error:
            logger.error("sending the %s mail failed: %s", kind, type(error).__name__)

    def pad(self, call: _Call) -> None:
        """Wait until ``enumeration_floor`` seconds have passed since the request began (equal answer times)."""
        remaining = self.settings.enumeration_floor - (time.monotonic() - call.started)
        if remaining > 0:
            self._sleep(remaining)

    def email_request(
        self, call: _Call, path: str, *, field: str = "email", url_field: str = "callbackURL"
    ) -> tuple[str, str | None]:
        """The common start of the emailed-link POSTs: rate limit, origin check, then ``(email, checked URL)``.

        Raises:
            APIError: 429, 403 (origin, or a ``url_field`` on another site), 400 (body, email).
        """
        self._ip_rate_limit(call, path)
        self.origins.check(call.request, login_form=False)
        body = parse_body(call.request, allow_form=False, required=True)
        email = normalize_email(body.required_string(field))
        code = "INVALID_REDIRECT_URL" if url_field == "redirectTo" else "INVALID_CALLBACK_URL"
        url = checked_callback(body.string(url_field, optional=True), call.request, self.origins, code=code)
        if not is_valid_email(email):
            raise validation_error(field, "Invalid email address")
        return email, url

    def before_token_use(self, call: _Call, path: str) -> None:
        """Rate limits on every use of an emailed token, as on sign-in: per address, and per address's failures."""
        self._ip_rate_limit(call, path)
        self._before_password(call, path, "emailed-token")

    def token_failed(self, call: _Call, path: str) -> None:
        """Count a failed token use against the address (five per window, then 429, as a wrong password)."""
        self._password_failed(call, path, "emailed-token")

    # ------------------------------------------------------------------ endpoints

    def _ok(self, call: _Call) -> AuthHttpResponse:
        return AuthHttpResponse(200, {"ok": True})

    def _sign_up(self, call: _Call) -> AuthHttpResponse:
        path = "/sign-up/email"
        self._ip_rate_limit(call, path)
        self.origins.check(call.request, login_form=True)
        body = parse_body(call.request, allow_form=True, required=True)
        name = body.required_string("name")
        raw_email = body.required_string("email")
        password = body.required_string("password")
        image = body.string("image", optional=True, nullable=True)
        remember = body.boolean("rememberMe")
        callback = self._callback(call, body)
        email = normalize_email(raw_email)
        if not is_valid_email(email):
            raise validation_error("email", "Invalid email address")
        if len(name) > _MAX_NAME or (image is not None and len(image) > _MAX_IMAGE):
            raise validation_error("name" if len(name) > _MAX_NAME else "image", "Too big")
        self._check_password_length(password)
        self._before_password(call, path, email)
        password_hash = self.hasher.hash(password)
        try:
            user = self.users.create(
                name=name, email=email, password_hash=password_hash, image=image, now_ms=self._now()
            )
        except UserExistsError:
            self._password_failed(call, path, email)
            raise APIError(
                422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email."
            ) from None
        logger.info("user signed up user=%s", user["_id"])
        if self.settings.sends_verification_on_sign_up and self.tokens is not None:
            email_verification.send_verification(self, call, user, callback)
        if self.settings.require_email_verification:  # Better Auth: no session until the address is verified
            return AuthHttpResponse(200, {"token": None, "user": user_json(user)})
        token, record = self._create_session(call, user, dont_remember=remember is False)
        response = AuthHttpResponse(200, {"token": token, "user": user_json(user)})
        self._set_session(call, response, token, record)
        return response

    def _sign_in(self, call: _Call) -> AuthHttpResponse:
        path = "/sign-in/email"
        self._ip_rate_limit(call, path)
        self.origins.check(call.request, login_form=True)
        body = parse_body(call.request, allow_form=True, required=True)
        raw_email = body.required_string("email")
        password = body.required_string("password")
        remember = body.boolean("rememberMe")
        callback = self._callback(call, body)
        email = normalize_email(raw_email)
        if not is_valid_email(email):
            raise APIError(400, "INVALID_EMAIL", "Invalid email")
        self._check_password_length(password, check_min=False)
        self._before_password(call, path, email)
        user, account = self.users.find_for_sign_in(email)
        stored = None if account is None else account.get("password")
        if user is None or not isinstance(stored, str):
            self.hasher.burn(password)  # same cost as a real verification
            self._password_failed(call, path, email)  # counted alike: the limits reveal no account
            logger.info("sign-in failed")
            raise APIError(401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
        if not self.hasher.verify(stored, password):
            self._password_failed(call, path, email)
            logger.info("sign-in failed user=%s", user["_id"])
            raise APIError(401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
        user_id = str(user["_id"])
        if self.settings.require_email_verification and user.get("emailVerified") is not True:
            logger.info("sign-in refused: email not verified user=%s", user_id)
            raise APIError(403, "EMAIL_NOT_VERIFIED", "Email not verified")
        if self.hasher.needs_rehash(stored):
            upgraded = self.users.set_password(
                user_id, new_hash=self.hasher.hash(password), expected_hash=stored, now_ms=self._now()
            )
            if upgraded:
                logger.info("password hash upgraded to argon2id user=%s", user_id)
        previous = self._resolve(call)
        if previous is not None:  # a new sign-in replaces the session the browser held
            self.sessions.delete(previous.record.user_id, previous.record.session_id)
        token, record = self._create_session(call, user, dont_remember=remember is False)
        out: dict[str, JSONValue] = {"redirect": callback is not None, "token": token}
        if callback is not None:
            out["url"] = callback
        out["user"] = user_json(user)
        response = AuthHttpResponse(200, out)
        if callback is not None:
            response.headers["Location"] = callback
        self._set_session(call, response, token, record)
        logger.info("signed in user=%s session=%s", user_id, record.session_id)
        return response

    def _get_session(self, call: _Call) -> AuthHttpResponse:
        headers = {"cache-control": "no-store", "pragma": "no-cache"}
        current = self._resolve(call)
        if current is None:
            response = AuthHttpResponse(200, None, headers)
            if call.presented:
                response.set_cookies = self._clear_cookies(call)
            return response
        record = current.record
        user = self.users.get(record.user_id)
        if user is None:  # the user was deleted: the session dies with it
            self.sessions.delete_for_user(record.user_id)
            return AuthHttpResponse(200, None, headers, self._clear_cookies(call))
        response = AuthHttpResponse(200, None, headers)
        now = self._now()
        disable_refresh = call.request.query.get("disableRefresh") == "true"
        new_expiry = min(now + self.settings.expires_in * 1000, record.absolute_expires_at)
        due = now - record.updated_at >= self.settings.update_age * 1000 and new_expiry > record.expires_at
        if due and not record.dont_remember and not disable_refresh:
            refreshed = self.sessions.refresh(record.user_id, record.session_id, expires_at=new_expiry, updated_at=now)
            if refreshed is None:  # deleted meanwhile
                raise APIError(
                    401, "FAILED_TO_GET_SESSION", "Failed to get session", set_cookies=self._clear_cookies(call)
                )
            record = refreshed
            self._set_session(call, response, current.token, record)
        response.body = {"session": session_json(record), "user": user_json(user)}
        return response

    def _post_get_session(self, call: _Call) -> AuthHttpResponse:
        raise APIError(
            405,
            "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
            "POST method requires deferSessionRefresh to be enabled in session config",
        )

    def _sign_out(self, call: _Call) -> AuthHttpResponse:
        self.origins.check(call.request, login_form=False)
        current = self._resolve(call)
        if current is not None:
            self.sessions.delete(current.record.user_id, current.record.session_id)
            logger.info("signed out user=%s session=%s", current.record.user_id, current.record.session_id)
        return AuthHttpResponse(200, {"success": True}, set_cookies=self._clear_cookies(call))

    def _list_sessions(self, call: _Call) -> AuthHttpResponse:
        current = self._require(call)
        if not self._is_fresh(current.record):
            raise APIError(403, "SESSION_NOT_FRESH", "Session is not fresh")
        records = self.sessions.list_for_user(current.record.user_id)
        return AuthHttpResponse(200, [session_json(record) for record in records])

    def _revoke_session(self, call: _Call) -> AuthHttpResponse:
        self.origins.check(call.request, login_form=False)
        body = parse_body(call.request, allow_form=False, required=True)
        target = body.required_string("token")
        current = self._require(call)
        user_id = current.record.user_id
        session_id: str | None = None
        parsed = parse_token(target)
        if parsed is not None and parsed.user_id == user_id:
            record = self.sessions.get(user_id, parsed.session_id)
            if record is not None and token_matches(target, record.token_hash):
                session_id = record.session_id
        elif is_session_id(target):
            session_id = target  # a handle: only ever looked up in the caller's own partition
        response = AuthHttpResponse(200, {"status": True})
        if session_id is not None:
            self.sessions.delete(user_id, session_id)
            logger.info("session revoked user=%s session=%s", user_id, session_id)
            if session_id == current.record.session_id:
                response.set_cookies = self._clear_cookies(call)
        return response

    def _revoke_sessions(self, call: _Call) -> AuthHttpResponse:
        self.origins.check(call.request, login_form=False)
        current = self._require(call)
        count = self.sessions.delete_for_user(current.record.user_id)
        logger.info("all sessions revoked user=%s count=%d", current.record.user_id, count)
        return AuthHttpResponse(200, {"status": True}, set_cookies=self._clear_cookies(call))

    def _revoke_other_sessions(self, call: _Call) -> AuthHttpResponse:
        self.origins.check(call.request, login_form=False)
        current = self._require(call)
        count = self.sessions.delete_for_user(current.record.user_id, keep=current.record.session_id)
        logger.info("other sessions revoked user=%s count=%d", current.record.user_id, count)
        return AuthHttpResponse(200, {"status": True})

    def _update_user(self, call: _Call) -> AuthHttpResponse:
        self.origins.check(call.request, login_form=False)
        body = parse_body(call.request, allow_form=False, required=True)
        current = self._require(call)
        if "email" in body:
            raise APIError(400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
        fields: dict[str, Any] = {}
        name = body.string("name", optional=True)
        if name is not None:
            if len(name) > _MAX_NAME:
                raise validation_error("name", "Too big")
            fields["name"] = name
        if "image" in body:
            image = body.string("image", optional=True, nullable=True)
            if image is not None and len(image) > _MAX_IMAGE:
                raise validation_error("image", "Too big")
            fields["image"] = image
        if not fields:
            raise APIError(400, None, "No fields to update")
        user = self.users.update(current.record.user_id, fields, now_ms=self._now())
        if user is None:
            raise APIError(401, "UNAUTHORIZED", "Unauthorized")
        self.sessions.update_user_snapshot(
            current.record.user_id, email=str(user.get("email", "")), name=str(user.get("name", ""))
        )
        response = AuthHttpResponse(200, {"status": True})
        self._set_session(call, response, current.token, current.record)
        return response

    def _change_password(self, call: _Call) -> AuthHttpResponse:
        path = "/change-password"
        self._ip_rate_limit(call, path)
        self.origins.check(call.request, login_form=False)
        body = parse_body(call.request, allow_form=False, required=True)
        new_password = body.required_string("newPassword")
        current_password = body.required_string("currentPassword")
        revoke_others = body.boolean("revokeOtherSessions")
        current = self._require(call)
        user_id = current.record.user_id
        self._check_password_length(new_password)
        self._before_password(call, path, f"user:{user_id}")
        account = self.users.credential(user_id)
        stored = None if account is None else account.get("password")
        if not isinstance(stored, str):
            raise APIError(400, "CREDENTIAL_ACCOUNT_NOT_FOUND", "Credential account not found")
        if not self.hasher.verify(stored, current_password):
            self._password_failed(call, path, f"user:{user_id}")
            raise APIError(400, "INVALID_PASSWORD", "Invalid password")
        if not self.users.set_password(
            user_id, new_hash=self.hasher.hash(new_password), expected_hash=stored, now_ms=self._now()
        ):
            raise APIError(409, "CONFLICT", "The password was changed by another request; try again.")
        user = self.users.get(user_id)
        if user is None:
            raise APIError(401, "UNAUTHORIZED", "Unauthorized")
        response = AuthHttpResponse(200, None)
        new_token: str | None = None
        if revoke_others is True:
            # Better Auth: every session (this one too) ends and a new one starts.
            self.sessions.delete_for_user(user_id)
            new_token, record = self._create_session(call, user, dont_remember=current.record.dont_remember)
            self._set_session(call, response, new_token, record)
        elif revoke_others is None and self.settings.revoke_other_sessions_on_password_change:
            self.sessions.delete_for_user(user_id, keep=current.record.session_id)
        logger.info("password changed user=%s", user_id)
        response.body = {"token": new_token, "user": user_json(user)}
        return response

    def _delete_user(self, call: _Call) -> AuthHttpResponse:
        if not self.settings.delete_user_enabled:
            return AuthHttpResponse(404, body_is_empty=True)
        self.origins.check(call.request, login_form=False)
        body = parse_body(call.request, allow_form=False, required=False)
        password = body.string("password", optional=True)
        body.string("token", optional=True)
        self._callback(call, body)
        current = self._require(call)
        user_id = current.record.user_id
        if password is not None:
            self._ip_rate_limit(call, "/delete-user")
            self._before_password(call, "/delete-user", f"user:{user_id}")
            account = self.users.credential(user_id)
            stored = None if account is None else account.get("password")
            if not isinstance(stored, str):
                raise APIError(400, "CREDENTIAL_ACCOUNT_NOT_FOUND", "Credential account not found")
            if not self.hasher.verify(stored, password):
                self._password_failed(call, "/delete-user", f"user:{user_id}")
                raise APIError(400, "INVALID_PASSWORD", "Invalid password")
        elif not self._is_fresh(current.record):
            raise APIError(400, "SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action.")
        self.users.delete(user_id)
        self.sessions.delete_for_user(user_id)
        logger.info("user deleted user=%s", user_id)
        return AuthHttpResponse(
            200, {"success": True, "message": "User deleted"}, set_cookies=self._clear_cookies(call)
        )

    # ------------------------------------------------------------------ ctx.auth

    def _identity(self, request: AuthHttpRequest) -> tuple[UserIdentity | None, str | None]:
        """The caller's identity, and why a session cookie that was sent was ignored (None when it was not)."""
        call = _Call(self, request)
        token, via_cookie = self._presented_token(call)
        if token is None:
            return None, None
        if via_cookie and request.method.upper() not in _SAFE_METHODS:
            try:  # a cookie-authenticated state change must come from a trusted origin (CSRF)
                self.origins.validate_origin(request)
            except APIError as refused:
                logger.warning("cookie ignored: request from an untrusted origin")
                return None, COOKIE_IGNORED_REASONS[refused.code or ""]
        current = self._resolve(call)
        if current is None:
            return None, None
        record = current.record
        issuer = origin_of(request.base_url) or request.base_url.rstrip("/")
        identity = UserIdentity(
            subject=record.user_id,
            token_identifier=f"{issuer}|{record.user_id}",
            issuer=issuer,
            email=record.email or None,
            name=record.name or None,
            session_id=record.session_id,
        )
        return identity, None


class RequestAuth:
    """``ctx.auth`` for one request: resolves the session on first use, then answers from memory (thread-safe)."""

    __slots__ = ("_identity", "_ignored", "_lock", "_request", "_resolved", "_service")

    def __init__(self, service: AuthService, request: AuthHttpRequest) -> None:
        self._service = service
        self._request = request
        self._lock = threading.Lock()
        self._resolved = False
        self._identity: UserIdentity | None = None
        self._ignored: str | None = None

    def get_user_identity(self) -> UserIdentity | None:
        """The caller's identity, or None (no session, a bad signature, a revoked or expired session)."""
        with self._lock:
            if not self._resolved:
                self._identity, self._ignored = self._service._identity(self._request)
                self._resolved = True
            return self._identity

    @property
    def ignored_reason(self) -> str | None:
        """Why the session cookie was not used (the origin check), once the identity was asked for; else None.

        The HTTP layer sends it as the ``X-Authlib-Auth-Ignored`` response header. It states the rule the request
        broke, never anything about the session.
        """
        return self._ignored
