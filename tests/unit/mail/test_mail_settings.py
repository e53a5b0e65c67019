"""Mail and emailed-link settings from the environment, and the sender the runtime builds from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from authlib_core.config import AuthSettings, Settings
from authlib_core.errors import ConfigError
from authlib_core.mail.folder import FolderMailSender
from authlib_core.runtime import build_mail

SECRET = "s" * 40


def test_defaults_mean_no_mail() -> None:
    settings = Settings.from_env({})
    assert settings.mail is None
    assert build_mail(settings) == {}
    auth = settings.auth
    assert (auth.require_email_verification, auth.sends_verification_on_sign_up) == (False, False)
    assert (auth.reset_token_expires_in, auth.verification_token_expires_in, auth.change_email_enabled) == (
        3600,
        3600,
        True,
    )


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "AUTHLIB_MAIL": "SES",
            "AUTHLIB_MAIL_FROM": "example.com",
            "AUTHLIB_SES_CONFIGURATION_SET": "auth-mail",
            "AUTHLIB_BASE_URL": "https://api.example.com/",
            "AUTHLIB_REQUIRE_EMAIL_VERIFICATION": "true",
            "AUTHLIB_SEND_VERIFICATION_ON_SIGN_UP": "off",
            "AUTHLIB_RESET_TOKEN_EXPIRES_IN": "600",
            "AUTHLIB_VERIFICATION_TOKEN_EXPIRES_IN": "86400",
            "AUTHLIB_CHANGE_EMAIL": "off",
            "AUTHLIB_MAIL_DIR": "/tmp/inbox",
        }
    )
    assert (settings.mail, settings.mail_from, settings.ses_configuration_set) == (
        "ses",
        "no-reply@example.com",
        "auth-mail",
    )
    assert settings.mail_dir == Path("/tmp/inbox")
    auth = settings.auth
    assert auth.base_url == "https://api.example.com"
    assert (auth.require_email_verification, auth.sends_verification_on_sign_up) == (True, False)
    assert (auth.reset_token_expires_in, auth.verification_token_expires_in) == (600, 86400)
    assert auth.change_email_enabled is False


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AUTHLIB_MAIL": "smtp"}, "AUTHLIB_MAIL is 'smtp'; set it to 'ses', 'folder' or 'off'"),
        ({"AUTHLIB_BASE_URL": "https://api.example.com/path"}, "is not an origin"),
        ({"AUTHLIB_BASE_URL": "javascript:alert(1)"}, "is not an origin"),
        ({"AUTHLIB_RESET_TOKEN_EXPIRES_IN": "0"}, "AUTHLIB_RESET_TOKEN_EXPIRES_IN is 0; it must be at least 1"),
        ({"AUTHLIB_REQUIRE_EMAIL_VERIFICATION": "maybe"}, "set it to 'on' or 'off'"),
    ],
)
def test_bad_values_stop_start_up_with_the_variable_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_enumeration_floor_is_bounded() -> None:
    with pytest.raises(ConfigError, match="enumeration_floor"):
        AuthSettings(secrets=(SECRET,), enumeration_floor=60)


def test_folder_mail_uses_the_apps_templates(tmp_path: Path) -> None:
    functions = tmp_path / "functions"
    (functions / "emails").mkdir(parents=True)
    (functions / "emails" / "verify-email.subject.txt").write_text("Welcome to Acme, $name", encoding="utf-8")
    built = build_mail(Settings(mail="folder", mail_dir=tmp_path / "mail", functions_dir=functions))
    assert isinstance(built["mailer"], FolderMailSender)
    assert built["mailer"].folder == tmp_path / "mail"
    message = built["templates"].render("verify-email", to="ada@example.com", url="http://x.test/", name="Ada")
    assert message.subject == "Welcome to Acme, Ada"
