"""``authlib-core env``: your deployed functions' own variables, like ``npx convex env``.

They live in one SSM Parameter Store SecureString (template parameter ``AppEnvironmentParameterName``) as a JSON
object of ``NAME -> value``; every function that runs your code reads it at cold start into ``os.environ``
(:mod:`authlib_core.app_env`). ``--parameter`` names it (the stack's ``AppEnvironmentParameterName``).

- ``env set NAME [VALUE]``: set a variable (no VALUE: read it from stdin, so a secret stays out of shell history);
  creates the parameter if it does not exist.
- ``env unset NAME``: remove it. ``env get NAME``: print its value. ``env list``: the names (``--values``: with values).

Each change is a read-modify-write of the whole object. SSM has no conditional put, so two concurrent changes
could lose one: the write reports the version it produced, and if that is not the next version after the one read
(someone else wrote in between), the command fails saying so. Creating the parameter is atomic (no overwrite).

Example:
    $ authlib-core env set WEBHOOK_SECRET --parameter /my-app/prod/env < webhook-secret.txt
    Set WEBHOOK_SECRET in /my-app/prod/env (version 3). Functions read it at their next cold start.
    $ authlib-core env list --parameter /my-app/prod/env
    WEBHOOK_SECRET
"""

from __future__ import annotations

import functools
import re
import sys
from typing import TYPE_CHECKING, Any

from authlib_core.app_env import check_name, dump_app_environment, parse_app_environment
from authlib_core.errors import AuthlibError, ConfigError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

__all__ = ["configure_parser"]

_PARAMETER_NAME = re.compile(r"/[a-zA-Z0-9_.\-/]+")  # template.yaml's AllowedPattern for the parameter


class EnvCommandError(AuthlibError):
    """An ``env`` command could not do what was asked (exit status 1)."""

    code = "EnvCommandError"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``env`` subcommands to ``parser``."""
    commands = parser.add_subparsers(dest="env_command", required=True, metavar="ENV_COMMAND")
    set_ = commands.add_parser("set", help="set a variable (VALUE omitted: read from stdin)")
    set_.add_argument("name", metavar="NAME")
    set_.add_argument("value", metavar="VALUE", nargs="?", help="the value (omit it to read the value from stdin)")
    set_.add_argument("--kms-key-id", help="KMS key to encrypt with (default: the account's aws/ssm key)")
    set_.set_defaults(handler=_aws_errors(_set))
    unset = commands.add_parser("unset", help="remove a variable")
    unset.add_argument("name", metavar="NAME")
    unset.set_defaults(handler=_aws_errors(_unset))
    get = commands.add_parser("get", help="print a variable's value")
    get.add_argument("name", metavar="NAME")
    get.set_defaults(handler=_aws_errors(_get))
    list_ = commands.add_parser("list", help="print the variables' names, one a line")
    list_.add_argument("--values", action="store_true", help="print NAME=VALUE lines (shows the secrets)")
    list_.set_defaults(handler=_aws_errors(_list))
    for command in (set_, unset, get, list_):
        # Required, not read from $AUTHLIB_APP_ENV_PARAMETER: with that exported, every other command's settings
        # would try to read the parameter through the Lambda extension.
        command.add_argument(
            "--parameter",
            required=True,
            help="SSM parameter holding the variables, e.g. /my-app/prod/env (template.yaml's "
            "AppEnvironmentParameterName)",
        )
        command.add_argument("--region", help="AWS region (default: the AWS configuration's)")
        command.add_argument("--endpoint-url", help="SSM endpoint override (moto server, LocalStack)")


def _aws_errors(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """AWS's refusals (no credentials, no region, access denied) as one line naming the parameter."""

    @functools.wraps(command)
    def guarded(options: argparse.Namespace) -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return command(options)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise EnvCommandError(
                f"SSM refused {exc.operation_name} on {options.parameter!r}: {error.get('Code')}: "
                f"{error.get('Message')}"
            ) from None
        except BotoCoreError as exc:
            raise EnvCommandError(f"Could not reach SSM for {options.parameter!r}: {exc}") from None

    return guarded


