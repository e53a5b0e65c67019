"""A :class:`~authlib_core.mail.MailSender` that keeps what it is given, for tests that follow emailed links."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from authlib_core.mail import MailMessage


class Outbox:
    """A MailSender that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[MailMessage] = []

    def send(self, message: MailMessage) -> None:
        self.sent.append(message)

    def last_link(self, to: str) -> str:
        mine = [m for m in self.sent if m.to == to]
        assert mine, f"no mail to {to}: {[m.to for m in self.sent]}"
        assert mine[-1].link is not None
        assert mine[-1].link in mine[-1].text
        return mine[-1].link
