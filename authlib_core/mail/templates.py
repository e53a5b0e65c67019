"""The messages auth sends, as overridable templates (subject, plain text, HTML).

Each kind has a default. An app overrides any part of any kind with files in ``<functions>/emails/``:
``<kind>.subject.txt``, ``<kind>.txt`` and ``<kind>.html`` (UTF-8), or in code with ``MailTemplates(overrides=...)``.
Templates use :class:`string.Template` placeholders: ``$url`` (the link), ``$name``, ``$email`` (the recipient) and,
for the change-email messages, ``$new_email``. In HTML every value is escaped (``html.escape``); in the subject and
the text it is inserted as is (the subject refuses line breaks). An unknown placeholder is a configuration error,
reported when the templates are loaded, not when the first message is sent.

Example:
    >>> templates = MailTemplates(overrides={"verify-email": {"subject": "Welcome, $name"}})
    >>> templates.render("verify-email", to="ada@example.com", url="https://x.example/v", name="Ada").subject
    'Welcome, Ada'
"""

from __future__ import annotations

import html
from string import Template
from typing import TYPE_CHECKING, Final

from authlib_core.errors import ConfigError
from authlib_core.mail.message import MailMessage

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

__all__ = ["MAIL_KINDS", "PARTS", "MailTemplates"]

#: The messages auth sends.
MAIL_KINDS: Final = ("verify-email", "reset-password", "change-email-confirmation", "delete-account")
#: The parts of each message, and the file suffix that overrides each.
PARTS: Final = {"subject": ".subject.txt", "text": ".txt", "html": ".html"}
_PLACEHOLDERS: Final = frozenset({"url", "name", "email", "new_email"})

_PAGE = (
    '<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5">'
    "<p>Hello $name,</p><p>{lead}</p>"
    '<p><a href="$url" style="display:inline-block;padding:8px 16px;background:#111;color:#fff;'
    'text-decoration:none;border-radius:4px">{action}</a></p>'
    '<p style="color:#555;font-size:90%">Or open this link: $url<br>{tail}</p></body></html>'
)
_IGNORE: Final = "If you did not ask for this, ignore this message."

_DEFAULTS: Final[dict[str, dict[str, str]]] = {
    "verify-email": {
        "subject": "Verify your email address",
        "text": f"Hello $name,\n\nConfirm that $email is your address by opening this link:\n\n$url\n\n{_IGNORE}\n",
        "html": _PAGE.format(lead="Confirm that $email is your address.", action="Verify email", tail=_IGNORE),
    },
    "reset-password": {
        "subject": "Reset your password",
        "text": f"Hello $name,\n\nChoose a new password by opening this link:\n\n$url\n\n{_IGNORE}\n",
        "html": _PAGE.format(lead="Someone asked to reset your password.", action="Reset password", tail=_IGNORE),
    },
    "change-email-confirmation": {
        "subject": "Confirm your new email address",
        "text": (
            "Hello $name,\n\nYou asked to change your account's email from $email to $new_email. "
            f"Approve the change by opening this link:\n\n$url\n\n{_IGNORE}\n"
        ),
        "html": _PAGE.format(
            lead="You asked to change your account's email from $email to $new_email.",
            action="Approve the change",
            tail=_IGNORE,
        ),
    },
    "delete-account": {
        "subject": "Confirm deleting your account",
        "text": (
            "Hello $name,\n\nYou asked to delete your account ($email) and everything in it. This cannot be undone. "
            "To go ahead, open this link in the browser where you are signed in:\n\n$url\n\n"
            "If you did not ask for this, ignore this message: your account stays as it is.\n"
        ),
        "html": _PAGE.format(
            lead="You asked to delete your account ($email) and everything in it. This cannot be undone.",
            action="Delete my account",
            tail="Open it in the browser where you are signed in. If you did not ask for this, ignore this message: "
            "your account stays as it is.",
        ),
    },
}


def _check(kind: str, part: str, source: str) -> Template:
    template = Template(source)
    if not template.is_valid():
        raise ConfigError(f"mail template {kind}{PARTS[part]}: a '$' is not followed by a name; write '$$' for '$'.")
    unknown = set(template.get_identifiers()) - _PLACEHOLDERS
    if unknown:
        raise ConfigError(
            f"mail template {kind}{PARTS[part]} uses ${', $'.join(sorted(unknown))}; the placeholders are "
            f"${', $'.join(sorted(_PLACEHOLDERS))}."
        )
    return template


class MailTemplates:
    """The templates of every kind in :data:`MAIL_KINDS`: the defaults, with the app's overrides on top.

    Raises:
        ConfigError: an override names an unknown kind or part, or a template uses an unknown placeholder.
    """

    def __init__(self, overrides: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self._templates: dict[str, dict[str, Template]] = {}
        for kind in (overrides or {}).keys() - set(MAIL_KINDS):
            raise ConfigError(f"mail template kind {kind!r} is unknown; the kinds are {', '.join(MAIL_KINDS)}.")
        for kind in MAIL_KINDS:
            own = dict((overrides or {}).get(kind, {}))
            for part in own.keys() - PARTS.keys():
                raise ConfigError(f"mail template part {part!r} of {kind} is unknown; use subject, text or html.")
            self._templates[kind] = {part: _check(kind, part, own.get(part, _DEFAULTS[kind][part])) for part in PARTS}

    @classmethod
    def from_folder(cls, folder: Path) -> MailTemplates:
        """The defaults overridden by the files in ``folder`` (``<kind>.subject.txt``, ``<kind>.txt``, ``<kind>.html``).

        A missing folder means no overrides. A file whose name is not one of those is refused, so a typo does not
        silently leave the default in place.

        Raises:
            ConfigError: an unknown file name, a file that is not UTF-8, or a bad template.
        """
        overrides: dict[str, dict[str, str]] = {}
        if not folder.is_dir():
            return cls()
        names = {f"{kind}{suffix}": (kind, part) for kind in MAIL_KINDS for part, suffix in PARTS.items()}
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            if path.name not in names:
                raise ConfigError(
                    f"{path}: not a mail template name; expected <kind>.subject.txt, <kind>.txt or <kind>.html with "
                    f"kind one of {', '.join(MAIL_KINDS)}."
                )
            kind, part = names[path.name]
            try:
                overrides.setdefault(kind, {})[part] = (
                    path.read_text("utf-8").strip() if part == "subject" else (path.read_text("utf-8"))
                )
            except UnicodeDecodeError:
                raise ConfigError(f"{path} is not UTF-8 text; save it as UTF-8.") from None
        return cls(overrides)

    def render(self, kind: str, *, to: str, url: str, name: str = "", new_email: str = "") -> MailMessage:
        """The message of ``kind`` to ``to`` carrying ``url``."""
        templates = self._templates[kind]
        values = {"url": url, "name": name or to, "email": to, "new_email": new_email}
        escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
        return MailMessage(
            to=to,
            subject=templates["subject"].substitute(values),
            text=templates["text"].substitute(values),
            html=templates["html"].substitute(escaped),
            link=url,
        )
