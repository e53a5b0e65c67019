"""The composition root: ``Settings`` → functions folder, storage engine, database, executor.

Built once per process (per Lambda cold start, per dev-server reload, per CLI command). Nothing else in the package
reads configuration or constructs an engine.

Example:
    >>> from authlib_core.config import Settings
    >>> runtime = build_runtime(Settings(functions_dir=Path("functions")))       # doctest: +SKIP
    >>> runtime.executor.call("myData:getMyData", {}, auth=NoAuth())             # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import logging
import os
import secrets
from typing import TYPE_CHECKING, Any

from authlib_core.config import is_loopback_url
from authlib_core.errors import ConfigError
from authlib_core.functions import Executor, LoadedApp, load_functions

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from authlib_core.auth.jwt_verify import ExternalAuth
    from authlib_core.auth.service import AuthService
    from authlib_core.auth.social_config import SocialProviders
    from authlib_core.config import Settings
    from authlib_core.database import Database, DatabaseWriter
    from authlib_core.schema import Schema
    from authlib_core.values import Value

__all__ = [
    "Runtime",
    "build_auth_service",
    "build_external_auth",
    "build_mail",
    "build_runtime",
    "build_social_providers",
    "connect_database",
    "server_secrets",
    "with_local_dev_secret",
]

#: Top-level modules of the ``jwt`` extra (``pip install 'authlib-core[jwt]'``): joserfc and what it loads.
JWT_EXTRA_MODULES = frozenset({"joserfc", "cryptography"})


@dataclasses.dataclass(frozen=True, slots=True)
class Runtime:
    """Everything a transport (HTTP, CLI) needs to run functions."""

    settings: Settings
    app: LoadedApp
    database: Database
    executor: Executor
    #: Sessions and ``/api/auth/*``; None when the app's schema does not include ``auth_tables``.
    auth: AuthService | None = None
    #: Identity from external JWTs (``functions/auth_config.py``); None when the app declares no providers.
    external_auth: ExternalAuth | None = None

    @property
    def source_files(self) -> tuple[Path, ...]:
        """The files of the functions folder (what the dev server watches to rebuild the runtime)."""
        return self.app.source_files


def build_runtime(
    settings: Settings, *, database: Database | None = None, check: Callable[[Database], object] | None = None
) -> Runtime:
    """Load ``settings.functions_dir`` and connect to the storage engine ``settings`` names.

    ``database`` replaces the engine-backed database (tests may inject one over their own engine). ``check`` runs
    on the new database before its stored indexes are changed and may refuse it by raising (the dev server checks
    the schema against the stored documents, see :mod:`authlib_core.database.stored_check`).

    Raises:
        FunctionLoadError: the functions folder cannot be loaded.
        ConfigError: the settings cannot be used.
    """
    if settings.app_environment:  # the app's own variables (Lambda), visible to the functions' import-time code
        from authlib_core.app_env import apply_app_environment

        apply_app_environment(dict(settings.app_environment), os.environ)
    app = load_functions(settings.functions_dir)
    settings = dataclasses.replace(
        settings,
        secrets=server_secrets(settings),
        delete_user_enabled=app.delete_user if settings.delete_user_enabled is None else settings.delete_user_enabled,
        delete_user_verification=(
            app.delete_user_verification
            if settings.delete_user_verification is None
            else settings.delete_user_verification
        ),
    )
    if database is None:
        database = connect_database(settings, app.schema, check=check)
    from authlib_core.mail import configure_outbox

    mail = functools.cache(lambda: build_mail(settings))  # one sender for auth and the app (built on first use)
    configure_outbox(lambda: mail().get("mailer"))  # send_email in the app's actions
    return Runtime(
        settings=settings,
        app=app,
        database=database,
        executor=Executor(app.registry, database),
        auth=build_auth_service(
            settings,
            app.schema,
            database,
            # Without providers or secrets there is nothing to check or build (social_config stays unloaded).
            social=build_social_providers(settings, app)
            if app.social_providers or settings.oauth_client_secrets
            else None,
            on_user_created=_user_hook(app.on_user_created, app, database),
            on_user_deleted=_user_hook(app.on_user_deleted, app, database),
            after_user_deleted=_after_delete_hook(app.after_user_deleted, app, database),
            mail=mail,
        ),
        external_auth=build_external_auth(settings, app),
    )


def build_external_auth(settings: Settings, app: LoadedApp) -> ExternalAuth | None:
    """The JWT verifier for ``auth_config.py``'s providers; None (and joserfc never imported) without providers.

    Raises:
        ConfigError: a provider's issuer or JWKS URL is not https (plain http is allowed only for a loopback host
            with ``AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP=true``), or joserfc (the ``jwt`` extra) is not installed.
    """
    if not app.auth_providers:
        return None
    from authlib_core.auth.jwt_config import CustomJWTProvider, check_provider_url

    for provider in app.auth_providers:
        url = provider.jwks if isinstance(provider, CustomJWTProvider) else provider.domain
        problem = check_provider_url(url, allow_loopback_http=settings.jwt_allow_loopback_http)
        if problem is not None:
            raise ConfigError(f"functions/auth_config.py, {provider.describe()}: {problem}.")
    try:
        from authlib_core.auth.jwt_verify import ExternalAuth
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in JWT_EXTRA_MODULES:
            raise
        raise _missing_jwt_extra(f"{len(app.auth_providers)} identity provider(s)", exc.name or "joserfc") from exc
    return ExternalAuth(app.auth_providers, allow_loopback_http=settings.jwt_allow_loopback_http)


def build_social_providers(settings: Settings, app: LoadedApp) -> SocialProviders:
    """``auth_config.py``'s ``social_providers`` with their client secrets from the settings.

    A provider without a secret is allowed (the query and mutation functions need none; the one that serves
    ``/api/auth`` answers ``500 PROVIDER_NOT_CONFIGURED`` naming the variable) and logged.

    Raises:
        ConfigError: ``AUTHLIB_OAUTH_CLIENT_SECRETS`` names a provider that is not declared (a typo would otherwise
            go unnoticed until someone clicks the button).
    """
    from authlib_core.auth.social_config import OIDCSignIn, SocialProviders

    secrets_by_id = dict(settings.oauth_client_secrets)
    ids = {provider.id for provider in app.social_providers}
    unknown = sorted(set(secrets_by_id) - ids)
    if unknown:
        raise ConfigError(
            f"AUTHLIB_OAUTH_CLIENT_SECRETS names {', '.join(unknown)}, which functions/auth_config.py's "
            f"social_providers does not declare (declared: {', '.join(sorted(ids)) or 'none'})."
        )
    missing = sorted(ids - set(secrets_by_id))
    if missing:
        logging.getLogger("authlib_core").warning(
            "social sign-in: no client secret for %s in AUTHLIB_OAUTH_CLIENT_SECRETS; sign-in with it is refused here",
            ", ".join(missing),
        )
    oidc = [provider.id for provider in app.social_providers if isinstance(provider, OIDCSignIn)]
    if oidc and importlib.util.find_spec("joserfc") is None:
        raise _missing_jwt_extra(f"OpenID Connect sign-in ({', '.join(oidc)})", "joserfc")
    return SocialProviders(app.social_providers, secrets_by_id, allow_loopback_http=settings.jwt_allow_loopback_http)


def _missing_jwt_extra(what: str, module: str) -> ConfigError:
    return ConfigError(
        f"functions/auth_config.py declares {what}, but {module}, which verifies the JWTs it needs, is not "
        "installed: it comes with the jwt extra. Install authlib-core[jwt] (pip install 'authlib-core[jwt]'; in a "
        "deployed project, write authlib-core[jwt] in requirements.txt and build again), or remove them."
    )


def _user_hook(path: str | None, app: LoadedApp, database: Database) -> Callable[[DatabaseWriter, str], object] | None:
    """``auth_config.on_user_created`` / ``on_user_deleted`` as the auth service calls it: the mutation at ``path``,
    in the transaction that creates or deletes the user."""
    if path is None:
        return None
    from authlib_core.auth.identity import NoAuth

    executor = Executor(app.registry, database)
    return lambda writer, user_id: executor.call_in_transaction(writer, path, {"userId": user_id}, auth=NoAuth())


def _after_delete_hook(
    path: str | None, app: LoadedApp, database: Database
) -> Callable[[DatabaseWriter, Mapping[str, Value]], object] | None:
    """``auth_config.after_user_deleted`` as the auth service calls it: a job scheduled in the transaction that
    deletes the user (``run_after(0, ...)``: it runs once, right after the commit, and never if the deletion does
    not commit), with the deleted user's ``userId``, ``email`` and ``name``."""
    if path is None:
        return None
    from authlib_core.functions.scheduler import Scheduler

    def schedule(writer: DatabaseWriter, user: Mapping[str, Value]) -> str:
        args = {"userId": str(user["_id"]), "email": str(user.get("email", "")), "name": str(user.get("name", ""))}
        return Scheduler.in_transaction(app.registry, writer, database).run_after(0, path, args)

    return schedule


