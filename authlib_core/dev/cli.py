"""``python -m authlib_core dev``: options and the run loop of the dev server.

Options: ``--functions DIR`` (default ``functions``), ``--host`` (``127.0.0.1``), ``--port`` (``3210``), ``--db PATH``
(``.authlib/dev.sqlite3``), ``--cors-origin ORIGIN`` (repeatable or comma-separated), ``--static DIR`` (default
``examples/web/dist`` when it exists; ``--no-static`` turns it off).

Storage (here and on ``run``, see :func:`add_engine_options`): ``--engine sqlite|dynamodb`` (default
``$AUTHLIB_ENGINE`` or ``sqlite``), ``--endpoint-url URL`` (DynamoDB only: moto server, DynamoDB Local), ``--db PATH``
(SQLite only). With DynamoDB on a loopback endpoint the development secret is supplied and the stored indexes are
brought in line with the schema on every (re)load, as on SQLite; anywhere else ``AUTHLIB_SECRETS`` is required and
indexes are a deployment step (``infra migrate``).

The dev server explains failures (``Settings.expose_errors``: an uncaught exception's type, message and frames reach
the caller, a readable traceback the console) and checks every schema it loads against the documents already
stored, refusing one they do not match (:mod:`authlib_core.database.stored_check`). A missing functions folder or a
port in use stops it at once with one ``error:`` line (exit status 2), before anything is created.

Ctrl-C (SIGINT) and SIGTERM stop the server cleanly; the exit status is then 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authlib_core.config import Settings, is_loopback_url
from authlib_core.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from authlib_core.database import Database
    from authlib_core.runtime import Runtime

__all__ = [
    "DEFAULT_STATIC",
    "add_engine_options",
    "build_local_runtime",
    "configure_parser",
    "describe_storage",
    "main",
    "run",
    "settings_with_engine",
]

DEFAULT_STATIC = Path("examples/web/dist")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the dev server's options to ``parser``."""
    parser.add_argument(
        "--functions", type=Path, default=None, help="functions folder (default: $AUTHLIB_FUNCTIONS_DIR or functions)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=3210, help="port to listen on (default: 3210; 0 picks one)")
    add_engine_options(parser)
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow browser calls with credentials from this origin, and trust it for cookie-carrying sign-in and "
        "state changes as the template's AllowedOrigins does (repeatable, or comma-separated)",
    )
    parser.add_argument(
        "--mail-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="write auth mail (verification, password reset) as .eml files here (default: .authlib/mail)",
    )
    parser.add_argument(
        "--codegen",
        type=Path,
        default=None,
        metavar="DIR",
        help="write typed api objects for TypeScript into DIR (api.d.ts, api.js, dataModel.d.ts) on every reload",
    )
    parser.add_argument(
        "--no-jobs",
        action="store_true",
        help="do not run scheduled functions and cron jobs (they stay pending; docs/scheduler.md)",
    )
    static = parser.add_mutually_exclusive_group()
    static.add_argument(
        "--static", type=Path, default=None, help=f"serve a built frontend (default: {DEFAULT_STATIC} when it exists)"
    )
    static.add_argument("--no-static", action="store_true", help="serve no frontend")


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """``--engine``, ``--endpoint-url`` and ``--db`` (shared by ``dev`` and ``run``)."""
    parser.add_argument(
        "--engine",
        choices=("sqlite", "dynamodb"),
        default=None,
        help="storage engine (default: $AUTHLIB_ENGINE or sqlite)",
    )
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        default=None,
        help="DynamoDB endpoint, e.g. moto server or DynamoDB Local (--engine dynamodb only; "
        "default: $AUTHLIB_DYNAMODB_ENDPOINT_URL, else AWS itself)",
    )
    parser.add_argument(
        "--db", type=Path, default=None, help="SQLite file (--engine sqlite only; default: .authlib/dev.sqlite3)"
    )


def settings_with_engine(settings: Settings, args: argparse.Namespace) -> Settings:
    """``settings`` with the storage options of :func:`add_engine_options` applied.

    Raises:
        ConfigError: the options do not fit together (``--db`` with DynamoDB, ``--endpoint-url`` with SQLite, an
            endpoint that is not an http(s) URL).
    """
    engine = args.engine or settings.engine
    if engine == "dynamodb" and args.db is not None:
        raise ConfigError(
            "--db names a SQLite file and cannot be combined with --engine dynamodb; "
            "point DynamoDB at an endpoint with --endpoint-url URL instead."
        )
    if engine == "sqlite" and args.endpoint_url is not None:
        raise ConfigError(
            "--endpoint-url is a DynamoDB endpoint and needs --engine dynamodb (the engine is sqlite here)."
        )
    endpoint = args.endpoint_url if args.endpoint_url is not None else settings.dynamodb_endpoint_url
    if engine == "dynamodb" and endpoint is not None:
        check_endpoint_url(endpoint)
    return dataclasses.replace(
        settings,
        engine=engine,
        sqlite_path=args.db or settings.sqlite_path,
        dynamodb_endpoint_url=endpoint if engine == "dynamodb" else settings.dynamodb_endpoint_url,
    )


