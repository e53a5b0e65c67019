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
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

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
from authlib_core.auth.origin import OriginPolicy, is_host, origin_of
from authlib_core.auth.passwords import PasswordHasher, js_length
from authlib_core.auth.redirects import header_value, redirect_target
from authlib_core.auth.remembered import RememberedSessions
from authlib_core.auth.throttle import Throttle
from authlib_core.auth.tokens import (
    hash_token,
    new_session_id,
    new_session_token,
    parse_token,
    token_matches,
)
from authlib_core.auth.transport import APIError, AuthHttpRequest, AuthHttpResponse
from authlib_core.auth.users import UserRepository
from authlib_core.auth.validation import Body, is_valid_email, normalize_email, parse_body, validation_error
from authlib_core.auth.verification import TokenService
from authlib_core.config import is_loopback_url
from authlib_core.database.deadline import carry
from authlib_core.database.sessions import RateLimitStore, SessionRecord, SessionStore
from authlib_core.errors import ConfigError, ConflictError, StorageUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from concurrent.futures import Future

    from authlib_core.auth.social_config import SocialProviders
    from authlib_core.config import AuthSettings
    from authlib_core.database import Database, DatabaseWriter
    from authlib_core.mail import MailSender, MailTemplates
    from authlib_core.values import Value

__all__ = ["BEARER_IGNORED_REASONS", "COOKIE_IGNORED_REASONS", "AuthService", "RequestAuth", "SpeculativeRequestAuth"]

#: ``X-Authlib-Auth-Ignored`` values for a session cookie the call ran without (anonymous, not an error): on a
#: state-changing call from an untrusted origin (Better Auth's origin check, as on ``/api/auth/*``), or a cookie that
#: names no session of this server. Fixed texts: they name the rule, never the cookie, the token or the session.
COOKIE_IGNORED_REASONS = {
    "MISSING_OR_NULL_ORIGIN": (
        "session cookie ignored: a cookie-authenticated POST needs an Origin header naming this server or a trusted "
        "origin; send Origin, or authenticate with Authorization: Bearer <token>"
    ),
    "INVALID_ORIGIN": (
        "session cookie ignored: the Origin header is not this server or a trusted origin (AUTHLIB_TRUSTED_ORIGINS); "
        "add the origin there, or authenticate with Authorization: Bearer <token>"
    ),
    "INVALID_TOKEN": (
        "session cookie ignored: it is not a session cookie of this server, nor one signed with its secret (cut "
        "short, altered, signed with a secret no longer in AUTHLIB_SECRETS, or set by another app on this host); "
        "sign in again"
    ),
    "NO_SESSION": (
        "session cookie ignored: no live session has this cookie's token (it expired, was revoked or signed out, or "
        "its user was deleted); sign in again"
    ),
}

#: ``X-Authlib-Auth-Ignored`` values for an ``Authorization: Bearer`` session token the call ran without (anonymous,
#: as Better Auth's bearer plugin: not an error). Fixed texts: they name the rule, never the token or the session.
BEARER_IGNORED_REASONS = {
    "INVALID_TOKEN": (
        "bearer token ignored: it is not a session token of this server, nor one signed with its secret (cut "
        "short, altered, signed with a secret no longer in AUTHLIB_SECRETS, or another kind of token); sign in and "
        "send the token from the set-auth-token header"
    ),
    "NO_SESSION": (
        "bearer token ignored: no live session has this token (it expired, was revoked or signed out, or its user "
        "was deleted); sign in again and send the new token"
    ),
}