def build_auth_service(
    settings: Settings,
    schema: Schema | None,
    database: Database,
    *,
    social: SocialProviders | None = None,
    on_user_created: Callable[[DatabaseWriter, str], object] | None = None,
    on_user_deleted: Callable[[DatabaseWriter, str], object] | None = None,
    after_user_deleted: Callable[[DatabaseWriter, Mapping[str, Value]], object] | None = None,
    mail: Callable[[], dict[str, Any]] | None = None,
) -> AuthService | None:
    """The auth service over ``database`` and the engine's session store, when ``schema`` has the auth tables.

    ``on_user_created`` runs in the transaction that creates each user (``auth_config.on_user_created``),
    ``on_user_deleted`` in the one that deletes a user (``auth_config.on_user_deleted``), and
    ``after_user_deleted`` (given the deleted user's document) schedules ``auth_config.after_user_deleted`` there;
    ``mail`` gives the mailer and templates (default: :func:`build_mail`), so the app's ``send_email`` shares them.
    """
    from authlib_core.auth.tables import ACCOUNTS_TABLE, USERS_TABLE

    if schema is None or USERS_TABLE not in schema.tables or ACCOUNTS_TABLE not in schema.tables:
        return None
    from authlib_core.auth.service import AuthService

    mail_parts = build_mail(settings) if mail is None else mail()
    if settings.engine == "sqlite":
        from authlib_core.database.engines.sqlite_sessions import SQLiteRateLimitStore, SQLiteSessionStore

        return AuthService(
            settings.auth,
            database,
            SQLiteSessionStore(settings.sqlite_path),
            SQLiteRateLimitStore(settings.sqlite_path),
            social_providers=social,
            on_user_created=on_user_created,
            on_user_deleted=on_user_deleted,
            after_user_deleted=after_user_deleted,
            **mail_parts,
        )
    from authlib_core.auth.remembered import DEFAULT_REMEMBERED_SESSIONS
    from authlib_core.database.engines.dynamodb import DynamoDBEngine
    from authlib_core.database.engines.dynamodb.sessions import DynamoDBRateLimitStore, DynamoDBSessionStore

    engine = database.engine
    if not isinstance(engine, DynamoDBEngine):
        raise ConfigError("the DynamoDB session store needs the DynamoDB engine (AUTHLIB_ENGINE=dynamodb).")
    return AuthService(
        settings.auth,
        database,
        DynamoDBSessionStore(engine.client, settings.sessions_table),
        DynamoDBRateLimitStore(engine.client, settings.sessions_table),
        social_providers=social,
        on_user_created=on_user_created,
        on_user_deleted=on_user_deleted,
        after_user_deleted=after_user_deleted,
        remember_sessions=DEFAULT_REMEMBERED_SESSIONS,  # a session read is a round trip: overlap it
        **mail_parts,
    )