def check_endpoint_url(url: str) -> None:
    """Refuse an endpoint that is not ``http(s)://host[:port]`` (botocore's own error is obscure)."""
    from urllib.parse import urlparse

    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"--endpoint-url {url!r} is not an http(s) URL; for example http://127.0.0.1:8000")


def build_local_runtime(settings: Settings, *, check: Callable[[Database], object] | None = None) -> Runtime:
    """The runtime of a local command: the dev secret and index upkeep for a loopback DynamoDB endpoint.

    On SQLite (always local) the runtime already brings the indexes in line; on DynamoDB it is done here only when
    the endpoint is on this machine, never against AWS (``python -m authlib_core infra migrate`` does that).
    ``check`` runs on the database before any index changes and may refuse it (see :func:`build_runtime`).
    """
    from authlib_core.runtime import build_runtime, with_local_dev_secret

    runtime = build_runtime(with_local_dev_secret(settings), check=check)
    if _local_dynamodb(settings):
        runtime.database.ensure_indexes()
    return runtime


def describe_storage(settings: Settings) -> str:
    """One line naming where the data lives, for the dev server's banner."""
    if settings.engine == "sqlite":
        return f"database: {settings.sqlite_path}"
    where = settings.dynamodb_endpoint_url or f"AWS ({settings.region or 'default region'})"
    return f"database: DynamoDB at {where}, tables {settings.documents_table}, {settings.sessions_table}"


def _local_dynamodb(settings: Settings) -> bool:
    url = settings.dynamodb_endpoint_url
    return settings.engine == "dynamodb" and url is not None and is_loopback_url(url)


def run(args: argparse.Namespace) -> int:
    """Run the dev server until SIGINT or SIGTERM; returns the exit status.

    Nothing is created (no ``.authlib/`` folder, no secret, no database) before the functions folder is found and the
    port is bound, so a mistyped folder or a busy port leaves the current folder as it was.

    Raises:
        ConfigError: the functions folder does not exist, the port cannot be bound, or the options do not fit.
    """
    from authlib_core.database.stored_check import StoredDocumentsCheck
    from authlib_core.dev.defaults import describe_rate_limits, describe_social, with_dev_defaults
    from authlib_core.dev.server import CorsPolicy, DevServer

    settings = settings_with_engine(Settings.from_env(), args)
    # The dev server tells the caller what an uncaught exception was, as a Convex dev deployment does.
    settings = dataclasses.replace(settings, functions_dir=args.functions or settings.functions_dir, expose_errors=True)
    check_functions_dir(settings.functions_dir, given=args.functions is not None)
    settings = with_dev_defaults(settings)
    # Auth mail goes to a folder (one .eml per message, and a console line with its link) unless SES is asked for.
    if settings.mail != "ses":
        settings = dataclasses.replace(settings, mail="folder", mail_dir=args.mail_dir or settings.mail_dir)
    origins = cors_origins(args.cors_origin)
    # As on AWS, where AllowedOrigins feeds both CORS and AUTHLIB_TRUSTED_ORIGINS: a page allowed to call with
    # credentials may also sign in and make cookie-carrying state changes (the CSRF origin check).
    settings = dataclasses.replace(
        settings, trusted_origins=tuple(dict.fromkeys((*settings.trusted_origins, *origins)))
    )
    static_dir = None if args.no_static else args.static
    if static_dir is None and not args.no_static and DEFAULT_STATIC.is_dir():
        static_dir = DEFAULT_STATIC

    # A schema that stored documents do not match is refused and the last good one stays, as `npx convex dev` does.
    stored_check = StoredDocumentsCheck()

    def check(database: Database) -> None:
        report = stored_check(database)
        if report.checked:
            tables = ", ".join(report.tables)
            print(f"schema: {report.checked} stored documents of {tables} match it", file=server.out, flush=True)

    def build() -> Runtime:
        return build_local_runtime(settings, check=check)

    try:
        server = DevServer(
            build,
            settings.functions_dir,
            host=args.host,
            port=args.port,
            cors=CorsPolicy(origins),
            static_dir=static_dir,
            expose_load_errors=settings.expose_errors,
            trusted_origins=settings.trusted_origins,
            trust_forwarded_proto=settings.trust_forwarded_proto,
            codegen_dir=args.codegen,
            run_jobs=not args.no_jobs,
        )
    except OSError as exc:
        raise ConfigError(port_problem(args.host, args.port, exc)) from None
    try:
        from authlib_core.runtime import server_secrets, with_local_dev_secret

        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        server_secrets(with_local_dev_secret(settings))  # no secret for a remote DynamoDB: refuse now, not per request
    except BaseException:
        server.close()
        raise
    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.httpd.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        print(f"functions: {settings.functions_dir}  {describe_storage(settings)}", file=server.out, flush=True)
        print(describe_rate_limits(settings), file=server.out, flush=True)
        try:
            loaded: Runtime | None = server.reloader.current()
        except Exception:  # the functions failed to load; the server printed why and waits for a fix
            loaded = None
        social = describe_social(loaded, server.url)
        if social is not None:
            print(social, file=server.out, flush=True)
        if static_dir is not None:
            print(f"frontend: {static_dir}", file=server.out, flush=True)
        server.serve_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.close()
    print("stopped", file=server.out, flush=True)
    return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number; give 0-65535, e.g. --port 3211") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number; give 0-65535 (0 picks a free one)")
    return port