logger = logging.getLogger("authlib_core.auth")

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Routes whose last path segment is a parameter (``call.param``).
_PARAM_ROUTES = ("/reset-password/", "/callback/")  # password_reset.LINK_PREFIX, social.CALLBACK_PREFIX
_MAX_USER_AGENT = 512
#: Threads that read sessions in the background for speculative calls (Lambda serves one request at a time).
_LOOKUP_THREADS = 4


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
    ``remember_sessions`` (0: off) is how many confirmed sessions this instance remembers so that a query or mutation
    presenting one of them runs while its session is read again (:meth:`RequestAuth.speculative`); worth it where a
    session read is a network round trip (DynamoDB), not on SQLite.

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
        on_user_created: Callable[[DatabaseWriter, str], object] | None = None,
        on_user_deleted: Callable[[DatabaseWriter, str], object] | None = None,
        after_user_deleted: Callable[[DatabaseWriter, Mapping[str, Value]], object] | None = None,
        social_providers: SocialProviders | None = None,
        remember_sessions: int = 0,
    ) -> None:
        if not settings.secrets:
            raise ConfigError(
                "AuthService needs at least one secret (AUTHLIB_SECRETS in production; the dev server creates one in "
                ".authlib/secret)."
            )
        self.settings = settings
        self.users = UserRepository(database, on_user_created, on_user_deleted, after_user_deleted)
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
        #: Sessions confirmed by this instance's lookups (``remember_sessions`` of them), which let a query or
        #: mutation start before its session read returns (:meth:`RequestAuth.speculative`); None when off.
        self.remembered = RememberedSessions(remember_sessions) if remember_sessions else None
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self.mailer = mailer
        if mailer is not None and templates is None:
            from authlib_core.mail import MailTemplates

            templates = MailTemplates()
        self.templates = templates
        # Emailed links need the ``verification`` table (in ``auth_tables``) and a mail sender.
        with_links = mailer is not None and _has_verification(database)
        self.tokens = TokenService(database, clock=clock) if with_links else None
        #: The pending social sign-ins (``state``), in the same table; social sign-in needs no mail.
        self.states = TokenService(database, clock=clock) if _has_verification(database) else None
        self._social = social_providers
        if social_providers and self.states is None:
            raise ConfigError(
                "functions/auth_config.py declares social_providers, but the schema has no verification table, where "
                "pending sign-ins are kept: spread auth_tables into the schema."
            )
        self._route_table: dict[tuple[str, str], Callable[[_Call], AuthHttpResponse]] | None = None

    @property
    def social(self) -> SocialProviders:
        """The configured sign-in providers by id (``functions/auth_config.py``'s ``social_providers``).

        Without any, an empty set built on first use: the functions of an app without social sign-in never load
        :mod:`~authlib_core.auth.social_config`.
        """
        if self._social is None:
            from authlib_core.auth.social_config import SocialProviders

            self._social = SocialProviders((), {}, allow_loopback_http=False)
        return self._social

    @property
    def _routes(self) -> dict[tuple[str, str], Callable[[_Call], AuthHttpResponse]]:
        """The ``/api/auth/*`` routes, built on the first :meth:`handle`: the route modules are imported then, so
        the functions that only read sessions (queries, mutations) do not load them (~13 ms of a cold start)."""
        table = self._route_table
        if table is None:
            from authlib_core.auth import (
                account,
                change_email,
                deletion,
                email_verification,
                password_reset,
                session_routes,
                sign_in,
                social,
            )

            table = {("GET", "/ok"): self._ok}
            for module in (
                sign_in,
                session_routes,
                account,
                deletion,
                password_reset,
                email_verification,
                change_email,
                social,
            ):
                for key, handler in module.ROUTES.items():
                    table[key] = functools.partial(handler, self)
            self._route_table = table  # built whole, then published: a racing thread builds an equal table
        return table

    # ------------------------------------------------------------------ entry points

    def handle(self, request: AuthHttpRequest) -> AuthHttpResponse:
        """Answer one ``/api/auth/*`` request (``request.path`` is the part after ``/api/auth``)."""
        method = request.method.upper()
        path = "/" + request.path.strip("/")
        method = "GET" if method == "HEAD" else method
        route = self._routes.get((method, path))
        param = ""
        for prefix in _PARAM_ROUTES:  # /reset-password/:token, /callback/:provider
            if route is None and path.startswith(prefix) and len(path) > len(prefix):
                route, param = self._routes.get((method, prefix)), path[len(prefix) :]
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
        if _sends_bearer(call.request):
            value = (call.request.header("authorization") or "")[7:].strip()
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
        record = None if token is None else self._session_of(token)
        if token is None or record is None:
            return None
        call.current = _Current(token, record, via_cookie)
        return call.current

    def _session_of(self, token: str) -> SessionRecord | None:
        """The live session ``token`` names (one consistent store read), or None; remembered when that is enabled."""
        parsed = parse_token(token)
        if parsed is None:
            return None
        record = self.sessions.get(parsed.user_id, parsed.session_id)
        if record is None or not token_matches(token, record.token_hash):
            record = None
        elif not record.is_live(self._now()):  # expired between the store's clock and ours: refused, not deleted
            record = None  # (this runs for ctx.auth too, whose functions may only read sessions)
        if self.remembered is not None:
            self.remembered.update(hash_token(token), record)
        return record

    def _remembered_session(self, token: str) -> SessionRecord | None:
        """The record this instance last confirmed for ``token``, while it lasts (no store read); else None."""
        if self.remembered is None or parse_token(token) is None:
            return None
        return self.remembered.get(hash_token(token), self._now())

    def _look_up_in_background(self, token: str) -> Future[SessionRecord | None]:
        """Start :meth:`_session_of` on the lookup thread pool, under the caller's time budget."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=_LOOKUP_THREADS, thread_name_prefix="authlib-session")
            pool = self._pool
        return pool.submit(carry(self._session_of), token)

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

    def _verify_password(self, call: _Call, path: str, user_id: str, password: str) -> str:
        """The stored hash of ``user_id``'s password once ``password`` matches it (rate limits before, failures
        counted).

        Raises:
            APIError: 429, 400 ``CREDENTIAL_ACCOUNT_NOT_FOUND`` (no password set), 400 ``INVALID_PASSWORD``.
        """
        self._before_password(call, path, f"user:{user_id}")
        account = self.users.credential(user_id)
        stored = None if account is None else account.get("password")
        if not isinstance(stored, str):
            raise APIError(400, "CREDENTIAL_ACCOUNT_NOT_FOUND", "Credential account not found")
        if not self.hasher.verify(stored, password):
            self._password_failed(call, path, f"user:{user_id}")
            raise APIError(400, "INVALID_PASSWORD", "Invalid password")
        return stored

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
        would mail the victim a link that hands the token to the attacker), nor one that only looks local to Python's
        URL parser (``localhost:@evil.example\\@localhost`` is ``evil.example`` to a browser): the request's origin
        counts only when its host is a plain ``host[:port]`` on this machine.

        Raises:
            APIError: 500 ``BASE_URL_NOT_CONFIGURED`` when neither applies.
        """
        if self.settings.base_url:
            return self.settings.base_url.rstrip("/")
        base = call.request.base_url.rstrip("/")
        scheme, _, host = base.partition("://")
        if scheme in ("http", "https") and is_host(host) and is_loopback_url(base):
            return base
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

    def open_request(
        self, call: _Call, path: str, fields: Sequence[str], *, login: bool = False, allow_form: bool = False
    ) -> tuple[Body, list[str]]:
        """The common start of the public POSTs: rate limit, origin check, body, then the required string ``fields``.

        ``login`` applies the login-CSRF rules to requests without cookies too (sign-up, sign-in, social sign-in);
        ``allow_form`` also accepts ``application/x-www-form-urlencoded`` bodies (Better Auth's sign-up and sign-in).

        Raises:
            APIError: 429, 403 (origin), 400 (body, a missing or non-string field, checked in ``fields`` order).
        """
        self._ip_rate_limit(call, path)
        self.origins.check(call.request, login_form=login)
        body = parse_body(call.request, allow_form=allow_form, required=True)
        return body, [body.required_string(field) for field in fields]

    def email_request(
        self, call: _Call, path: str, *, field: str = "email", url_field: str = "callbackURL"
    ) -> tuple[str, str | None]:
        """The common start of the emailed-link POSTs: rate limit, origin check, then ``(email, checked URL)``.

        Raises:
            APIError: 429, 403 (origin, or a ``url_field`` on another site), 400 (body, email).
        """
        body, (raw_email,) = self.open_request(call, path, (field,))
        email = normalize_email(raw_email)
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

    # ------------------------------------------------------------------ ctx.auth

    def _usable_token(self, request: AuthHttpRequest) -> tuple[str | None, str | None]:
        """``(token, ignored reason)``: the verified token a function call may use, checked without any store read."""
        call = _Call(self, request)
        token, via_cookie = self._presented_token(call)
        if token is None:
            if not call.presented:
                return None, None
            credential, reasons = _credential(via_cookie=via_cookie)
            logger.info("%s ignored: not a session token of this server", credential)
            return None, reasons["INVALID_TOKEN"]
        if via_cookie and request.method.upper() not in _SAFE_METHODS:
            try:  # a cookie-authenticated state change must come from a trusted origin (CSRF)
                self.origins.validate_origin(request)
            except APIError as refused:
                logger.warning("cookie ignored: request from an untrusted origin")
                return None, COOKIE_IGNORED_REASONS[refused.code or ""]
        return token, None

    def _identity(self, request: AuthHttpRequest) -> tuple[UserIdentity | None, str | None]:
        """The caller's identity, and why a session cookie or bearer token that was sent was ignored (else None)."""
        token, ignored = self._usable_token(request)
        if token is None:
            return None, ignored
        record = self._session_of(token)
        return (None if record is None else _identity_of(record, request, self.settings.base_url)), _ignored_after_read(
            request, record, ignored
        )


