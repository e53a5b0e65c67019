"""Social and OpenID Connect sign-in: ``POST /sign-in/social``, ``GET|POST /callback/:provider``,
``POST /link-social``, ``GET /list-accounts``, ``POST /unlink-account``; and ``GET /social-providers`` (the
configured providers' ids and button labels, an authlib-core addition for sign-in pages).

Better Auth 1.7's shapes (docs/auth.md, "Social and OIDC sign-in"), with these decisions:

* **Authorization code with PKCE, state bound to the browser.** ``/sign-in/social`` stores the sign-in (PKCE
  verifier, OIDC nonce, provider, redirect targets, the user when linking) under a 256-bit ``state`` in the
  ``verification`` table — hashed, like every emailed token — and sets ``better-auth.state`` = the signed state
  (``HttpOnly; SameSite=Lax``, 300 s). The callback needs the row *and* that cookie, then uses the row up in one
  mutation: a callback URL replayed, forged, or opened in another browser ends in ``error=state_mismatch``.
* **Every redirect target is checked when it enters** (``callbackURL``, ``errorCallbackURL``,
  ``newUserCallbackURL``: same site or a trusted origin, :mod:`~authlib_core.auth.redirects`) and again when the
  callback redirects. The ``redirect_uri`` sent to the provider is always ``<base>/api/auth/callback/<id>``
  (``AUTHLIB_BASE_URL``; the dev server's loopback origin), never taken from the request's Host.
* **Linking by verified email only**: an existing user with the provider's address is linked only when the provider
  says the address is verified *and* the user verified it here; otherwise ``error=account_not_linked``.
* The provider's access, refresh and ID tokens are used to read the profile and then dropped: nothing can leak them.
* **A provider's refusal reaches the error page as a standard code only** (:data:`PROVIDER_ERRORS`, else
  ``error=oauth_provider_error``), with ``error_description`` only when it keeps to RFC 6749's characters: anyone can
  put text in a callback URL, and the page shows it.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import TYPE_CHECKING, Final
from urllib.parse import urlencode

from authlib_core.auth.cookies import encode_uri_component, expire_cookie, serialize_cookie, sign, unsign
from authlib_core.auth.links import checked_callback, redirect, with_query
from authlib_core.auth.shapes import iso_ms
from authlib_core.auth.social_config import PROVIDER_ID, MissingClientSecretError
from authlib_core.auth.transport import APIError, AuthHttpResponse
from authlib_core.auth.users import AccountRefusedError
from authlib_core.auth.validation import parse_body, validation_error
from authlib_core.errors import AuthProviderUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.auth.oauth_client import OAuthClient
    from authlib_core.auth.service import AuthService, _Call
    from authlib_core.auth.users import ProviderAccount
    from authlib_core.auth.validation import Body
    from authlib_core.auth.verification import IssuedToken
    from authlib_core.values import JSONValue

__all__ = ["CALLBACK_PREFIX", "PROVIDER_ERROR", "PROVIDER_ERRORS", "ROUTES", "STATE_COOKIE_MAX_AGE", "STATE_LIFETIME"]

#: ``/callback/<provider id>``: where providers send the browser back.
CALLBACK_PREFIX: Final = "/callback/"
PURPOSE: Final = "oauth-state"
#: Seconds a sign-in may take at the provider (Better Auth: the row lives 600 s, the cookie 300 s).
STATE_LIFETIME: Final = 600
STATE_COOKIE_MAX_AGE: Final = 300
ERROR_PAGE: Final = "/api/auth/error"
_CALLBACK_PARAMS: Final = ("code", "state", "error", "error_description", "iss")
_MAX_PARAM: Final = 2048
#: The ``error`` codes a provider may send back (RFC 6749 section 4.1.2.1, OpenID Connect Core 3.1.2.6); they
#: reach the app's error page as they are. Anything else is text anyone can put in the callback URL, and the page
#: shows it: it arrives as :data:`PROVIDER_ERROR`.
PROVIDER_ERRORS: Final = frozenset(
    {
        "invalid_request",
        "unauthorized_client",
        "access_denied",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "interaction_required",
        "login_required",
        "account_selection_required",
        "consent_required",
        "invalid_request_uri",
        "invalid_request_object",
        "request_not_supported",
        "request_uri_not_supported",
        "registration_not_supported",
    }
)
PROVIDER_ERROR: Final = "oauth_provider_error"
#: RFC 6749's characters for ``error_description`` (%x20-21 / %x23-5B / %x5D-7E); another one drops the description.
_DESCRIPTION: Final = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,256}")
_MAX_SCOPES: Final = 20

logger = logging.getLogger("authlib_core.auth")


# ---------------------------------------------------------------------------------------------- starting a sign-in


def _client(service: AuthService, provider_id: str) -> OAuthClient:
    try:
        client = service.social.get(provider_id)
    except MissingClientSecretError as missing:
        logger.error("social sign-in: %s", missing)
        message = f"This server cannot sign in with {provider_id} yet: {missing}"
        raise APIError(500, "PROVIDER_NOT_CONFIGURED", message) from None
    if client is None:
        raise APIError(404, "PROVIDER_NOT_FOUND", "Provider not found")
    return client


def _extra_scopes(body: Body) -> tuple[str, ...]:
    scopes = body.data.get("scopes")
    if scopes is None:
        return ()
    if not isinstance(scopes, list) or len(scopes) > _MAX_SCOPES:
        raise validation_error("scopes", f"Invalid input: expected an array of at most {_MAX_SCOPES} strings")
    for scope in scopes:
        if not isinstance(scope, str) or not scope or len(scope) > 128 or not scope.isascii():
            raise validation_error("scopes", "Invalid input: each scope is a non-empty ASCII string")
        if any(c in scope for c in ' "\\') or not scope.isprintable():
            raise validation_error("scopes", "Invalid input: a scope has no spaces, quotes or backslashes")
    return tuple(scopes)


def _start(
    service: AuthService, call: _Call, body: Body, client: OAuthClient, *, link: tuple[str, str] | None
) -> AuthHttpResponse:
    """Store the sign-in under a new state, set the state cookie, answer ``{url, redirect}``."""
    if "idToken" in body:
        raise APIError(404, "ID_TOKEN_NOT_SUPPORTED", "id token not supported")
    request, origins = call.request, service.origins
    callback = checked_callback(body.string("callbackURL", optional=True), request, origins) or "/"
    error_url = checked_callback(
        body.string("errorCallbackURL", optional=True), request, origins, code="INVALID_ERROR_CALLBACK_URL"
    )
    new_user_url = None
    if link is None:
        new_user_url = checked_callback(
            body.string("newUserCallbackURL", optional=True), request, origins, code="INVALID_NEW_USER_CALLBACK_URL"
        )
    disable_redirect = body.boolean("disableRedirect") is True
    login_hint = body.string("loginHint", optional=True)
    if login_hint is not None and (len(login_hint) > 256 or not login_hint.isprintable()):
        raise validation_error("loginHint", "Invalid input: at most 256 printable characters")
    scopes = _extra_scopes(body)
    states = service.states
    assert states is not None  # AuthService refuses social providers without the verification table
    redirect_uri = f"{service.link_base(call)}/api/auth{CALLBACK_PREFIX}{client.provider.id}"
    verifier = secrets.token_urlsafe(96)  # 128 characters, RFC 7636's longest
    nonce = secrets.token_urlsafe(32) if client.issuer is not None else None
    try:
        client.ready()  # discovery first: an unreachable provider leaves no row behind
    except AuthProviderUnavailableError as exc:
        logger.warning("social sign-in: provider %s unavailable: %s", client.provider.id, exc.detail)
        raise APIError(
            503, "PROVIDER_UNAVAILABLE", "The sign-in provider cannot be reached right now; try again shortly."
        ) from None
    data = {"provider": client.provider.id, "codeVerifier": verifier, "callbackURL": callback}
    optional = {"errorURL": error_url, "newUserURL": new_user_url, "nonce": nonce}
    data.update({key: value for key, value in optional.items() if value is not None})
    user_id, email = link or ("", "")
    state = states.issue(PURPOSE, user_id=user_id, email=email, lifetime=STATE_LIFETIME, data=data)
    url = client.authorization_url(
        state=state,
        code_verifier=verifier,
        nonce=nonce,
        redirect_uri=redirect_uri,
        extra_scopes=scopes,
        login_hint=login_hint,
    )
    response = AuthHttpResponse(200, {"url": url, "redirect": not disable_redirect})
    if not disable_redirect:
        response.headers["Location"] = url
    cookie = encode_uri_component(sign(state, service.settings.secrets[0]))
    response.set_cookies.append(
        serialize_cookie(call.names.state, cookie, max_age=STATE_COOKIE_MAX_AGE, secure=call.secure)
    )
    return response


def sign_in_social(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``{provider, callbackURL?, errorCallbackURL?, newUserCallbackURL?, disableRedirect?, scopes?, loginHint?}``
    → ``{url, redirect}`` and the state cookie."""
    body, (provider_id,) = service.open_request(call, "/sign-in/social", ("provider",), login=True)
    return _start(service, call, body, _client(service, provider_id), link=None)