def cors_origins(values: Sequence[str]) -> tuple[str, ...]:
    """The origins of ``--cors-origin`` (repeatable, each comma-separated), as browsers send them in ``Origin``.

    Scheme and host are lower-cased and a default port is dropped, so ``HTTP://LocalHost:80/`` matches the
    ``http://localhost`` a browser sends; anything that is not ``scheme://host[:port]`` is refused, since no browser
    would ever send it and the option would silently allow nothing.

    Example:
        >>> cors_origins(["http://localhost:5173,https://App.example.com/"])
        ('http://localhost:5173', 'https://app.example.com')

    Raises:
        ConfigError: a value with a path, query, user name or ``*``, or one that is not an http(s) URL with a host.
    """
    from urllib.parse import urlsplit

    from authlib_core.auth.origin import origin_of

    origins: list[str] = []
    for value in (part.strip() for item in values for part in item.split(",")):
        if not value:
            continue
        origin = origin_of(value)
        if origin is not None:  # origin_of parsed it, so urlsplit cannot fail here
            parts = urlsplit(value.strip())
            if "*" in value or "@" in value or parts.path not in ("", "/") or parts.query or parts.fragment:
                origin = None
        if origin is None:
            raise ConfigError(
                f"--cors-origin {value!r} is not an origin: give scheme://host[:port] as the browser sends it in its "
                "Origin header, e.g. --cors-origin http://localhost:5173 (no path, no '*'; repeat the option for more)."
            )
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


def check_functions_dir(folder: Path, *, given: bool, command: str = "the dev server") -> None:
    """Refuse a functions folder that does not exist (or is not a folder), before anything is created.

    ``command`` names what the user ran, for the advice (``run`` and ``codegen`` check the folder too).

    Example:
        >>> check_functions_dir(Path("no-such-folder"), given=True, command="`authlib-core run`")
        Traceback (most recent call last):
        ...
        authlib_core.errors.ConfigError: --functions no-such-folder (...) does not exist. Run `authlib-core run` ...

    Raises:
        ConfigError: naming the folder, where it was looked for, and how to point at the right one.
    """
    if folder.is_dir():
        return
    what = "is not a folder" if folder.exists() else "does not exist"
    where = f"{folder} ({folder.resolve()})" if not folder.is_absolute() else str(folder)
    source = "--functions" if given else "the functions folder (AUTHLIB_FUNCTIONS_DIR, default: functions)"
    raise ConfigError(
        f"{source} {where} {what}. Run {command} from your project's folder (the one holding functions/), "
        "or pass --functions DIR."
    )


def port_problem(host: str, port: int, exc: OSError) -> str:
    """One line saying why ``host:port`` cannot be bound and what to do (``--port``)."""
    if exc.errno == errno.EADDRINUSE:
        other = port + 1 if 0 < port < 65535 else 3211
        return (
            f"port {port} on {host} is already in use (another dev server?). Stop the other process, or pick "
            f"another port with --port, e.g. --port {other} (--port 0 picks a free one)."
        )
    if exc.errno == errno.EACCES:
        return f"no permission to listen on port {port} of {host}; pick a port above 1023 with --port."
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}. Check --host, or pick another port with --port."


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run (what ``python -m authlib_core dev ...`` calls)."""
    parser = argparse.ArgumentParser(prog="authlib-core dev", description="Run the HTTP dev server.")
    configure_parser(parser)
    return run(parser.parse_args(sys.argv[1:] if argv is None else argv))