def _ignored_after_read(request: AuthHttpRequest, record: SessionRecord | None, ignored: str | None) -> str | None:
    """After reading a verified token's session: ``ignored``, or why the bearer token or cookie named no live
    session."""
    if record is not None or ignored is not None:
        return ignored
    credential, reasons = _credential(via_cookie=not _sends_bearer(request))
    logger.info("%s ignored: no live session", credential)
    return reasons["NO_SESSION"]


def _credential(*, via_cookie: bool) -> tuple[str, dict[str, str]]:
    """What a log line calls the presented credential, and its ``X-Authlib-Auth-Ignored`` texts."""
    return ("session cookie", COOKIE_IGNORED_REASONS) if via_cookie else ("bearer token", BEARER_IGNORED_REASONS)


def _sends_bearer(request: AuthHttpRequest) -> bool:
    """Whether the request authenticates with ``Authorization: Bearer`` (which wins over a cookie)."""
    authorization = request.header("authorization")
    return authorization is not None and authorization[:7].lower() == "bearer "


def _identity_of(record: SessionRecord, request: AuthHttpRequest, base_url: str | None) -> UserIdentity:
    """The ``ctx.auth`` identity of a session: its issuer is the origin of ``base_url`` (``AUTHLIB_BASE_URL``) when
    configured, so one session has one ``tokenIdentifier`` whichever domain a request came through (a custom domain,
    the execute-api one); else the origin of the request's own base URL."""
    url = base_url or request.base_url
    issuer = origin_of(url) or url.rstrip("/")
    return UserIdentity(
        subject=record.user_id,
        token_identifier=f"{issuer}|{record.user_id}",
        issuer=issuer,
        email=record.email or None,
        name=record.name or None,
        session_id=record.session_id,
    )