def link_social(service: AuthService, call: _Call) -> AuthHttpResponse:
    """The signed-in user adds a provider: the same as ``/sign-in/social``; the callback links instead of signing in."""
    body, (provider_id,) = service.open_request(call, "/link-social", ("provider",))
    current = service._require(call)
    client = _client(service, provider_id)
    user = service.users.get(current.record.user_id)
    if user is None:
        raise APIError(401, "UNAUTHORIZED", "Unauthorized")
    return _start(service, call, body, client, link=(str(user["_id"]), str(user.get("email", ""))))


# ---------------------------------------------------------------------------------------------- the callback


class _Redirect(Exception):
    """Ends the callback with a redirect to ``target`` (an error page, or where the sign-in began)."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


def _fail(base: str, code: str, description: str | None = None) -> _Redirect:
    params = {"error": code}
    if description:
        params["error_description"] = description[:256]
    return _Redirect(with_query(base, params))


def _provider_error(error: str, description: str | None) -> tuple[str, str | None]:
    """The provider's refusal as the error page may show it: a standard code (else :data:`PROVIDER_ERROR`), and
    the description only in the characters RFC 6749 allows it."""
    code = error if error in PROVIDER_ERRORS else PROVIDER_ERROR
    if code == PROVIDER_ERROR:
        logger.warning("social callback: the provider sent a non-standard error code (%d characters)", len(error))
    if description is None or not _DESCRIPTION.fullmatch(description):
        return code, None
    return code, description


def callback(service: AuthService, call: _Call) -> AuthHttpResponse:
    """The provider sends the browser back here: always a 302, to the sign-in's targets or with ``error=``."""
    request = call.request
    if request.method.upper() == "HEAD" or not PROVIDER_ID.fullmatch(call.param):
        return AuthHttpResponse(404, body_is_empty=True)  # HEAD: a link checker must not use the sign-in up
    if request.method.upper() == "POST":  # response_mode=form_post: on to GET, where the SameSite=Lax cookie is sent
        body = parse_body(request, allow_form=True, required=False)
        params = {key: body.data[key] for key in _CALLBACK_PARAMS if isinstance(body.data.get(key), str)}
        params.update({key: request.query[key] for key in _CALLBACK_PARAMS if key in request.query})
        target = f"/api/auth{CALLBACK_PREFIX}{call.param}?{urlencode(params)}"
        return redirect(target, request, service.origins)
    try:
        response = _complete(service, call)
    except _Redirect as ended:
        response = redirect(ended.target, request, service.origins)
    if _same_browser(service, call):  # this browser's sign-in ended here; a stray callback leaves it alone
        response.set_cookies.append(expire_cookie(call.names.state, secure=call.secure))
    return response


