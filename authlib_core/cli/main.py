"""``authlib-core`` / ``python -m authlib_core``: run functions from the shell, start the dev server.

Commands:

- ``run PATH [ARGS_JSON]``: like ``npx convex run``. Loads the functions folder, runs the function (any kind; internal
  functions too, as Convex's admin CLI can) against the local store and prints the result as JSON.
- ``dev``: the HTTP dev server (``authlib_core.dev.server``).
- ``codegen``: typed ``api`` objects for TypeScript, like ``npx convex codegen`` (``authlib_core.dev.codegen``).
- ``init DIR``: a new project in ``DIR`` (``authlib_core.cli.init``; never overwrites a file).
- ``infra create-tables`` / ``infra migrate``: provision the DynamoDB tables and bring the stored indexes in line with
  the app's schema (``authlib_core.cli.infra``).
- ``env set|unset|get|list``: the deployed functions' own variables, like ``npx convex env`` (``authlib_core.cli.env``).

``run`` and ``dev`` take ``--engine sqlite|dynamodb`` (default ``$AUTHLIB_ENGINE`` or sqlite), ``--endpoint-url URL``
(DynamoDB only) and ``--db PATH`` (SQLite only); see ``authlib_core.dev.cli``.

Exit status: 0 on success; 1 when the function (or loading the functions folder) failed; 2 for a usage error (bad
options, ``ARGS_JSON`` that is not a JSON object, invalid settings, a functions folder that does not exist).
Errors are one line on stderr starting with ``error:``; an exception your code did not expect also prints its
traceback first. ``authlib-core --version`` prints the installed version.

Example:
    $ python -m authlib_core run myData:add '{"text": "hello"}' --identity user123
    "myData|..."
    $ python -m authlib_core infra create-tables --endpoint-url http://127.0.0.1:8000
    $ python -m authlib_core run myData:getMyData --identity user123 --engine dynamodb \\
          --endpoint-url http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authlib_core._version import __version__
from authlib_core.auth import NoAuth, StaticAuth, UserIdentity
from authlib_core.cli.env import configure_parser as configure_env
from authlib_core.cli.infra import configure_parser as configure_infra
from authlib_core.cli.init import configure_parser as configure_init
from authlib_core.config import Settings
from authlib_core.dev.cli import add_engine_options, build_local_runtime, check_functions_dir, settings_with_engine
from authlib_core.dev.cli import configure_parser as configure_dev
from authlib_core.dev.cli import run as run_dev
from authlib_core.errors import AuthlibError, ConfigError, InvalidValueError, StorageUnavailableError
from authlib_core.values import decode, encode

if TYPE_CHECKING:
    from collections.abc import Sequence

    from authlib_core.auth import Auth

__all__ = ["CLI_ISSUER", "main"]

#: The ``issuer`` of identities made with ``run --identity``.
CLI_ISSUER = "authlib-core-cli"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="authlib-core", description="Convex-style backend functions with Better-Auth-style sessions."
    )
    parser.add_argument("--version", action="version", version=f"authlib-core {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a function and print its result as JSON (like `npx convex run`)")
    run.add_argument("path", metavar="PATH", help='function path, for example "myData:getMyData"')
    run.add_argument("args", metavar="ARGS_JSON", nargs="?", default="{}", help="arguments as a JSON object")
    run.add_argument("--functions", type=Path, help="functions folder (default: $AUTHLIB_FUNCTIONS_DIR or functions)")
    add_engine_options(run)
    run.add_argument("--format", choices=("json", "convex_encoded_json"), default="json", help="output encoding")
    run.add_argument(
        "--identity",
        metavar="USER_ID",
        help="run as this signed-in user: a user id, or a JSON identity as `npx convex run` takes it, e.g. "
        '\'{"subject": "<user id>", "email": "a@example.com"}\'',
    )
    run.set_defaults(handler=_run)

    dev = commands.add_parser("dev", help="serve ./functions over HTTP with live reload (like `npx convex dev`)")
    configure_dev(dev)
    dev.set_defaults(handler=run_dev)

    codegen = commands.add_parser(
        "codegen", help="write typed `api` objects for TypeScript (_generated/api.d.ts, api.js, dataModel.d.ts)"
    )
    codegen.add_argument(
        "--functions", type=Path, help="functions folder (default: $AUTHLIB_FUNCTIONS_DIR or functions)"
    )
    codegen.add_argument(
        "--out", type=Path, default=None, help="folder to write into (default: <functions>/_generated)"
    )
    codegen.set_defaults(handler=_codegen)

    init = commands.add_parser("init", help="create a new project: functions, tests, SAM template, build files")
    configure_init(init)

    infra = commands.add_parser("infra", help="provision DynamoDB: create the tables, migrate the indexes")
    configure_infra(infra)

    env = commands.add_parser(
        "env", help="your deployed functions' own variables in SSM (like `npx convex env`): set, unset, get, list"
    )
    configure_env(env)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    options = _parser().parse_args(argv)
    handler: Any = options.handler
    try:
        status: int = handler(options)
    except _UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except ConfigError as exc:
        return _fail(exc.message, EXIT_USAGE)
    except StorageUnavailableError as exc:
        return _fail(storage_error_text(exc), EXIT_FAILED)
    except AuthlibError as exc:
        text = f"{type(exc).__name__}: {exc.message}" if exc.code == "ConvexError" else exc.message
        detail = getattr(exc, "detail", "")  # storage errors: what the operator needs, kept out of HTTP bodies
        return _fail(f"{text} ({detail})" if detail else text, EXIT_FAILED)
    except Exception as exc:
        traceback.print_exc()
        return _fail(f"Uncaught {type(exc).__name__}: {exc}", EXIT_FAILED)
    return status


def _run(options: argparse.Namespace) -> int:
    args = _parse_args_json(options.args)
    if options.identity is not None:
        _parse_identity(options.identity)  # a usage error before anything is loaded
    settings = settings_with_engine(Settings.from_env(), options)
    if options.functions is not None:
        settings = dataclasses.replace(settings, functions_dir=options.functions)
    check_functions_dir(settings.functions_dir, given=options.functions is not None, command="`authlib-core run`")
    runtime = build_local_runtime(settings)
    auth: Auth = NoAuth() if options.identity is None else StaticAuth(_parse_identity(options.identity))
    result = runtime.executor.call(options.path, args, auth=auth, public_only=False)
    print(json.dumps(encode(result, options.format), ensure_ascii=False))
    return EXIT_OK


def _codegen(options: argparse.Namespace) -> int:
    from authlib_core.dev.codegen import write_generated
    from authlib_core.functions import load_functions

    functions = options.functions or Settings.from_env().functions_dir
    check_functions_dir(functions, given=options.functions is not None, command="`authlib-core codegen`")
    out = options.out or functions / "_generated"
    app = load_functions(functions)
    try:
        written = write_generated(app, out)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the generated files into {out}: {exc.strerror or exc} ({exc.filename}); pick a writable "
            "folder with --out DIR."
        ) from None
    print(f"wrote {len(written)} file(s) to {out}" if written else f"{out} is up to date")
    return EXIT_OK


def _parse_args_json(text: str) -> Any:
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _UsageError(f'ARGS_JSON is not valid JSON ({exc}); pass an object like \'{{"text": "hi"}}\'') from exc
    if not isinstance(parsed, dict):
        raise _UsageError(f"ARGS_JSON must be a JSON object, got {type(parsed).__name__}; pass {{}} for no arguments")
    try:
        return decode(parsed)
    except InvalidValueError as exc:
        raise _UsageError(f"ARGS_JSON holds a value that is not a Convex value: {exc.message}") from exc


#: The ``--identity`` JSON keys with a field of their own (Convex's ``UserIdentity`` names) and their types.
_IDENTITY_KEYS: dict[str, type] = {
    "subject": str,
    "issuer": str,
    "tokenIdentifier": str,
    "email": str,
    "name": str,
    "emailVerified": bool,
}
_IDENTITY_EXAMPLE = '\'{"subject": "<user id>", "email": "a@example.com"}\''


def _parse_identity(text: str) -> UserIdentity:
    """``--identity``: a user id, or a JSON object as ``npx convex run --identity`` takes it (``subject`` required).

    Other keys of the object become the identity's extra claims.
    """
    if not text.lstrip().startswith("{"):
        return UserIdentity(subject=text, token_identifier=f"{CLI_ISSUER}|{text}", issuer=CLI_ISSUER)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _UsageError(f"--identity is not valid JSON ({exc}); pass a user id or {_IDENTITY_EXAMPLE}") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("subject"), str) or not parsed["subject"]:
        raise _UsageError(f'--identity JSON needs a "subject" string (the user id), e.g. {_IDENTITY_EXAMPLE}')
    for key, kind in _IDENTITY_KEYS.items():
        if key in parsed and not isinstance(parsed[key], kind):
            raise _UsageError(f"--identity: {key!r} must be a {kind.__name__}, got {json.dumps(parsed[key])}")
    try:
        extra = {key: decode(value) for key, value in parsed.items() if key not in _IDENTITY_KEYS}
    except InvalidValueError as exc:
        raise _UsageError(f"--identity holds a value that is not a Convex value: {exc.message}") from None
    subject: str = parsed["subject"]
    issuer: str = parsed.get("issuer", CLI_ISSUER)
    return UserIdentity(
        subject=subject,
        token_identifier=parsed.get("tokenIdentifier", f"{issuer}|{subject}"),
        issuer=issuer,
        email=parsed.get("email"),
        name=parsed.get("name"),
        email_verified=parsed.get("emailVerified"),
        extra=extra,
    )


def storage_error_text(error: StorageUnavailableError) -> str:
    """A storage error as the command line says it: what failed and what to do, then the native error.

    The engine's ``operator_message`` when it has one (no credentials, a missing table, access denied, ...), else
    its message; never the HTTP wording ("retry the request") where a terminal-specific one exists.

    Example:
        >>> storage_error_text(StorageUnavailableError("x", detail="GetItem: NoCredentialsError",
        ...     operator_message="no AWS credentials were found: set AWS_PROFILE"))
        'no AWS credentials were found: set AWS_PROFILE (GetItem: NoCredentialsError)'
    """
    text = error.operator_message or error.message
    return f"{text} ({error.detail})" if error.detail else text


def _fail(message: str, status: int) -> int:
    print(f"error: {' '.join(message.splitlines())}", file=sys.stderr)
    return status
