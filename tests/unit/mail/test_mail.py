"""The mail package: RFC 5322 messages, templates and overrides, the dev folder, and SES v2 on moto."""

from __future__ import annotations

import email
import email.policy
import io
import random
from typing import TYPE_CHECKING

import pytest

from authlib_core.errors import ConfigError
from authlib_core.mail import MAIL_KINDS, MailMessage, MailTemplates, build_email
from authlib_core.mail.folder import FolderMailSender

if TYPE_CHECKING:
    from pathlib import Path

URL = "http://127.0.0.1:3210/api/auth/verify-email?token=abc&callbackURL=%2F"


def _parse(data: bytes) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def test_every_kind_renders_text_and_html_with_the_link() -> None:
    templates = MailTemplates()
    for kind in MAIL_KINDS:
        message = templates.render(kind, to="ada@example.com", url=URL, name="Ada", new_email="ada@new.example")
        assert message.link == URL
        assert URL in message.text
        assert URL.replace("&", "&amp;") in message.html
        assert "Ada" in message.text


def test_html_values_are_escaped_text_values_are_not() -> None:
    message = MailTemplates().render("reset-password", to="ada@example.com", url=URL, name="<script>x</script>")
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html
    assert "<script>x</script>" in message.text


def test_overrides_in_code_and_from_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "emails"
    folder.mkdir()
    (folder / "reset-password.subject.txt").write_text("Reset for $name\n", encoding="utf-8")
    (folder / "reset-password.html").write_text("<a href='$url'>go</a> $$5", encoding="utf-8")
    templates = MailTemplates.from_folder(folder)
    message = templates.render("reset-password", to="ada@example.com", url=URL, name="Ada")
    assert message.subject == "Reset for Ada"
    assert message.html == f"<a href='{URL.replace('&', '&amp;')}'>go</a> $5"
    assert "Choose a new password" in message.text  # the default text stays
    assert MailTemplates.from_folder(tmp_path / "missing").render("verify-email", to="a@b.example", url=URL)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("reset.txt", "x", "not a mail template name"),
        ("verify-email.txt", "Hello $nme", r"uses \$nme"),
        ("verify-email.html", "costs $", "not followed by a name"),
    ],
)
def test_bad_template_files_are_refused_at_load(tmp_path: Path, name: str, content: str, expected: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        MailTemplates.from_folder(tmp_path)


def test_unknown_kinds_and_parts_are_refused() -> None:
    with pytest.raises(ConfigError, match="kind 'welcome' is unknown"):
        MailTemplates({"welcome": {"text": "hi"}})
    with pytest.raises(ConfigError, match="part 'body' of verify-email is unknown"):
        MailTemplates({"verify-email": {"body": "hi"}})


def test_header_injection_is_refused() -> None:
    with pytest.raises(ValueError, match="control character"):
        MailMessage(to="ada@example.com", subject="Hi\r\nBcc: eve@example.com", text="", html="")
    with pytest.raises(ValueError, match="control character"):
        MailTemplates({"verify-email": {"subject": "Hi $name"}}).render(
            "verify-email", to="ada@example.com", url=URL, name="x\nBcc: eve@example.com"
        )


def test_build_email_is_rfc5322_multipart_alternative() -> None:
    message = MailTemplates().render("verify-email", to="ada@example.com", url=URL, name="Ada")
    parsed = _parse(build_email(message, sender="App <no-reply@example.com>").as_bytes())
    assert parsed["From"] == "App <no-reply@example.com>"
    assert parsed["To"] == "ada@example.com"
    assert parsed["Subject"] == "Verify your email address"
    assert parsed["Message-ID"].endswith("@example.com>")
    assert parsed["Date"]
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None
    assert html is not None
    assert URL in text.get_content()
    assert "<a href=" in html.get_content()


def test_build_email_leaves_the_process_random_state_alone() -> None:
    # A mail sent on a server thread must not move the ``random`` state other code in the process relies on
    # (Hypothesis checks it during draws); two messages get distinct ids and boundaries all the same.
    message = MailTemplates().render("verify-email", to="ada@example.com", url=URL, name="Ada")
    before = random.getstate()
    first = _parse(build_email(message, sender="App <no-reply@example.com>").as_bytes())
    second = _parse(build_email(message, sender="App <no-reply@example.com>").as_bytes())
    assert random.getstate() == before
    assert first["Message-ID"] != second["Message-ID"]
    assert first.get_boundary() != second.get_boundary()
    assert first.get_body(("plain",)) is not None


def test_folder_sender_writes_eml_files_and_prints_one_line(tmp_path: Path) -> None:
    out = io.StringIO()
    sender = FolderMailSender(tmp_path / "mail", out=out)
    templates = MailTemplates()
    first = sender.send(templates.render("verify-email", to="ada@example.com", url=URL))
    second = sender.send(templates.render("reset-password", to="bob@example.com", url=URL + "2"))
    assert sorted((tmp_path / "mail").iterdir()) == [first, second]
    assert b"\r\n" in first.read_bytes()
    assert _parse(second.read_bytes())["To"] == "bob@example.com"
    assert out.getvalue().splitlines() == [
        f'mail: "Verify your email address" to ada@example.com: {URL}',
        f'mail: "Reset your password" to bob@example.com: {URL}2',
    ]


def test_folder_sender_prints_control_characters_of_the_link_as_escapes(tmp_path: Path) -> None:
    out = io.StringIO()
    link = URL + "&next=%2F\u001b]0;pwned\u0007\u001b[2J\u009b"  # a link built from request text
    FolderMailSender(tmp_path / "mail", out=out).send(
        MailMessage("ada@example.com", "Hi", "Hello", "<p>Hello</p>", link=link)
    )
    assert out.getvalue() == f'mail: "Hi" to ada@example.com: {URL}&next=%2F\\x1b]0;pwned\\x07\\x1b[2J\\x9b\n'


def test_ses_sender_sends_the_raw_message_with_the_configuration_set(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from authlib_core.mail.ses import SESMailSender

    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    with mock_aws():
        ses = boto3.client("sesv2", region_name="eu-west-1")
        ses.create_email_identity(EmailIdentity="no-reply@example.com")
        ses.create_configuration_set(ConfigurationSetName="auth-mail")
        sender = SESMailSender("no-reply@example.com", configuration_set="auth-mail", region="eu-west-1")
        requests: list[dict[str, object]] = []
        sender._client.meta.events.register(
            "provide-client-params.sesv2.SendEmail", lambda params, **_: requests.append(dict(params))
        )
        message = MailTemplates().render("reset-password", to="ada@example.com", url=URL)
        message_id = sender.send(message)
        assert message_id
        assert [(r["FromEmailAddress"], r["ConfigurationSetName"]) for r in requests] == [
            ("no-reply@example.com", "auth-mail")
        ]
        sent = ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].sent_messages
        assert len(sent) == 1
        parsed = _parse(sent[0].raw_data.encode() if isinstance(sent[0].raw_data, str) else sent[0].raw_data)
        assert parsed["Subject"] == "Reset your password"
        assert parsed["From"] == "no-reply@example.com"
        assert set(sent[0].destinations) == {"ada@example.com"}


def test_ses_errors_become_a_delivery_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    from authlib_core.mail.ses import MailDeliveryError, SESMailSender

    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    with mock_aws():  # no verified identity: SES refuses the sender
        sender = SESMailSender("no-reply@example.com", region="eu-west-1")
        with pytest.raises(MailDeliveryError, match="SES SendEmail failed with"):
            sender.send(MailTemplates().render("verify-email", to="ada@example.com", url=URL))