def _same_browser(service: AuthService, call: _Call) -> bool:
    """The callback's ``state`` is the one this browser's signed state cookie holds."""
    cookie = call.cookies.get(call.names.state)
    state = call.request.query.get("state", "")
    return bool(state) and cookie is not None and unsign(cookie, service.settings.secrets) == state


def _complete(service: AuthService, call: _Call) -> AuthHttpResponse:
    query = call.request.query
    if any(len(query.get(key, "")) > _MAX_PARAM for key in _CALLBACK_PARAMS):
        raise _fail(ERROR_PAGE, "invalid_callback_request")
    state = query.get("state", "")
    if not state:
        raise _fail(ERROR_PAGE, "state_not_found")
    states = service.states
    assert states is not None
    pending = states.check(state, (PURPOSE,))
    if pending is None or pending.expired:
        logger.info("social callback: unknown or expired state")
        raise _fail(ERROR_PAGE, "state_mismatch")
    error_url = pending.data.get("errorURL") or ERROR_PAGE
    provider_id = call.param
    if not _same_browser(service, call) or pending.data.get("provider") != provider_id:
        logger.warning("social callback: state cookie missing or not this browser's")
        raise _fail(error_url, "state_mismatch")
    issued = states.consume(state, (PURPOSE,))  # one use: a second callback with this state finds nothing
    if issued is None or issued.expired:
        raise _fail(error_url, "state_mismatch")
    if query.get("error"):
        raise _fail(error_url, *_provider_error(query["error"], query.get("error_description")))
    code = query.get("code")
    if not code:
        raise _fail(error_url, "no_code")
    try:
        client = service.social.get(provider_id)
    except MissingClientSecretError:
        client = None
    if client is None:
        raise _fail(error_url, "oauth_provider_not_found")
    from authlib_core.auth.oauth_client import OAuthFailure  # urllib.request: loaded only when providers are in use

    try:
        client.check_issuer(query.get("iss"))
        redirect_uri = f"{service.link_base(call)}/api/auth{CALLBACK_PREFIX}{provider_id}"
        verifier = issued.data.get("codeVerifier", "")
        tokens = client.exchange(code=code, code_verifier=verifier, redirect_uri=redirect_uri)
        account = client.profile(tokens, nonce=issued.data.get("nonce"))
    except OAuthFailure as failure:
        logger.warning("social callback %s: %s (%s)", provider_id, failure.code, failure.detail)
        raise _fail(error_url, failure.code) from None
    except APIError:  # link_base: no public URL configured
        raise _fail(error_url, "no_callback_url") from None
    if issued.user_id:
        return _link(service, call, issued, account, error_url)
    return _sign_in(service, call, issued, account, error_url)