def build_mail(settings: Settings) -> dict[str, Any]:
    """The auth service's ``mailer`` and ``templates`` for ``settings.mail`` (none when mail is off).

    Templates are the defaults with the app's files in ``<functions>/emails/`` on top (:class:`MailTemplates`).
    """
    if settings.mail is None:
        return {}
    from authlib_core.mail import MailSender, MailTemplates

    templates = MailTemplates.from_folder(settings.functions_dir / "emails")
    mailer: MailSender
    if settings.mail == "ses":
        from authlib_core.mail.ses import SESMailSender

        mailer = SESMailSender(
            settings.mail_from, configuration_set=settings.ses_configuration_set, region=settings.region
        )
    else:
        from authlib_core.mail.folder import FolderMailSender

        mailer = FolderMailSender(settings.mail_dir, sender=settings.mail_from)
    return {"mailer": mailer, "templates": templates}


def connect_database(
    settings: Settings, schema: Schema | None, *, check: Callable[[Database], object] | None = None
) -> Database:
    """The engine ``settings`` names, wrapped in a :class:`~authlib_core.database.Database` over ``schema``.

    ``check`` (if given) runs first and may refuse the database by raising; then, on SQLite, the stored index
    entries are brought in line with the schema (a schema edit in development adds or drops indexes); on DynamoDB
    that is a deployment step (``python -m authlib_core infra``).
    """
    # Imported here: the engine modules (and boto3 for DynamoDB) load only when a runtime is really built.
    from authlib_core.database import Database
    from authlib_core.database.engines import create_engine

    database = Database(create_engine(settings), schema, cursor_secret=server_secrets(settings)[0].encode())
    if check is not None:
        try:
            check(database)
        except BaseException:
            database.close()
            raise
    if settings.engine == "sqlite":
        database.ensure_indexes()
    return database


