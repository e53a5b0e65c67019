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
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from authlib_core.errors import ConfigError

__all__ = ["ENV_VARS", "EngineName", "Settings"]

EngineName = Literal["sqlite", "dynamodb"]

#: Every environment variable the library reads, with what it means.
ENV_VARS: Mapping[str, str] = {
    "AUTHLIB_ENGINE": "storage engine: 'sqlite' (default) or 'dynamodb'",
    "AUTHLIB_FUNCTIONS_DIR": "folder holding the functions package (default 'functions')",
    "AUTHLIB_SQLITE_PATH": "SQLite database file (default '.authlib/dev.sqlite3')",
    "AUTHLIB_DOCUMENTS_TABLE": "DynamoDB table holding documents and index entries",
    "AUTHLIB_SESSIONS_TABLE": "DynamoDB table holding sessions and rate-limit records (TTL on 'expiresAt')",
    "AUTHLIB_DYNAMODB_ENDPOINT_URL": "DynamoDB endpoint override (moto server, DynamoDB Local)",
    "AUTHLIB_SECRETS": "comma-separated server secrets; the first signs, all verify (rotation)",
    "AUTHLIB_TRUSTED_ORIGINS": "comma-separated origins allowed to send cookie-carrying state changes",
    "AUTHLIB_SECURE_COOKIES": "'true' to force __Secure- cookies, 'false' to forbid; default: by request scheme",
    "AWS_REGION": "AWS region (set by Lambda)",
    # Deployment (template.yaml, docs/deploy.md). POWERTOOLS_* are read by Powertools, not by us.
    "AUTHLIB_SECRETS_PARAMETER": "SSM SecureString holding the secrets, read at cold start if AUTHLIB_SECRETS is unset",
    "AUTHLIB_ALLOWED_KINDS": "comma-separated function kinds this deployment serves (e.g. 'query'); default: all",
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
                raise ConfigError(f"AUTHLIB_SECURE_COOKIES is {secure!r}; set it to 'true' or 'false' or leave it unset.")
            secure_cookies = value == "true"
        return cls(
            engine=engine,  # type: ignore[arg-type]  # narrowed by the check above
            functions_dir=Path(env.get("AUTHLIB_FUNCTIONS_DIR", "functions")),
            sqlite_path=Path(env.get("AUTHLIB_SQLITE_PATH", ".authlib/dev.sqlite3")),
            documents_table=env.get("AUTHLIB_DOCUMENTS_TABLE", "authlib-documents"),
            sessions_table=env.get("AUTHLIB_SESSIONS_TABLE", "authlib-sessions"),
            dynamodb_endpoint_url=env.get("AUTHLIB_DYNAMODB_ENDPOINT_URL") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            secrets=_secrets(env),
            trusted_origins=_split(env.get("AUTHLIB_TRUSTED_ORIGINS", "")),
            secure_cookies=secure_cookies,
            allowed_kinds=frozenset(_split(env.get("AUTHLIB_ALLOWED_KINDS", ""))) or None,
        )


def _secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    """AUTHLIB_SECRETS, or else the SSM parameter AUTHLIB_SECRETS_PARAMETER names (Lambda, at cold start)."""
    secrets = _split(env.get("AUTHLIB_SECRETS", ""))
    parameter = env.get("AUTHLIB_SECRETS_PARAMETER", "").strip()
    if secrets or not parameter:
        return secrets
    from authlib_core.config_secrets import fetch_ssm_parameter  # only on Lambda's cold path

    return _split(fetch_ssm_parameter(parameter, env))


def _split(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())