def _link(
    service: AuthService, call: _Call, issued: IssuedToken, account: ProviderAccount, error_url: str
) -> AuthHttpResponse:
    current = service._resolve(call)
    if current is None or current.record.user_id != issued.user_id:
        raise _fail(error_url, "unable_to_link_account")  # the session that asked to link has ended
    if not account.email_verified:
        raise _fail(error_url, "unable_to_link_account")
    if account.email != issued.email:
        raise _fail(error_url, "email_does_not_match")
    try:
        service.users.link(issued.user_id, account, now_ms=service._now())
    except AccountRefusedError as refused:
        raise _fail(error_url, refused.code) from None
    logger.info("account linked user=%s provider=%s", issued.user_id, account.provider_id)
    raise _Redirect(issued.data.get("callbackURL", "/"))


def _sign_in(
    service: AuthService, call: _Call, issued: IssuedToken, account: ProviderAccount, error_url: str
) -> AuthHttpResponse:
    try:
        user, created = service.users.social_sign_in(account, now_ms=service._now())
    except AccountRefusedError as refused:
        logger.info("social sign-in refused provider=%s: %s", account.provider_id, refused.code)
        raise _fail(error_url, refused.code) from None
    user_id = str(user["_id"])
    if service.settings.require_email_verification and user.get("emailVerified") is not True:
        raise _fail(error_url, "email_not_verified")
    previous = service._resolve(call)
    if previous is not None:  # a new sign-in replaces the session the browser held
        service.sessions.delete(previous.record.user_id, previous.record.session_id)
    token, record = service._create_session(call, user, dont_remember=False)
    target = issued.data.get("callbackURL", "/")
    if created:
        target = issued.data.get("newUserURL") or target
    response = redirect(target, call.request, service.origins)
    service._set_session(call, response, token, record)
    logger.info("signed in with %s user=%s session=%s new=%s", account.provider_id, user_id, record.session_id, created)
    return response


# ---------------------------------------------------------------------------------------------- accounts


def list_accounts(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``[{id, providerId, accountId, userId, createdAt, updatedAt, scopes}]``: every way the user signs in."""
    current = service._require(call)
    rows: list[JSONValue] = []
    for row in service.users.accounts(current.record.user_id):
        scope = row.get("scope")
        rows.append(
            {
                "id": str(row["_id"]),
                "providerId": str(row["providerId"]),
                "accountId": str(row["accountId"]),
                "userId": str(row["userId"]),
                "createdAt": iso_ms(float(str(row["createdAt"]))),
                "updatedAt": iso_ms(float(str(row["updatedAt"]))),
                "scopes": [s for s in str(scope).split(",") if s.strip()] if isinstance(scope, str) else [],
            }
        )
    return AuthHttpResponse(200, rows)


_UNLINK_MESSAGES: Final = {
    "FAILED_TO_UNLINK_LAST_ACCOUNT": "You can't unlink your last account",
    "ACCOUNT_NOT_FOUND": "Account not found",
}


def unlink_account(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``{accountId}`` (the row ``id`` from list-accounts) → ``{"status": true}``; needs a fresh session."""
    service.origins.check(call.request, login_form=False)
    body = parse_body(call.request, allow_form=False, required=True)
    account_id = body.required_string("accountId")
    current = service._require(call)
    if not service._is_fresh(current.record):
        raise APIError(403, "SESSION_NOT_FRESH", "Session is not fresh")
    try:
        service.users.unlink(current.record.user_id, account_id)
    except AccountRefusedError as refused:
        raise APIError(400, refused.code, _UNLINK_MESSAGES[refused.code]) from None
    logger.info("account unlinked user=%s", current.record.user_id)
    return AuthHttpResponse(200, {"status": True})


def social_providers(service: AuthService, call: _Call) -> AuthHttpResponse:
    """``[{id, name}]``: the configured sign-in providers, for a page to draw its buttons (an authlib-core addition).

    Public configuration only (ids and button labels); the same for every caller.
    """
    providers: list[JSONValue] = [{"id": provider.id, "name": provider.name} for provider in service.social.usable()]
    return AuthHttpResponse(200, providers)


ROUTES: Final[dict[tuple[str, str], Callable[[AuthService, _Call], AuthHttpResponse]]] = {
    ("POST", "/sign-in/social"): sign_in_social,
    ("GET", CALLBACK_PREFIX): callback,
    ("POST", CALLBACK_PREFIX): callback,
    ("POST", "/link-social"): link_social,
    ("GET", "/list-accounts"): list_accounts,
    ("GET", "/social-providers"): social_providers,
    ("POST", "/unlink-account"): unlink_account,
}
