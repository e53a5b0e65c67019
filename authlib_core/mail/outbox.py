"""``send_email``: mail from the app's own functions (actions), through the sender the server is configured with.

The dev server's sender writes ``.eml`` files and prints one line per message (``mail: "Welcome" to ...``);
on AWS it is Amazon SES (``AUTHLIB_MAIL=ses``). The runtime configures it when it is built
(:func:`configure_outbox`); with mail off (``AUTHLIB_MAIL=off``) sending raises a clear error.

Example:
    >>> from authlib_core import internal_action
    >>> from authlib_core.mail import send_email
    >>> @internal_action
    ... def send_welcome(ctx, email: str):
    ...     send_email(to=email, subject="Welcome!", text="Thanks for signing up.")

Common mistake: sending mail from a mutation. A mutation may run several times (conflict retries); send from an
action, scheduled by the mutation (``ctx.scheduler.run_after(0, ...)``) so it happens once the mutation committed.
"""

from __future__ import annotations

import html as html_lib
import threading
from typing import TYPE_CHECKING

from authlib_core.errors import ConfigError
from authlib_core.mail.message import MailMessage

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.mail.message import MailSender

__all__ = ["configure_outbox", "send_email"]

_lock = threading.Lock()
_factory: Callable[[], MailSender | None] | None = None
_sender: MailSender | None = None


def configure_outbox(factory: Callable[[], MailSender | None] | None) -> None:
    """Set how the app's sender is made (called by the runtime; built on first use, so no cold-start cost)."""
    global _factory, _sender
    with _lock:
        _factory, _sender = factory, None


def send_email(*, to: str, subject: str, text: str, html: str | None = None, link: str | None = None) -> None:
    """Send one message with the server's sender. ``html`` defaults to ``text`` as escaped HTML paragraphs.

    Raises:
        ConfigError: mail is off for this server (set ``AUTHLIB_MAIL``, docs/deploy.md).
        ValueError: ``to`` is not an email address, or ``to`` / ``subject`` hold a line break.
    """
    global _sender
    with _lock:
        if _sender is None and _factory is not None:
            _sender = _factory()
        sender = _sender
    if sender is None:
        raise ConfigError(
            "send_email: mail is off for this server. Set AUTHLIB_MAIL=folder (development) or AUTHLIB_MAIL=ses "
            "with AUTHLIB_MAIL_FROM (production); the dev server uses the folder sender by default."
        )
    if html is None:
        html = "".join(f"<p>{html_lib.escape(part)}</p>" for part in text.split("\n\n"))
    sender.send(MailMessage(to=to, subject=subject, text=text, html=html, link=link))