class RequestAuth:
    """``ctx.auth`` for one request: resolves the session on first use, then answers from memory (thread-safe)."""

    __slots__ = ("_failure", "_identity", "_ignored", "_lock", "_request", "_resolved", "_service")

    def __init__(self, service: AuthService, request: AuthHttpRequest) -> None:
        self._service = service
        self._request = request
        self._lock = threading.Lock()
        self._resolved = False
        self._identity: UserIdentity | None = None
        self._ignored: str | None = None
        #: The error of a session read made ahead of time (speculative), raised by the next lookup in its place.
        self._failure: Exception | None = None

    def get_user_identity(self) -> UserIdentity | None:
        """The caller's identity, or None (no session, a bad signature, a revoked or expired session)."""
        with self._lock:
            if self._failure is not None:
                failure, self._failure = self._failure, None
                raise failure
            if not self._resolved:
                self._identity, self._ignored = self._service._identity(self._request)
                self._resolved = True
            return self._identity

    @property
    def ignored_reason(self) -> str | None:
        """Why the session cookie or bearer token that was sent was not used (the origin check, not a token of this
        server, no live session), once the identity was asked for; else None.

        The HTTP layer sends it as the ``X-Authlib-Auth-Ignored`` response header. It states the rule the request
        broke, never anything about the session.
        """
        return self._ignored

    def speculative(self) -> SpeculativeRequestAuth | None:
        """This ``ctx.auth`` as a :class:`~authlib_core.auth.identity.ProvisionalAuth`, when the service remembers
        sessions (``remember_sessions``, on DynamoDB); else None (run as usual).

        Example:
            >>> auth = service.auth_for(request).speculative()  # doctest: +SKIP
        """
        return None if self._service.remembered is None else SpeculativeRequestAuth(self)


