"""The server side of one sign-in provider: the authorization URL, the code exchange, the verified profile.

* **Authorization URL**: ``response_type=code``, ``client_id``, ``redirect_uri``, ``scope``, ``state``, PKCE
  (``code_challenge`` = base64url(SHA-256(verifier)), ``S256``) and, for OpenID Connect, ``nonce``.
* **Code exchange**: a form POST to the token endpoint with ``client_id``, ``client_secret``, ``code``,
  ``code_verifier``, ``redirect_uri`` (client authentication ``client_secret_post``, as Better Auth's default),
  after the callback's RFC 9207 ``iss`` is checked (required when the discovery document announces it).
* **Profile**: GitHub's ``/user`` and ``/user/emails`` (the address, and whether GitHub verified it); for OpenID
  Connect the ID token, verified with joserfc against the issuer's JWKS (signature, ``iss``, ``aud`` =
  ``client_id`` and no other audience, ``azp`` when present, ``exp``, ``iat``) and the ``nonce`` of this browser's
  sign-in, then the UserInfo endpoint when the ID token carries no email.

Every provider URL must be https (plain http only for a loopback host with ``AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP``);
the provider's tokens are used for the profile and then dropped (they are not stored).

Example:
    >>> client = OAuthClient(GitHubSignIn(client_id="abc"), "secret", allow_loopback_http=False)
    >>> client.authorization_url(state="s", code_verifier="v" * 43, nonce=None,
    ...                          redirect_uri="https://api.example.com/api/auth/callback/github")[:49]
    'https://github.com/login/oauth/authorize?response'
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from authlib_core.auth.jwks import fetch_json, request_json
from authlib_core.auth.jwt_config import OIDCProvider, check_provider_url, token_part
from authlib_core.auth.shapes import MAX_IMAGE, MAX_NAME
from authlib_core.auth.social_config import GitHubSignIn, OIDCSignIn
from authlib_core.auth.users import ProviderAccount
from authlib_core.auth.validation import is_valid_email, normalize_email
from authlib_core.errors import AuthProviderUnavailableError, AuthTokenError

if TYPE_CHECKING:
    from authlib_core.auth.jwt_verify import ExternalAuth
    from authlib_core.auth.social_config import SocialProvider

__all__ = ["OAuthClient", "OAuthFailure", "pkce_challenge"]

_MAX_ACCOUNT_ID = 255


class OAuthFailure(Exception):
    """A step with the provider failed; ``code`` is Better Auth's callback error (``invalid_code``, ...)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 ``S256``: base64url(SHA-256(verifier)) without padding.

    Example:
        >>> pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
    """
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OAuthClient:
    """One configured provider with its client secret (thread-safe; the service keeps one per provider)."""

    def __init__(self, provider: SocialProvider, client_secret: str, *, allow_loopback_http: bool) -> None:
        self.provider = provider
        self._secret = client_secret
        self._allow_http = allow_loopback_http
        self._verifier: ExternalAuth | None = None

    @property
    def issuer(self) -> str | None:
        """The issuer an RFC 9207 ``iss`` callback parameter must equal (OpenID Connect providers only)."""
        return self.provider.issuer if isinstance(self.provider, OIDCSignIn) else None

    def _discovery(self) -> dict[str, Any]:
        assert isinstance(self.provider, OIDCSignIn)
        url = f"{self.provider.issuer}/.well-known/openid-configuration"
        document = fetch_json(url, allow_loopback_http=self._allow_http)
        issuer = document.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.provider.issuer:
            raise AuthProviderUnavailableError(
                "The sign-in provider's discovery document is unusable.",
                detail=f"{url}: issuer {issuer!r} must equal {self.provider.issuer!r}",
            )
        return document

    def _endpoint(self, name: str) -> str:
        """A URL of the provider: GitHub's configured ones, or the discovery document's (https checked)."""
        provider = self.provider
        if isinstance(provider, GitHubSignIn):
            url: object = {"authorization_endpoint": provider.authorize_url, "token_endpoint": provider.token_url}[name]
        else:
            url = self._discovery().get(name)
        allow = self._allow_http
        problem = "missing" if not isinstance(url, str) else check_provider_url(url, allow_loopback_http=allow)
        if problem is not None:
            raise AuthProviderUnavailableError(
                "The sign-in provider's configuration is unusable.", detail=f"{provider.describe()} {name}: {problem}"
            )
        assert isinstance(url, str)
        return url

    def ready(self) -> None:
        """Fetch what the authorization URL needs (OIDC discovery) now.

        Raises:
            AuthProviderUnavailableError: the provider cannot be reached or its configuration is unusable.
        """
        self._endpoint("authorization_endpoint")

    def authorization_url(
        self,
        *,
        state: str,
        code_verifier: str,
        nonce: str | None,
        redirect_uri: str,
        extra_scopes: tuple[str, ...] = (),
        login_hint: str | None = None,
    ) -> str:
        """Where the browser goes to sign in at the provider.

        Raises:
            AuthProviderUnavailableError: the discovery document cannot be fetched or is unusable.
        """
        params = {
            "response_type": "code",
            "client_id": self.provider.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(dict.fromkeys((*self.provider.scopes_requested, *extra_scopes))),
            "state": state,
            "code_challenge": pkce_challenge(code_verifier),
            "code_challenge_method": "S256",
        }
        if nonce is not None:
            params["nonce"] = nonce
        if login_hint:
            params["login_hint"] = login_hint
        endpoint = self._endpoint("authorization_endpoint")
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"

    def check_issuer(self, iss: str | None) -> None:
        """RFC 9207 for the callback's ``iss`` parameter (OpenID Connect providers; GitHub sends none).

        ``iss`` must name this provider; a missing one is refused when the provider's discovery document says it
        sends one (``authorization_response_iss_parameter_supported``), since a mix-up attacker would strip it.

        Raises:
            OAuthFailure: ``issuer_mismatch``, ``issuer_missing``, or ``invalid_code`` (discovery unavailable).
        """
        if self.issuer is None:
            return
        if iss:
            if iss.rstrip("/") != self.issuer:
                raise OAuthFailure("issuer_mismatch", f"{self.provider.describe()}: the callback's iss is another's")
            return
        try:
            announced = self._discovery().get("authorization_response_iss_parameter_supported") is True
        except AuthProviderUnavailableError as exc:
            raise OAuthFailure("invalid_code", exc.detail or "discovery unavailable") from None
        if announced:
            raise OAuthFailure("issuer_missing", f"{self.provider.describe()}: the callback has no iss parameter")

    def exchange(self, *, code: str, code_verifier: str, redirect_uri: str) -> dict[str, Any]:
        """The token response for ``code``.

        Raises:
            OAuthFailure: ``invalid_code`` (refused by the provider, unreachable, or no access token).
        """
        form = {
            "grant_type": "authorization_code",
            "client_id": self.provider.client_id,
            "client_secret": self._secret,
            "code": code,
            "code_verifier": code_verifier,
            "redirect_uri": redirect_uri,
        }
        try:
            tokens, _ = request_json(self._endpoint("token_endpoint"), allow_loopback_http=self._allow_http, form=form)
        except AuthProviderUnavailableError as exc:
            raise OAuthFailure("invalid_code", exc.detail or "token endpoint unavailable") from None
        if not isinstance(tokens, dict) or "error" in tokens or not isinstance(tokens.get("access_token"), str):
            error = tokens.get("error") if isinstance(tokens, dict) else None
            raise OAuthFailure("invalid_code", f"{self.provider.describe()}: the token endpoint refused ({error!r})")
        return tokens

    def profile(self, tokens: dict[str, Any], *, nonce: str | None) -> ProviderAccount:
        """The verified profile behind ``tokens``.

        Raises:
            OAuthFailure: ``unable_to_get_user_info`` (a bad ID token, a wrong nonce, an unusable profile).
        """
        scope = ",".join(str(tokens.get("scope") or "").replace(",", " ").split())
        try:
            if isinstance(self.provider, GitHubSignIn):
                return self._github(str(tokens["access_token"]), scope)
            return self._oidc(tokens, nonce, scope)
        except AuthProviderUnavailableError as exc:
            raise OAuthFailure("unable_to_get_user_info", exc.detail or str(exc)) from None

    # ------------------------------------------------------------------ GitHub

    def _github(self, access_token: str, scope: str) -> ProviderAccount:
        assert isinstance(self.provider, GitHubSignIn)
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/vnd.github+json"}
        api = self.provider.api_url
        user, _ = request_json(f"{api}/user", allow_loopback_http=self._allow_http, headers=headers)
        if not isinstance(user, dict) or not isinstance(user.get("id"), int | str):
            raise OAuthFailure("unable_to_get_user_info", f"{api}/user: no id in the profile")
        emails, _ = request_json(f"{api}/user/emails", allow_loopback_http=self._allow_http, headers=headers)
        listed = [e for e in emails if isinstance(e, dict)] if isinstance(emails, list) else []
        address = user.get("email")
        if not isinstance(address, str) or not address:
            address = next((e.get("email") for e in listed if e.get("primary") is True), None)
        verified = any(e.get("email") == address and e.get("verified") is True for e in listed)
        name = user.get("name") or user.get("login") or ""
        return _profile(self.provider.id, str(user["id"]), address, verified, name, user.get("avatar_url"), scope)

    # ------------------------------------------------------------------ OpenID Connect

    def _oidc(self, tokens: dict[str, Any], nonce: str | None, scope: str) -> ProviderAccount:
        assert isinstance(self.provider, OIDCSignIn)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OAuthFailure("unable_to_get_user_info", f"{self.provider.describe()}: no id_token in the response")
        if self._verifier is None:
            from authlib_core.auth.jwt_verify import ExternalAuth  # joserfc, only for apps with OIDC sign-in

            self._verifier = ExternalAuth(
                [OIDCProvider(self.provider.issuer, self.provider.client_id)], allow_loopback_http=self._allow_http
            )
        try:
            identity = self._verifier.verify(id_token)
        except AuthTokenError as exc:
            raise OAuthFailure("unable_to_get_user_info", f"ID token refused: {exc.message}") from None
        if nonce is None or identity.extra.get("nonce") != nonce:
            raise OAuthFailure("unable_to_get_user_info", "ID token refused: its nonce is not this sign-in's")
        azp = identity.extra.get("azp")
        if azp is not None and azp != self.provider.client_id:  # OpenID Connect Core 3.1.3.7, step 5
            raise OAuthFailure("unable_to_get_user_info", "ID token refused: it was issued to another client (azp)")
        audience = (token_part(id_token, 1) or {}).get("aud")  # verified above: aud holds client_id
        if isinstance(audience, list) and set(audience) != {self.provider.client_id}:  # ibid., step 3
            raise OAuthFailure("unable_to_get_user_info", "ID token refused: it also names audiences not this client")
        email, verified, name = identity.email, identity.email_verified is True, identity.name
        picture = identity.extra.get("pictureUrl")
        if email is None:  # the UserInfo endpoint, for providers that keep the ID token small
            info = self._userinfo(str(tokens["access_token"]))
            if info.get("sub") != identity.subject:
                raise OAuthFailure("unable_to_get_user_info", "UserInfo answered for another subject")
            email, verified = info.get("email"), info.get("email_verified") is True
            name, picture = name or info.get("name"), picture or info.get("picture")
        return _profile(self.provider.id, identity.subject, email, verified, name, picture, scope)

    def _userinfo(self, access_token: str) -> dict[str, Any]:
        url = self._discovery().get("userinfo_endpoint")
        if not isinstance(url, str):
            raise OAuthFailure("unable_to_get_user_info", "no email in the ID token and no userinfo_endpoint")
        info, _ = request_json(
            url, allow_loopback_http=self._allow_http, headers={"Authorization": f"Bearer {access_token}"}
        )
        if not isinstance(info, dict):
            raise OAuthFailure("unable_to_get_user_info", f"{url}: not a JSON object")
        return info


def _profile(
    provider_id: str, account_id: str, email: object, verified: bool, name: object, image: object, scope: str
) -> ProviderAccount:
    if not account_id or len(account_id) > _MAX_ACCOUNT_ID:
        raise OAuthFailure("unable_to_get_user_info", "the provider's user id is empty or too long")
    address = normalize_email(email) if isinstance(email, str) else None
    if address is not None and not is_valid_email(address):
        address = None
    return ProviderAccount(
        provider_id=provider_id,
        account_id=account_id,
        email=address,
        email_verified=verified and address is not None,
        name=name[:MAX_NAME] if isinstance(name, str) else "",
        image=image if isinstance(image, str) and 0 < len(image) <= MAX_IMAGE else None,
        scope=scope,
    )
