"""The app environment's JSON: what is accepted, what is refused (never echoing a value), and how it is applied."""

from __future__ import annotations

import json

import pytest

from authlib_core.app_env import (
    MAX_APP_ENVIRONMENT_BYTES,
    apply_app_environment,
    check_name,
    dump_app_environment,
    parse_app_environment,
)
from authlib_core.config import Settings
from authlib_core.errors import ConfigError

SECRET = "sk-live-do-not-print-" + "v" * 16


def test_an_object_of_strings_is_read_as_is() -> None:
    values = {"WEBHOOK_SECRET": SECRET, "_private": "", "Mixed_Case9": "ünïcode = ok\nmultiline"}
    assert parse_app_environment(json.dumps(values)) == values


#: Names refused in ``{NAME: <secret>}``, and what the refusal says after the quoted name.
REFUSED_NAMES = [
    ("9LIVES", "is not a usable environment variable name"),
    ("MY-KEY", "is not a usable environment variable name"),
    ("", "is not a usable environment variable name"),
    ("AUTHLIB_SECRETS", "is reserved: names starting with AUTHLIB_"),
    ("AWS_ACCESS_KEY_ID", "is reserved: names starting with AWS_"),
    ("aws_region", "is reserved: names starting with AWS_"),
    ("LAMBDA_TASK_ROOT", "is reserved"),
    ("_HANDLER", "is reserved: the Lambda runtime sets it"),
    ("PATH", "is reserved: the Lambda runtime sets it"),
    ("PYTHONPATH", "is reserved: names starting with PYTHON"),
    ("POWERTOOLS_LOG_LEVEL", "is reserved"),
    ("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "is reserved"),
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("not json " + SECRET, "is not JSON"),
        (json.dumps([SECRET]), "holds JSON list, not an object"),
        (json.dumps(SECRET), "holds JSON str, not an object"),
        (json.dumps({"TOKEN": 42}), "the value of 'TOKEN' is a JSON int"),
        (json.dumps({"TOKEN": [SECRET]}), "the value of 'TOKEN' is a JSON list"),
        (json.dumps({"TOKEN": None}), "the value of 'TOKEN' is a JSON NoneType"),
        (json.dumps({"TOKEN": SECRET + "\x00"}), "the value of 'TOKEN' contains a NUL"),
        *[(json.dumps({name: SECRET}), f"{name!r} {reason}") for name, reason in REFUSED_NAMES],
    ],
)
def test_a_bad_value_names_the_problem_and_never_the_value(raw: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_app_environment(raw, source="The SSM parameter '/app/env'")
    assert expected in caught.value.message
    assert caught.value.message.startswith("The SSM parameter '/app/env'")
    assert SECRET not in caught.value.message
    assert "do-not-print" not in repr(caught.value)


def test_the_size_is_bounded_by_what_a_standard_parameter_holds() -> None:
    def sized(n: int) -> str:
        empty = len(json.dumps({"BIG": ""}, separators=(",", ":")))
        return json.dumps({"BIG": "x" * (n - empty)}, separators=(",", ":"))

    assert parse_app_environment(sized(MAX_APP_ENVIRONMENT_BYTES)) == {"BIG": "x" * (MAX_APP_ENVIRONMENT_BYTES - 10)}
    with pytest.raises(ConfigError, match=f"is {MAX_APP_ENVIRONMENT_BYTES + 1} bytes, more than the 4096"):
        parse_app_environment(sized(MAX_APP_ENVIRONMENT_BYTES + 1))
    # Bytes, not characters: multi-byte values count as SSM counts them.
    with pytest.raises(ConfigError, match="bytes, more than"):
        parse_app_environment(json.dumps({"BIG": "é" * 2100}, ensure_ascii=False))


def test_what_is_written_reads_back_and_bad_values_are_never_written() -> None:
    values = {"B": "2", "A": "1 = one", "C": "ü"}
    assert parse_app_environment(dump_app_environment(values)) == values
    with pytest.raises(ConfigError, match="'AWS_REGION' is reserved"):
        dump_app_environment({**values, "AWS_REGION": "x"})
    with pytest.raises(ConfigError, match="bytes, more than"):
        dump_app_environment({"BIG": "x" * MAX_APP_ENVIRONMENT_BYTES})


def test_names_are_checked_alone_for_the_cli() -> None:
    assert check_name("OPENAI_API_KEY") == "OPENAI_API_KEY"
    with pytest.raises(ConfigError, match="'A B' is not a usable"):
        check_name("A B")


def test_applying_adds_the_variables_and_never_overrides_the_functions_own() -> None:
    environ = {"AUTHLIB_ENGINE": "dynamodb", "FEATURE": "from-template"}
    apply_app_environment({"WEBHOOK_SECRET": SECRET, "FEATURE": "from-template"}, environ)  # same value: fine
    assert environ == {"AUTHLIB_ENGINE": "dynamodb", "FEATURE": "from-template", "WEBHOOK_SECRET": SECRET}
    apply_app_environment({"WEBHOOK_SECRET": SECRET}, environ)  # a runtime built twice in one process
    with pytest.raises(ConfigError) as caught:
        apply_app_environment({"OTHER": "new", "FEATURE": SECRET}, environ)
    assert "sets FEATURE, which this function's configuration already sets" in caught.value.message
    assert SECRET not in caught.value.message
    assert "from-template" not in caught.value.message
    assert "OTHER" not in environ  # all or nothing
    with pytest.raises(ConfigError, match="'AUTHLIB_ENGINE' is reserved"):
        apply_app_environment({"NEW": "1", "AUTHLIB_ENGINE": "dynamodb"}, environ)
    assert "NEW" not in environ


def test_settings_read_no_app_environment_without_a_parameter_and_never_show_one() -> None:
    assert Settings.from_env({"AUTHLIB_APP_ENV_PARAMETER": " "}).app_environment == ()
    settings = Settings(app_environment=(("WEBHOOK_SECRET", SECRET),))
    assert SECRET not in repr(settings)