class _Stored:
    """The parameter as read: its variables and version (0 when it does not exist yet)."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name
        self.values: dict[str, str] = {}
        self.version = 0
        errors = client.exceptions
        try:
            parameter = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        except errors.ParameterNotFound:
            return
        if parameter.get("Type") != "SecureString":
            raise ConfigError(
                f"The SSM parameter {name!r} is a {parameter.get('Type')} parameter, not a SecureString; the app's "
                "variables may hold secrets. Delete it (aws ssm delete-parameter) or name another with --parameter."
            )
        self.values = parse_app_environment(parameter["Value"], source=f"The SSM parameter {name!r}")
        self.version = int(parameter["Version"])

    def write(self, values: dict[str, str], kms_key_id: str | None = None) -> int:
        """Store ``values``; returns the new version. Raises EnvCommandError if another write came in between."""
        request: dict[str, Any] = {
            "Name": self.name,
            "Value": dump_app_environment(values),
            "Type": "SecureString",
            "Overwrite": self.version > 0,
            "Tier": "Standard",
        }
        if kms_key_id:
            request["KeyId"] = kms_key_id
        if self.version == 0:
            request["Description"] = "authlib-core app environment (authlib-core env set; JSON NAME -> value)"
        try:
            version = int(self.client.put_parameter(**request)["Version"])
        except self.client.exceptions.ParameterAlreadyExists:
            raise EnvCommandError(
                f"The SSM parameter {self.name!r} was created by someone else while this command ran; run it again."
            ) from None
        if version != self.version + 1:
            raise EnvCommandError(
                f"The SSM parameter {self.name!r} changed while this command ran (read version {self.version}, "
                f"wrote version {version}): the other change may be lost. Check `authlib-core env list`, and "
                f"`aws ssm get-parameter-history --name {self.name}` for what it was."
            )
        return version


def _open(options: argparse.Namespace) -> _Stored:
    name = options.parameter.strip()
    if _PARAMETER_NAME.fullmatch(name) is None:
        raise ConfigError(
            f"--parameter {name!r} is not an SSM parameter name template.yaml accepts: it starts with '/' and "
            "holds letters, digits and _ . - / only."
        )
    import boto3

    client = boto3.client("ssm", region_name=options.region, endpoint_url=options.endpoint_url)
    return _Stored(client, name)


def _done(message: str) -> int:
    print(message, file=sys.stderr)
    return 0


def _set(options: argparse.Namespace) -> int:
    name = check_name(options.name)
    value = options.value
    if value is None:
        value = sys.stdin.read()
        value = value[:-1] if value.endswith("\n") else value
        value = value[:-1] if value.endswith("\r") else value
    stored = _open(options)
    if stored.values.get(name) == value:
        return _done(f"{name} already has this value in {stored.name} (version {stored.version}); nothing written.")
    version = stored.write({**stored.values, name: value}, options.kms_key_id)
    return _done(f"Set {name} in {stored.name} (version {version}). Functions read it at their next cold start.")


def _unset(options: argparse.Namespace) -> int:
    name = check_name(options.name)
    stored = _open(options)
    if name not in stored.values:
        return _done(f"{name} is not set in {stored.name}; nothing written.")
    version = stored.write({k: v for k, v in stored.values.items() if k != name})
    return _done(
        f"Removed {name} from {stored.name} (version {version}). Functions lose it at their next cold start; "
        "earlier versions keep it in the parameter's history."
    )


def _get(options: argparse.Namespace) -> int:
    name = check_name(options.name)
    stored = _open(options)
    if name not in stored.values:
        raise EnvCommandError(f"{name} is not set in {stored.name} (authlib-core env list shows what is).")
    print(stored.values[name])
    return 0


def _list(options: argparse.Namespace) -> int:
    stored = _open(options)
    for name in sorted(stored.values):
        print(f"{name}={stored.values[name]}" if options.values else name)
    return 0
