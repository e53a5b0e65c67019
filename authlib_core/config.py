"""Settings: everything the library reads from the environment, in one frozen dataclass.

Every environment variable the code reads is named in :data:`ENV_VARS`, so a test can check that
``template.yaml`` sets exactly these. Nothing else in the package reads ``os.environ``.

Example:
    >>> from authlib_core.config import Settings
    >>> s = Settings.from_env({"AUTHLIB_ENGINE": "sqlite", "AUTHLIB_SQLITE_PATH": "/tmp/x.sqlite3"})
    >>> s.engine, str(s.sqlite_path)
    ('sqlite', '/tmp/x.sqlite3')
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlparse

from authlib_core.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ENV_VARS", "AuthSettings", "EngineName", "LiveSettings", "Settings", "is_loopback_url"]

EngineName = Literal["sqlite", "dynamodb"]

#: Every environment variable the library reads, with what it means.
ENV_VARS: Mapping[str, str] = {
    "AUTHLIB_ENGINE": "storage engine: 'sqlite' (default) or 'dynamodb'",
    "AUTHLIB_FUNCTIONS_DIR": "folder holding the functions package (default 'functions')",
    "AUTHLIB_SQLITE_PATH": "SQLite database file (default '.authlib/dev.sqlite3')",
    "AUTHLIB_DOCUMENTS_TABLE": "DynamoDB table holding documents and index entries",
    "AUTHLIB_SESSIONS_TABLE": "DynamoDB table holding sessions and rate-limit records (TTL on 'expiresAt')",
    "AUTHLIB_SYNC_TABLE": "DynamoDB table of live-query connections and subscriptions (AWS live queries)",
    "AUTHLIB_HTTP_API_URL": "origin of the HTTP API; live queries on AWS name identities' issuer after it",
    "AUTHLIB_DYNAMODB_ENDPOINT_URL": "DynamoDB endpoint override (moto server, DynamoDB Local)",
    "AUTHLIB_SECRETS": "comma-separated server secrets; the first signs, all verify (rotation)",
    "AUTHLIB_TRUSTED_ORIGINS": "comma-separated origins allowed to send cookie-carrying state changes",
    "AUTHLIB_SECURE_COOKIES": "'true' to force __Secure- cookies, 'false' to forbid; default: by request scheme",
    "AUTHLIB_TRUST_FORWARDED_FOR": "'true' to take the client IP from X-Forwarded-For (only behind your own proxy)",
    "AUTHLIB_TRUST_FORWARDED_PROTO": "dev server: 'true' to take X-Forwarded-Proto from a TLS proxy in front of it",
    "AUTHLIB_SESSION_EXPIRES_IN": "idle session lifetime in seconds, refreshed by use (default 604800 = 7 days)",
    "AUTHLIB_SESSION_UPDATE_AGE": "seconds between sliding refreshes of a session (default 86400 = 1 day)",
    "AUTHLIB_SESSION_FRESH_AGE": "seconds after sign-in during which a session is fresh (default 86400; 0 disables)",
    "AUTHLIB_SESSION_ABSOLUTE_LIFETIME": "hard cap on a session's lifetime in seconds (default 2592000 = 30 days)",
    "AUTHLIB_SESSION_DONT_REMEMBER_LIFETIME": "rememberMe:false session lifetime, seconds (default 86400 = 1 day)",
    "AUTHLIB_RATE_LIMIT": "auth rate limits 'on' or 'off' (default: on; the dev server defaults to off)",
    "AUTHLIB_RATE_LIMIT_IP_MAX": "requests per address and path on the password endpoints per window (default 3)",
    "AUTHLIB_RATE_LIMIT_IP_WINDOW": "seconds of the per-address window (default 10)",
    "AUTHLIB_RATE_LIMIT_ACCOUNT_MAX": "failed passwords per account and address per window (default 5)",
    "AUTHLIB_RATE_LIMIT_ACCOUNT_GLOBAL_MAX": "failed passwords per account before lockdown (default 50)",
    "AUTHLIB_RATE_LIMIT_ACCOUNT_WINDOW": "seconds of the per-account failure windows (default 900 = 15 minutes)",
    "AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP": "'true' lets auth_config.py providers on 127.0.0.1/localhost use plain http "
    "(local test issuers only; otherwise keys are fetched over https)",
    "AWS_REGION": "AWS region (set by Lambda)",
    # Deployment (template.yaml, docs/deploy.md). POWERTOOLS_* are read by Powertools, not by us.
    "AUTHLIB_SECRETS_PARAMETER": "SSM SecureString holding the secrets, read at cold start if AUTHLIB_SECRETS is unset",
    "AUTHLIB_MAIL": "mail sender: 'ses' (Amazon SES v2), 'folder' (.eml files) or 'off' (default; dev server: folder)",
    "AUTHLIB_MAIL_FROM": "From address of auth mail, e.g. 'App <no-reply@example.com>'; a domain means no-reply@it",
    "AUTHLIB_MAIL_DIR": "folder of the 'folder' mail sender (default '.authlib/mail')",
    "AUTHLIB_SES_CONFIGURATION_SET": "SES configuration set to send auth mail with (optional)",
    "AUTHLIB_BASE_URL": "public origin of this server that emailed links point at, e.g. https://api.example.com",
    "AUTHLIB_REQUIRE_EMAIL_VERIFICATION": "'true': sign-in refuses an unverified email (403 EMAIL_NOT_VERIFIED)",
    "AUTHLIB_SEND_VERIFICATION_ON_SIGN_UP": "'true'/'false': mail a verification link on sign-up (default: as above)",
    "AUTHLIB_RESET_TOKEN_EXPIRES_IN": "password-reset link lifetime in seconds (default 3600)",
    "AUTHLIB_VERIFICATION_TOKEN_EXPIRES_IN": "verification and change-email link lifetime in seconds (default 3600)",
    "AUTHLIB_CHANGE_EMAIL": "'off' disables POST /change-email (default on)",
    "AUTHLIB_DELETE_USER": "'on' enables POST /delete-user, 'off' disables it (default: auth_config.py's delete_user)",
    "AUTHLIB_DELETE_USER_VERIFICATION": (
        "'on': POST /delete-user mails a confirmation link instead of deleting; 'off': it deletes at once "
        "(default: auth_config.py's delete_user_verification)"
    ),
    "AUTHLIB_DELETE_TOKEN_EXPIRES_IN": "account-deletion link lifetime in seconds (default 86400)",
    "AUTHLIB_OAUTH_CLIENT_SECRETS": "client secrets of auth_config.py's social_providers: 'github=...,google=...'",
    "AUTHLIB_OAUTH_CLIENT_SECRETS_PARAMETER": "SSM SecureString holding AUTHLIB_OAUTH_CLIENT_SECRETS (cold start)",
    "AUTHLIB_APP_ENV_PARAMETER": "SSM SecureString of the app's own variables (JSON NAME -> value), set at cold start",
    "AUTHLIB_ALLOWED_KINDS": "comma-separated kinds served here (query, mutation, action, http); default: all",
    "AUTHLIB_JOB_QUEUE_URL": "SQS queue of due scheduled jobs (template.yaml); unset: jobs are only run by the tick",
    "AUTHLIB_JOB_RUNNER_TIMEOUT": "seconds a scheduled action may run (the runner's timeout; default 900)",
    "AUTHLIB_JOB_RETENTION": "seconds finished scheduled jobs are kept (default 604800 = 7 days); 'off' keeps them",
    "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": "port of the AWS Parameters and Secrets Lambda Extension (default 2773)",
    "AWS_SESSION_TOKEN": "Lambda's session token; authenticates requests to the secrets extension",
    "POWERTOOLS_SERVICE_NAME": "service name in every structured log line",
    "POWERTOOLS_LOG_LEVEL": "log level of the structured logger",
    "POWERTOOLS_TRACE_DISABLED": "'true' turns the X-Ray tracer off",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """Resolved configuration. Build it with :meth:`from_env` or directly in tests."""

    engine: EngineName = "sqlite"
    functions_dir: Path = Path("functions")
    sqlite_path: Path = Path(".authlib/dev.sqlite3")
    documents_table: str = "authlib-documents"
    sessions_table: str = "authlib-sessions"
    dynamodb_endpoint_url: str | None = None
    region: str | None = None
    secrets: tuple[str, ...] = ()
    trusted_origins: tuple[str, ...] = ()
    secure_cookies: bool | None = None
    allowed_kinds: frozenset[str] | None = None
    trust_forwarded_for: bool = False
    trust_forwarded_proto: bool = False
    session_expires_in: int = 604_800
    session_update_age: int = 86_400
    session_fresh_age: int = 86_400
    session_absolute_lifetime: int = 2_592_000
    #: Tell callers what an uncaught exception was (type, message, the functions' own frames), as a Convex dev
    #: deployment does. Only the dev server turns it on; no environment variable does, so Lambda stays opaque.
    expose_errors: bool = False
    session_dont_remember_lifetime: int = 86_400
    #: None: the platform's default (on; the dev server turns it off unless AUTHLIB_RATE_LIMIT is set).
    rate_limit_enabled: bool | None = None
    rate_limit_ip_max: int = 3
    rate_limit_ip_window: int = 10
    rate_limit_account_max: int = 5
    rate_limit_account_global_max: int = 50
    rate_limit_account_window: int = 900
    #: Fetch the keys of an ``auth_config.py`` provider on a loopback host over plain http (local test issuers).
    jwt_allow_loopback_http: bool = False
    #: 'ses', 'folder' or None (no mail: the emailed-link endpoints answer that they are not enabled).
    mail: Literal["ses", "folder"] | None = None
    mail_from: str = "no-reply@localhost"
    mail_dir: Path = Path(".authlib/mail")
    ses_configuration_set: str | None = None
    base_url: str | None = None
    require_email_verification: bool = False
    send_verification_on_sign_up: bool | None = None
    reset_token_expires_in: int = 3_600
    verification_token_expires_in: int = 3_600
    change_email_enabled: bool = True
    #: ``POST /delete-user`` (AUTHLIB_DELETE_USER); None: as ``auth_config.py``'s ``delete_user`` says (default off).
    delete_user_enabled: bool | None = None
    #: ``POST /delete-user`` mails a confirmation link (AUTHLIB_DELETE_USER_VERIFICATION); None: as
    #: ``auth_config.py``'s ``delete_user_verification`` says (default off).
    delete_user_verification: bool | None = None
    delete_token_expires_in: int = 86_400
    #: Seconds a finished scheduled job is kept before the scheduler deletes it (None: kept forever).
    job_retention: int | None = 604_800
    #: Client secrets of the social sign-in providers, by provider id (never shown in a repr).
    oauth_client_secrets: tuple[tuple[str, str], ...] = dataclasses.field(default=(), repr=False)
    #: The app's own variables read from AUTHLIB_APP_ENV_PARAMETER (Lambda); put into os.environ before the
    #: functions folder is imported (authlib_core/app_env.py). Never shown in a repr.
    app_environment: tuple[tuple[str, str], ...] = dataclasses.field(default=(), repr=False)

    @property
    def auth(self) -> AuthSettings:
        """The auth settings these environment settings describe (everything else at its default)."""
        return AuthSettings(
            secrets=self.secrets,
            trusted_origins=self.trusted_origins,
            secure_cookies=self.secure_cookies,
            trust_forwarded_for=self.trust_forwarded_for,
            expires_in=self.session_expires_in,
            update_age=self.session_update_age,
            fresh_age=self.session_fresh_age,
            absolute_lifetime=self.session_absolute_lifetime,
            dont_remember_lifetime=self.session_dont_remember_lifetime,
            rate_limit_enabled=self.rate_limit_enabled is not False,
            ip_rate_limit=self.rate_limit_ip_max,
            ip_rate_window=self.rate_limit_ip_window,
            account_rate_limit=self.rate_limit_account_max,
            account_global_limit=self.rate_limit_account_global_max,
            account_rate_window=self.rate_limit_account_window,
            base_url=self.base_url,
            require_email_verification=self.require_email_verification,
            send_verification_on_sign_up=self.send_verification_on_sign_up,
            reset_token_expires_in=self.reset_token_expires_in,
            verification_token_expires_in=self.verification_token_expires_in,
            change_email_enabled=self.change_email_enabled,
            delete_user_enabled=self.delete_user_enabled is True,
            delete_user_verification=self.delete_user_verification is True,
            delete_token_expires_in=self.delete_token_expires_in,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default: ``os.environ``).

        Raises:
            ConfigError: a variable holds a value the library cannot use; the message names it.
        """
        env = os.environ if environ is None else environ
        engine = env.get("AUTHLIB_ENGINE", "sqlite").strip().lower()
        if engine not in ("sqlite", "dynamodb"):
            raise ConfigError(
                f"AUTHLIB_ENGINE is {engine!r}, which is not an engine. Set it to 'sqlite' or 'dynamodb'."
            )
        secure = env.get("AUTHLIB_SECURE_COOKIES")
        secure_cookies: bool | None = None
        if secure is not None and secure.strip():
            value = secure.strip().lower()
            if value not in ("true", "false"):
                raise ConfigError(
                    f"AUTHLIB_SECURE_COOKIES is {secure!r}; set it to 'true' or 'false' or leave it unset."
                )
            secure_cookies = value == "true"
        trust_xff = env.get("AUTHLIB_TRUST_FORWARDED_FOR", "").strip().lower()
        if trust_xff not in ("", "true", "false"):
            raise ConfigError(
                f"AUTHLIB_TRUST_FORWARDED_FOR is {trust_xff!r}; set it to 'true' or 'false' or leave it unset."
            )
        settings = cls(
            engine=engine,  # type: ignore[arg-type]  # narrowed by the check above
            functions_dir=Path(env.get("AUTHLIB_FUNCTIONS_DIR", "functions")),
            sqlite_path=Path(env.get("AUTHLIB_SQLITE_PATH", ".authlib/dev.sqlite3")),
            documents_table=_table_name(env, "AUTHLIB_DOCUMENTS_TABLE", "authlib-documents"),
            sessions_table=_table_name(env, "AUTHLIB_SESSIONS_TABLE", "authlib-sessions"),
            dynamodb_endpoint_url=env.get("AUTHLIB_DYNAMODB_ENDPOINT_URL") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            secrets=_secrets(env),
            trusted_origins=_split(env.get("AUTHLIB_TRUSTED_ORIGINS", "")),
            secure_cookies=secure_cookies,
            trust_forwarded_for=trust_xff == "true",
            trust_forwarded_proto=_switch(env, "AUTHLIB_TRUST_FORWARDED_PROTO") is True,
            session_expires_in=_positive(env, "AUTHLIB_SESSION_EXPIRES_IN", 604_800),
            session_update_age=_seconds(env, "AUTHLIB_SESSION_UPDATE_AGE", 86_400),
            session_fresh_age=_seconds(env, "AUTHLIB_SESSION_FRESH_AGE", 86_400),
            session_absolute_lifetime=_positive(env, "AUTHLIB_SESSION_ABSOLUTE_LIFETIME", 2_592_000),
            session_dont_remember_lifetime=_positive(env, "AUTHLIB_SESSION_DONT_REMEMBER_LIFETIME", 86_400),
            rate_limit_enabled=_switch(env, "AUTHLIB_RATE_LIMIT"),
            rate_limit_ip_max=_positive(env, "AUTHLIB_RATE_LIMIT_IP_MAX", 3, unit="requests"),
            rate_limit_ip_window=_positive(env, "AUTHLIB_RATE_LIMIT_IP_WINDOW", 10),
            rate_limit_account_max=_positive(env, "AUTHLIB_RATE_LIMIT_ACCOUNT_MAX", 5, unit="failures"),
            rate_limit_account_global_max=_positive(env, "AUTHLIB_RATE_LIMIT_ACCOUNT_GLOBAL_MAX", 50, unit="failures"),
            rate_limit_account_window=_positive(env, "AUTHLIB_RATE_LIMIT_ACCOUNT_WINDOW", 900),
            allowed_kinds=_allowed_kinds(env.get("AUTHLIB_ALLOWED_KINDS", "")),
            jwt_allow_loopback_http=_switch(env, "AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP") is True,
            mail=_mail(env.get("AUTHLIB_MAIL", "")),
            mail_from=_mail_from(env.get("AUTHLIB_MAIL_FROM", "")),
            mail_dir=Path(env.get("AUTHLIB_MAIL_DIR", "").strip() or ".authlib/mail"),
            ses_configuration_set=env.get("AUTHLIB_SES_CONFIGURATION_SET", "").strip() or None,
            base_url=env.get("AUTHLIB_BASE_URL", "").strip().rstrip("/") or None,
            require_email_verification=_switch(env, "AUTHLIB_REQUIRE_EMAIL_VERIFICATION") is True,
            send_verification_on_sign_up=_switch(env, "AUTHLIB_SEND_VERIFICATION_ON_SIGN_UP"),
            reset_token_expires_in=_positive(env, "AUTHLIB_RESET_TOKEN_EXPIRES_IN", 3_600),
            verification_token_expires_in=_positive(env, "AUTHLIB_VERIFICATION_TOKEN_EXPIRES_IN", 3_600),
            change_email_enabled=_switch(env, "AUTHLIB_CHANGE_EMAIL") is not False,
            delete_user_enabled=_switch(env, "AUTHLIB_DELETE_USER"),
            delete_user_verification=_switch(env, "AUTHLIB_DELETE_USER_VERIFICATION"),
            delete_token_expires_in=_positive(env, "AUTHLIB_DELETE_TOKEN_EXPIRES_IN", 86_400),
            oauth_client_secrets=_oauth_client_secrets(env),
            app_environment=_app_environment(env),
            job_retention=_job_retention(env),
        )
        settings.auth  # noqa: B018 - validates the session lifetimes together
        return settings


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    return _positive(env, name, default, minimum=0)


