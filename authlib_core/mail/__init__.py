"""Outgoing mail: one :class:`MailSender` interface, the messages auth sends, and two senders.

* :class:`MailMessage` / :func:`build_email`: one message, rendered as an RFC 5322 ``email.message.EmailMessage``
  (plain text and HTML alternatives).
* :class:`MailTemplates`: the subject, text and HTML of each message auth sends; the app overrides any of them.
* :class:`~authlib_core.mail.folder.FolderMailSender`: the dev server's sender, one ``.eml`` file per message.
* :class:`~authlib_core.mail.ses.SESMailSender`: Amazon SES v2 ``SendEmail`` (loads botocore only when built).
* :func:`send_email`: mail from the app's own actions, with the sender the server is configured with.

Example:
    >>> templates = MailTemplates()
    >>> message = templates.render("reset-password", to="ada@example.com", url="https://app.example/r?t=x", name="Ada")
    >>> message.subject
    'Reset your password'
"""

from __future__ import annotations

from authlib_core.mail.message import MailMessage, MailSender, build_email
from authlib_core.mail.outbox import configure_outbox, send_email
from authlib_core.mail.templates import MAIL_KINDS, MailTemplates

__all__ = ["MAIL_KINDS", "MailMessage", "MailSender", "MailTemplates", "build_email", "configure_outbox", "send_email"]
