"""Your functions' own settings and secrets: one JSON object of ``NAME -> value``, exposed as environment variables.

On Lambda, ``AUTHLIB_APP_ENV_PARAMETER`` names an SSM SecureString parameter (template parameter
``AppEnvironmentParameterName``) holding ``{"WEBHOOK_SECRET": "...", "STRIPE_KEY": "..."}``. At cold start, before
the functions folder is imported, its values are read through the Parameters and Secrets extension
(:mod:`authlib_core.config_secrets`), checked here, and put into ``os.environ``, so app code reads them with
``os.environ["WEBHOOK_SECRET"]`` as it does under the dev server. ``authlib-core env set/unset/list/get`` edits the
parameter (docs/deploy.md, "Your functions' settings and secrets").

A value is never shown in a message: errors name the key and the problem only.

Example:
    >>> parse_app_environment('{"WEBHOOK_SECRET": "whsec-1", "FEATURE_X": "on"}')
    {'WEBHOOK_SECRET': 'whsec-1', 'FEATURE_X': 'on'}
    >>> check_name("AWS_REGION")
    Traceback (most recent call last):
    ...
    authlib_core.errors.ConfigError: 'AWS_REGION' is reserved: names starting with AWS_ are set by Lambda ...
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from authlib_core.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping, MutableMapping

__all__ = [
    "MAX_APP_ENVIRONMENT_BYTES",
    "apply_app_environment",
    "check_name",
    "dump_app_environment",
    "parse_app_environment",
]

#: Bound of the stored JSON: what one SSM standard-tier parameter holds (4 KB; advanced ones cost a monthly fee).
MAX_APP_ENVIRONMENT_BYTES = 4096

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Prefixes of names Lambda, AWS tooling, Powertools, the secrets extension or authlib-core read or set.
_RESERVED_PREFIXES = (
    "AWS_",
    "_AWS_",
    "_X_AMZN_",
    "LAMBDA_",
    "AUTHLIB_",
    "POWERTOOLS_",
    "PARAMETERS_SECRETS_",
    "SSM_PARAMETER_STORE_",
    "SECRETS_MANAGER_",
    "PYTHON",
)
#: Whole names the Lambda runtime sets (Lambda developer guide, "Defined runtime environment variables").
_RESERVED_NAMES = frozenset({"_HANDLER", "PATH", "LANG", "TZ", "HOME", "LD_LIBRARY_PATH", "NODE_PATH"})


def check_name(name: str) -> str:
    """Return ``name`` if it may be one of the app's variables; raise ConfigError naming it otherwise.

    Example:
        >>> check_name("OPENAI_API_KEY")
        'OPENAI_API_KEY'
    """
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise ConfigError(
            f"{name!r} is not a usable environment variable name: use letters, digits and '_', not starting with a "
            "digit (e.g. WEBHOOK_SECRET)."
        )
    upper = name.upper()
    prefix = next((p for p in _RESERVED_PREFIXES if upper.startswith(p)), None)
    if prefix is not None:
        raise ConfigError(
            f"{name!r} is reserved: names starting with {prefix} are set by Lambda, AWS tooling or authlib-core "
            "itself, and the app's variables never override them. Choose another name."
        )
    if upper in _RESERVED_NAMES:
        raise ConfigError(
            f"{name!r} is reserved: the Lambda runtime sets it, and the app's variables never override it. "
            "Choose another name."
        )
    return name


def parse_app_environment(raw: str, *, source: str = "the app environment") -> dict[str, str]:
    """Check ``raw`` (JSON text) and return its ``NAME -> value`` pairs.

    Raises:
        ConfigError: not a JSON object, a value that is not a string, a bad or reserved name, or larger than
            :data:`MAX_APP_ENVIRONMENT_BYTES`; the message names ``source`` and the key, never a value.
    """
    size = len(raw.encode("utf-8"))
    if size > MAX_APP_ENVIRONMENT_BYTES:
        raise ConfigError(
            f"{source} is {size} bytes, more than the {MAX_APP_ENVIRONMENT_BYTES} it may hold; keep large "
            "configuration elsewhere (e.g. S3) and store only its location here."
        )
    try:
        data = json.loads(raw)
    except ValueError:
        raise ConfigError(
            f'{source} is not JSON; it holds one object of NAME -> string value, e.g. {{"WEBHOOK_SECRET": "..."}} '
            "(authlib-core env set writes it)."
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source} holds JSON {type(data).__name__}, not an object of NAME -> string value "
            "(authlib-core env set writes it)."
        )
    values: dict[str, str] = {}
    for name, value in data.items():
        try:
            check_name(name)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        if not isinstance(value, str):
            raise ConfigError(
                f"{source}: the value of {name!r} is a JSON {type(value).__name__}; environment variables are "
                "strings (authlib-core env set stores them as such)."
            )
        if "\x00" in value:
            raise ConfigError(f"{source}: the value of {name!r} contains a NUL character, which no variable can hold.")
        values[name] = value
    return values


def dump_app_environment(values: Mapping[str, str]) -> str:
    """The JSON text stored for ``values`` (sorted keys), checked like what is read back.

    Example:
        >>> dump_app_environment({"B": "2", "A": "1"})
        '{"A":"1","B":"2"}'
    """
    text = json.dumps(dict(values), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    parse_app_environment(text)
    return text


def apply_app_environment(values: Mapping[str, str], environ: MutableMapping[str, str]) -> None:
    """Put ``values`` into ``environ`` without overriding anything already set to another value.

    A name the function's configuration (template.yaml) already sets differently is refused: which of the two
    values would win is exactly the ambiguity to avoid. The same value again is a no-op (a runtime built twice).

    Raises:
        ConfigError: a reserved name, or a name already set to another value; the message names it, never either
            value. Nothing is set then.
    """
    for name in values:
        check_name(name)
    clashes = sorted(name for name, value in values.items() if environ.get(name, value) != value)
    if clashes:
        raise ConfigError(
            f"The app environment sets {', '.join(clashes)}, which this function's configuration already sets "
            "(template.yaml); remove the name from one of the two (authlib-core env unset NAME)."
        )
    for name, value in values.items():
        environ[name] = value