def _positive(
    env: Mapping[str, str],
    name: str,
    default: int,
    *,
    unit: str = "seconds",
    minimum: int = 1,
    advice: str | None = None,
) -> int:
    """A whole number of at least ``minimum``; ``advice`` (what to set instead) replaces the standard wording."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    bound = "not negative" if minimum == 0 else f"at least {minimum}"
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} is {raw!r}; {advice or f'set it to a whole number of {unit} ({bound}).'}") from None
    if value < minimum:
        raise ConfigError(f"{name} is {value}; {advice or f'it must be {bound}.'}")
    return value


#: A DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), or a table's ARN, which DynamoDB also accepts.
_TABLE_NAME = re.compile(r"(arn:[a-z-]+:dynamodb:[a-z0-9-]+:\d{12}:table/)?[A-Za-z0-9_.-]{3,255}")


def _table_name(env: Mapping[str, str], name: str, default: str) -> str:
    """A DynamoDB table name from ``env[name]`` (unset: ``default``), checked here: the client does not check it."""
    raw = env.get(name)
    if raw is None:
        return default
    table = raw.strip()
    if not _TABLE_NAME.fullmatch(table):
        raise ConfigError(
            f"{name} is {raw!r:.80}, which is not a DynamoDB table name; give the table's name (3 to 255 letters, "
            "digits, '_', '.' or '-'; template.yaml passes it) or its ARN."
        )
    return table


#: Shortest job retention accepted: the sweep runs about once a minute, so less would be a promise it cannot keep.
MIN_JOB_RETENTION = 60


def _job_retention(env: Mapping[str, str]) -> int | None:
    """AUTHLIB_JOB_RETENTION: whole seconds (at least a minute), or 'off' to keep finished jobs forever."""
    if env.get("AUTHLIB_JOB_RETENTION", "").strip().lower() == "off":
        return None
    advice = (
        f"set it to how many seconds finished scheduled jobs are kept (a whole number, at least {MIN_JOB_RETENTION}: "
        "the sweep runs once a minute; 604800 = 7 days, Convex's retention), or to 'off' to keep them forever."
    )
    return _positive(env, "AUTHLIB_JOB_RETENTION", 604_800, minimum=MIN_JOB_RETENTION, advice=advice)


_SWITCH = {"on": True, "true": True, "1": True, "off": False, "false": False, "0": False}


def _switch(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    value = _SWITCH.get(raw.lower())
    if value is None:
        raise ConfigError(f"{name} is {raw!r}; set it to 'on' or 'off' (or leave it unset for the default).")
    return value


def _secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    """AUTHLIB_SECRETS, or else the SSM parameter AUTHLIB_SECRETS_PARAMETER names (Lambda, at cold start)."""
    secrets = _split(env.get("AUTHLIB_SECRETS", ""))
    parameter = env.get("AUTHLIB_SECRETS_PARAMETER", "").strip()
    if secrets or not parameter:
        return secrets
    from authlib_core.config_secrets import fetch_ssm_parameter  # only on Lambda's cold path

    return _split(fetch_ssm_parameter(parameter, env))


def _oauth_client_secrets(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """``id=secret`` pairs: AUTHLIB_OAUTH_CLIENT_SECRETS, else the SSM parameter AUTHLIB_OAUTH_CLIENT_SECRETS_PARAMETER.

    The values never appear in a message.
    """
    raw = env.get("AUTHLIB_OAUTH_CLIENT_SECRETS", "")
    parameter = env.get("AUTHLIB_OAUTH_CLIENT_SECRETS_PARAMETER", "").strip()
    if not raw.strip() and parameter:
        from authlib_core.config_secrets import fetch_ssm_parameter  # only on Lambda's cold path

        raw = fetch_ssm_parameter(parameter, env)
    pairs: dict[str, str] = {}
    for index, part in enumerate(_split(raw)):
        provider_id, eq, secret = part.partition("=")
        if not eq or not provider_id.strip() or not secret.strip():
            raise ConfigError(
                f"AUTHLIB_OAUTH_CLIENT_SECRETS: entry {index + 1} is not 'provider-id=client-secret'; write e.g. "
                "github=<secret>,google=<secret>"
            )
        pairs[provider_id.strip()] = secret.strip()
    return tuple(pairs.items())


def _app_environment(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The app's own variables from the SSM parameter AUTHLIB_APP_ENV_PARAMETER names (unset: none)."""
    parameter = env.get("AUTHLIB_APP_ENV_PARAMETER", "").strip()
    if not parameter:
        return ()
    from authlib_core.app_env import parse_app_environment  # only on Lambda's cold path
    from authlib_core.config_secrets import fetch_ssm_parameter

    values = parse_app_environment(fetch_ssm_parameter(parameter, env), source=f"The SSM parameter {parameter!r}")
    return tuple(values.items())


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine (``localhost``, ``127.0.0.0/8``, ``::1``): a local emulator.

    Example:
        >>> is_loopback_url("http://127.0.0.1:8000"), is_loopback_url("https://dynamodb.eu-west-1.amazonaws.com")
        (True, False)
    """
    try:
        host = urlparse(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: The function kinds ``AUTHLIB_ALLOWED_KINDS`` may name (``http``: HTTP actions, docs/http-actions.md).
FUNCTION_KINDS = ("query", "mutation", "action", "http")


def _allowed_kinds(raw: str) -> frozenset[str] | None:
    kinds = frozenset(kind.lower() for kind in _split(raw))
    unknown = sorted(kinds - set(FUNCTION_KINDS))
    if unknown:
        raise ConfigError(
            f"AUTHLIB_ALLOWED_KINDS names {', '.join(map(repr, unknown))}, which is not a function kind; "
            f"list some of {', '.join(FUNCTION_KINDS)} (comma-separated), or leave it unset to serve all."
        )
    return kinds or None


def _mail_from(raw: str) -> str:
    """The From address: as given, or ``no-reply@<domain>`` when only a domain (an SES domain identity) is given."""
    value = raw.strip()
    if not value:
        return "no-reply@localhost"
    if any(ord(c) < 0x20 for c in value):
        raise ConfigError("AUTHLIB_MAIL_FROM holds a control character; give one address, e.g. no-reply@example.com")
    return value if "@" in value else f"no-reply@{value}"


def _mail(raw: str) -> Literal["ses", "folder"] | None:
    value = raw.strip().lower()
    if value in ("", "off"):
        return None
    if value == "ses":
        return "ses"
    if value == "folder":
        return "folder"
    raise ConfigError(f"AUTHLIB_MAIL is {raw!r}; set it to 'ses', 'folder' or 'off'.")


def _split(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


#: OWASP Password Storage Cheat Sheet, argon2id: equally strong (memory KiB, iterations) minimums, p=1.
OWASP_ARGON2_MINIMUMS: tuple[tuple[int, int], ...] = ((47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5))
#: Shortest server secret accepted (Better Auth warns below 32 characters; we refuse).
MIN_SECRET_LENGTH = 32


@dataclasses.dataclass(frozen=True, slots=True)
class AuthSettings:
    """Everything sessions, cookies, passwords and rate limits are tuned by (docs/auth.md lists each).

    Durations are in seconds. The defaults are Better Auth's where it has one, and stricter where it is weak
    (absolute lifetime, rate limits always on, argon2id passwords, secret rotation).

    Example:
        >>> AuthSettings(secrets=("s3cret-value-of-32-characters-or-more",)).expires_in
        604800
    """

    secrets: tuple[str, ...] = ()
    trusted_origins: tuple[str, ...] = ()
    secure_cookies: bool | None = None
    trust_forwarded_for: bool = False
    cookie_prefix: str = "better-auth"
    expires_in: int = 604_800
    update_age: int = 86_400
    fresh_age: int = 86_400
    absolute_lifetime: int = 2_592_000
    dont_remember_lifetime: int = 86_400
    min_password_length: int = 8
    max_password_length: int = 128
    #: Both rules of :mod:`authlib_core.auth.throttle` at once (AUTHLIB_RATE_LIMIT).
    rate_limit_enabled: bool = True
    #: Per client IP and path, on sign-in, sign-up and change-password (Better Auth's special rule: 3 per 10 s).
    ip_rate_limit: int = 3
    ip_rate_window: int = 10
    #: Failed passwords per account (email or user) and address within ``account_rate_window``; also emailed links
    #: to one recipient asked for from one address.
    account_rate_limit: int = 5
    #: Failed passwords per account from all addresses within the window before the account is in lockdown; also
    #: emailed links to one recipient in all.
    account_global_limit: int = 50
    account_rate_window: int = 900
    #: What change-password does when the client does not send ``revokeOtherSessions``.
    revoke_other_sessions_on_password_change: bool = True
    #: ``POST /delete-user``; off, it answers 404 with no body, as Better Auth's ``user.deleteUser.enabled`` (off by
    #: default). Turn it on with ``delete_user = True`` in ``auth_config.py`` or ``AUTHLIB_DELETE_USER=on``.
    delete_user_enabled: bool = False
    #: ``POST /delete-user`` mails a confirmation link (``delete-account``) instead of deleting, as Better Auth's
    #: ``user.deleteUser.sendDeleteAccountVerification``; opening it (``GET /delete-user/callback``) in the signed-in
    #: browser deletes the account. Turn it on with ``delete_user_verification = True`` in ``auth_config.py`` or
    #: ``AUTHLIB_DELETE_USER_VERIFICATION=on``.
    delete_user_verification: bool = False
    #: Lifetime of an account-deletion link, seconds (Better Auth's ``deleteTokenExpiresIn``, one day).
    delete_token_expires_in: int = 86_400
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19_456
    argon2_parallelism: int = 1
    #: The server's public URL (``https://api.example.com``) that emailed links point at. Unset, links use the
    #: request's own address only when it is this machine (the dev server): a Host header is never trusted.
    base_url: str | None = None
    #: Sign-in refuses an unverified email (403 ``EMAIL_NOT_VERIFIED``) and sign-up starts no session.
    require_email_verification: bool = False
    #: Mail a verification link on sign-up; None follows ``require_email_verification`` (Better Auth's default).
    send_verification_on_sign_up: bool | None = None
    #: Lifetime of a password-reset link, seconds.
    reset_token_expires_in: int = 3_600
    #: Lifetime of a verification or change-email link, seconds.
    verification_token_expires_in: int = 3_600
    #: ``POST /change-email`` (a confirmation link to the current address first).
    change_email_enabled: bool = True
    #: The least time, in seconds, that request-password-reset and an anonymous send-verification-email take, so
    #: that known and unknown addresses answer alike (Better Auth pads to 0.5 s).
    enumeration_floor: float = 0.5

    @property
    def sends_verification_on_sign_up(self) -> bool:
        """``send_verification_on_sign_up``, resolved."""
        if self.send_verification_on_sign_up is None:
            return self.require_email_verification
        return self.send_verification_on_sign_up

    def __post_init__(self) -> None:
        for name in (
            "reset_token_expires_in",
            "verification_token_expires_in",
            "delete_token_expires_in",
            "expires_in",
            "absolute_lifetime",
            "dont_remember_lifetime",
            "ip_rate_window",
            "account_rate_window",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"AuthSettings.{name} must be positive.")
        if self.base_url is not None and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", self.base_url):
            raise ConfigError(
                f"AuthSettings.base_url (AUTHLIB_BASE_URL) {self.base_url!r} is not an origin; give scheme and host "
                "only, for example https://api.example.com"
            )
        if not 0 <= self.enumeration_floor <= 10:
            raise ConfigError("AuthSettings.enumeration_floor must be between 0 and 10 seconds.")
        if self.update_age < 0 or self.fresh_age < 0:
            raise ConfigError("AuthSettings.update_age and fresh_age must not be negative.")
        if self.expires_in > 34_560_000:
            raise ConfigError("AuthSettings.expires_in exceeds 400 days, the longest cookie Max-Age browsers keep.")
        if not 1 <= self.min_password_length <= self.max_password_length:
            raise ConfigError("AuthSettings: need 1 <= min_password_length <= max_password_length.")
        if min(self.ip_rate_limit, self.account_rate_limit, self.account_global_limit) < 1:
            raise ConfigError("AuthSettings rate limits must allow at least one request per window.")
        if not any(
            self.argon2_memory_kib >= memory and self.argon2_time_cost >= time_cost
            for memory, time_cost in OWASP_ARGON2_MINIMUMS
        ):
            raise ConfigError(
                "AuthSettings: argon2id parameters below OWASP's minimums (e.g. m=19456 KiB with t=2, or m=47104 KiB "
                "with t=1) are not allowed."
            )
        if self.argon2_parallelism < 1:
            raise ConfigError("AuthSettings.argon2_parallelism must be at least 1.")
        if any(len(secret) < MIN_SECRET_LENGTH for secret in self.secrets):
            raise ConfigError(
                f"AuthSettings.secrets (AUTHLIB_SECRETS): every secret needs at least {MIN_SECRET_LENGTH} characters; "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        if not self.cookie_prefix or any(c in self.cookie_prefix for c in ";,= \t"):
            raise ConfigError(f"AuthSettings.cookie_prefix {self.cookie_prefix!r} is not a valid cookie name part.")


@dataclasses.dataclass(frozen=True, slots=True)
class LiveSettings:
    """What live queries on AWS read besides :class:`Settings` (the sync and fan-out functions of template.yaml).

    ``issuer`` is the origin identities are issued for, as over HTTP: ``AUTHLIB_BASE_URL``, else
    ``AUTHLIB_HTTP_API_URL`` (the template sets it to the HTTP API's endpoint).

    Example:
        >>> LiveSettings.from_env({"AUTHLIB_SYNC_TABLE": "s-sync", "AUTHLIB_HTTP_API_URL": "https://x.example"}).issuer
        'https://x.example'
    """

    sync_table: str
    issuer: str
    region: str | None = None
    dynamodb_endpoint_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LiveSettings:
        """Read the environment.

        Raises:
            ConfigError: ``AUTHLIB_SYNC_TABLE`` is not set, or the issuer is not an http(s) origin.
        """
        env = os.environ if environ is None else environ
        if not env.get("AUTHLIB_SYNC_TABLE", "").strip():
            raise ConfigError(
                "AUTHLIB_SYNC_TABLE is not set: live queries on AWS keep connections in the sync table "
                "(template.yaml's SyncTable); set it to that table's name."
            )
        table = _table_name(env, "AUTHLIB_SYNC_TABLE", "")
        issuer = (env.get("AUTHLIB_BASE_URL") or env.get("AUTHLIB_HTTP_API_URL") or "").strip().rstrip("/")
        if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", issuer):
            raise ConfigError(
                "Live queries need the HTTP API's origin (AUTHLIB_HTTP_API_URL or AUTHLIB_BASE_URL), got "
                f"{issuer!r:.80}; give scheme and host only, for example https://abc123.execute-api.us-east-1.amazonaws.com"
            )
        return cls(
            table,
            issuer,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            dynamodb_endpoint_url=env.get("AUTHLIB_DYNAMODB_ENDPOINT_URL") or None,
        )
