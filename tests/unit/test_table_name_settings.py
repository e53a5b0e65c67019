"""DynamoDB table names are checked when the settings are read (the request path's client does not check them)."""

from __future__ import annotations

import pytest

from authlib_core.config import LiveSettings, Settings
from authlib_core.errors import ConfigError

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/app-documents"


@pytest.mark.parametrize("variable", ["AUTHLIB_DOCUMENTS_TABLE", "AUTHLIB_SESSIONS_TABLE"])
@pytest.mark.parametrize("value", ["", "  ", "ab", "has space", "x" * 256, "docs/other", "tab\tle", "é-table"])
def test_a_value_that_is_no_table_name_is_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{variable} is .*not a DynamoDB table name"):
        Settings.from_env({variable: value})


@pytest.mark.parametrize("value", ["abc", "app-prod_documents.v2", "x" * 255, ARN, "  padded-name  "])
def test_table_names_and_arns_are_accepted(value: str) -> None:
    settings = Settings.from_env({"AUTHLIB_DOCUMENTS_TABLE": value, "AUTHLIB_SESSIONS_TABLE": value})
    assert settings.documents_table == settings.sessions_table == value.strip()


def test_unset_table_names_keep_their_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.documents_table, settings.sessions_table) == ("authlib-documents", "authlib-sessions")


def test_the_sync_table_is_checked_too() -> None:
    issuer = {"AUTHLIB_HTTP_API_URL": "https://api.example.test"}
    assert LiveSettings.from_env({"AUTHLIB_SYNC_TABLE": "app-sync", **issuer}).sync_table == "app-sync"
    with pytest.raises(ConfigError, match="AUTHLIB_SYNC_TABLE is not set"):
        LiveSettings.from_env(issuer)
    with pytest.raises(ConfigError, match=r"^AUTHLIB_SYNC_TABLE is 'app sync', which is not a DynamoDB table name"):
        LiveSettings.from_env({"AUTHLIB_SYNC_TABLE": "app sync", **issuer})