class SpeculativeRequestAuth:
    """A :class:`RequestAuth` that answers from the instance's remembered sessions while the session is read again.

    The first ``get_user_identity()`` verifies the token and the origin rule as usual (no store read). If this
    instance confirmed the same token's session before and that session has not ended, it starts the session read
    on a background thread and answers the remembered identity at once; otherwise it reads the session on the
    calling thread, exactly as :class:`RequestAuth` does. :meth:`settle` joins the background read: the run stands
    only when it confirms the very identity that was answered.

    Example:
        >>> auth = service.auth_for(request).speculative()  # doctest: +SKIP
        >>> user = auth.get_user_identity()  # remembered: answered at once  # doctest: +SKIP
        >>> auth.settle() is None  # the session read confirmed ``user``  # doctest: +SKIP
        True
    """

    __slots__ = ("_answered", "_parent", "_pending", "_redo", "_settled")

    def __init__(self, parent: RequestAuth) -> None:
        self._parent = parent
        self._pending: Future[SessionRecord | None] | None = None
        self._answered: UserIdentity | None = None
        self._settled = False
        self._redo: RequestAuth | None = None

    @property
    def ignored_reason(self) -> str | None:
        """As :attr:`RequestAuth.ignored_reason`."""
        return self._parent.ignored_reason

    def get_user_identity(self) -> UserIdentity | None:
        """The remembered identity while the confirming read runs; else as :meth:`RequestAuth.get_user_identity`."""
        parent = self._parent
        with parent._lock:
            if self._pending is not None:
                return self._answered
            if parent._resolved:
                return parent._identity
            service, request = parent._service, parent._request
            token, parent._ignored = service._usable_token(request)
            remembered = None if token is None else service._remembered_session(token)
            if token is None or remembered is None:
                record = None if token is None else service._session_of(token)
                if token is not None:
                    parent._ignored = _ignored_after_read(request, record, parent._ignored)
                base_url = service.settings.base_url
                parent._identity = None if record is None else _identity_of(record, request, base_url)
                parent._resolved = True
                return parent._identity
            self._pending = service._look_up_in_background(token)
            self._answered = _identity_of(remembered, request, service.settings.base_url)
            return self._answered

    def settle(self) -> RequestAuth | None:
        """Wait for the confirming read; None when nothing needs running again, else the ``Auth`` to run with."""
        parent = self._parent
        with parent._lock:
            if self._pending is None or self._settled:
                return self._redo
            self._settled = True
            try:
                record = self._pending.result()
            except Exception as error:  # the read failed (storage): run again, failing where today's read fails
                parent._failure = error
                self._redo = parent
                return parent
            base_url = parent._service.settings.base_url
            parent._identity = None if record is None else _identity_of(record, parent._request, base_url)
            parent._ignored = _ignored_after_read(parent._request, record, parent._ignored)
            parent._resolved = True
            if parent._identity != self._answered:
                self._redo = parent
            return self._redo