def server_secrets(settings: Settings) -> tuple[str, ...]:
    """The server secrets: ``AUTHLIB_SECRETS``, or in development one kept in the local state folder.

    The first secret signs (cookies, cursors); every secret verifies, so a new one can be rolled in first.

    Raises:
        ConfigError: no secret is configured outside development (the DynamoDB engine means production).
    """
    if settings.secrets:
        return settings.secrets
    if settings.engine != "sqlite":
        raise ConfigError(
            "No server secret: set AUTHLIB_SECRETS (comma-separated, at least 32 random characters each). "
            "template.yaml passes it from SSM Parameter Store; see docs/deploy.md. (The dev server and `run` "
            "supply a development secret only for a DynamoDB endpoint on this machine, such as --endpoint-url "
            "http://127.0.0.1:8000.)"
        )
    return (_dev_secret(settings.sqlite_path.parent / "secret"),)


def with_local_dev_secret(settings: Settings) -> Settings:
    """``settings`` with the development secret when they name DynamoDB on a loopback endpoint and no secret.

    What the dev server and ``run`` do so that local DynamoDB (moto server, DynamoDB Local) works without
    ``AUTHLIB_SECRETS``. The secret is the SQLite development one (``.authlib/secret`` beside the SQLite file).
    Never for an endpoint elsewhere or for AWS itself (no endpoint): there :func:`server_secrets` refuses to start.
    """
    if (
        settings.engine == "dynamodb"
        and not settings.secrets
        and settings.dynamodb_endpoint_url is not None
        and is_loopback_url(settings.dynamodb_endpoint_url)
    ):
        return dataclasses.replace(settings, secrets=(_dev_secret(settings.sqlite_path.parent / "secret"),))
    return settings


def _dev_secret(path: Path) -> str:
    """Read the development secret, creating it (0600) on first use."""
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secret.encode())
    finally:
        os.close(fd)
    return secret
