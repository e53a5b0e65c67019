"""The server secret from SSM through the Parameters and Secrets extension, with the stdlib only."""

from __future__ import annotations

import pytest

from authlib_core.config import Settings
from authlib_core.config_secrets import fetch_ssm_parameter
from authlib_core.errors import ConfigError
from tests.sam.fake_extension import fake_extension

NAME = "/authlib-core/test/secrets"


def env_for(port: int, **extra: str) -> dict[str, str]:
    return {"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(port), "AWS_SESSION_TOKEN": "session-token", **extra}


def test_reads_the_decrypted_value() -> None:
    with fake_extension({NAME: "s3cret-one,s3cret-two"}) as ext:
        assert fetch_ssm_parameter(NAME, env_for(ext.port)) == "s3cret-one,s3cret-two"


def test_waits_while_the_extension_is_starting() -> None:
    with fake_extension({NAME: "value"}, not_ready=3) as ext:
        assert fetch_ssm_parameter(NAME, env_for(ext.port)) == "value"
        assert len(ext.requests) == 4


@pytest.mark.parametrize(
    ("parameters", "token"), [({}, "session-token"), ({NAME: "value"}, "wrong-token")], ids=["missing", "bad-token"]
)
def test_fails_with_a_clear_message_and_no_value(parameters: dict[str, str], token: str) -> None:
    with fake_extension(parameters, token=token) as ext, pytest.raises(ConfigError) as info:
        fetch_ssm_parameter(NAME, env_for(ext.port), timeout_s=0.2)
    assert NAME in str(info.value)
    assert "ssm:GetParameter" in str(info.value)
    assert "value" not in str(info.value).replace("Value", "")


def test_unreachable_extension_is_a_config_error() -> None:
    with fake_extension({}) as ext:
        port = ext.port
    with pytest.raises(ConfigError, match="localhost"):
        fetch_ssm_parameter(NAME, env_for(port), timeout_s=0.1)


def test_settings_take_secrets_from_the_parameter_when_unset() -> None:
    first, second, explicit = "first-" + "a" * 32, "second-" + "b" * 32, "explicit-" + "c" * 32
    with fake_extension({NAME: f"{first}, {second}"}) as ext:
        settings = Settings.from_env(env_for(ext.port, AUTHLIB_SECRETS_PARAMETER=NAME))
        assert settings.secrets == (first, second)
        # An explicit AUTHLIB_SECRETS wins and no request is made.
        assert Settings.from_env(
            env_for(ext.port, AUTHLIB_SECRETS_PARAMETER=NAME, AUTHLIB_SECRETS=explicit)
        ).secrets == (explicit,)
        assert len(ext.requests) == 1


def test_allowed_kinds() -> None:
    assert Settings.from_env({}).allowed_kinds is None
    assert Settings.from_env({"AUTHLIB_ALLOWED_KINDS": "query, mutation"}).allowed_kinds == {"query", "mutation"}
