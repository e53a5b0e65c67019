"""One outgoing message and the interface every sender implements.

A message is built once as an RFC 5322 document with the standard library's :mod:`email` package (``multipart/
alternative``: plain text first, then HTML), so the dev folder and SES send the same bytes.

Example:
    >>> message = MailMessage(to="ada@example.com", subject="Hi", text="Hello", html="<p>Hello</p>", link=None)
    >>> email = build_email(message, sender="App <no-reply@example.com>")
    >>> email["To"], email.get_content_type()
    ('ada@example.com', 'multipart/alternative')
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the email package is imported when a message is built: ~9 ms a cold start without mail skips
    from email.message import EmailMessage

__all__ = ["MailMessage", "MailSender", "build_email"]


@dataclasses.dataclass(frozen=True, slots=True)
class MailMessage:
    """What to send: one recipient, a subject, the two bodies, and the link the message carries (if any).

    Raises:
        ValueError: the recipient or subject holds a line break or another control character (it would add
            headers to the message).
    """

    to: str
    subject: str
    text: str
    html: str
    link: str | None = None

    def __post_init__(self) -> None:
        for name in ("to", "subject"):
            value = getattr(self, name)
            if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
                raise ValueError(f"MailMessage.{name} holds a control character (a line break adds mail headers)")
        if "@" not in self.to:
            raise ValueError(f"MailMessage.to {self.to!r} is not an email address")


class MailSender(Protocol):
    """Sends one message. Implementations: the dev folder and Amazon SES; tests may collect messages in memory.

    Example:
        >>> class Collect:
        ...     def __init__(self): self.sent = []
        ...     def send(self, message): self.sent.append(message)
    """

    def send(self, message: MailMessage) -> object:
        """Deliver ``message`` (or hand it to a service that will); raise if that failed. The answer is unused."""
        ...


def build_email(message: MailMessage, *, sender: str) -> EmailMessage:
    """``message`` as an RFC 5322 document from ``sender``, with ``Date`` and a ``Message-ID``."""
    import email.policy
    import email.utils
    from email.message import EmailMessage

    out = EmailMessage(policy=email.policy.SMTP)
    out["From"] = sender
    out["To"] = message.to
    out["Subject"] = message.subject
    out["Date"] = email.utils.formatdate(usegmt=True)
    domain = sender.rpartition("@")[2].rstrip(">").strip() or "localhost"
    # Message-ID and the part boundary come from ``secrets``: the standard library's ``make_msgid`` and its boundary
    # draw from the process-wide ``random`` state, which a mail sent on a server thread would move under other code.
    out["Message-ID"] = f"<{time.time_ns() // 1_000_000}.{secrets.token_hex(12)}@{domain}>"
    out.set_content(message.text)
    out.add_alternative(message.html, subtype="html")
    out.set_boundary(f"==============={secrets.token_hex(16)}==")
    return out
