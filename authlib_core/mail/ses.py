"""Amazon SES v2 ``SendEmail``: the production mail sender.

The message is sent as raw MIME (``Content.Raw``), the same bytes the dev folder holds. ``FromEmailAddress`` is the
verified identity (template parameter ``MailFrom``), ``ConfigurationSetName`` the optional configuration set
(``SesConfigurationSet``). The Lambda role may only call ``ses:SendEmail`` on that identity (template.yaml).

botocore is imported here and nowhere else in the mail package, when a sender is built (only on AWS).

Example:
    >>> sender = SESMailSender("no-reply@example.com", configuration_set="app")  # doctest: +SKIP
    >>> sender.send(message)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from typing import Any

from authlib_core.mail.message import MailMessage, build_email

__all__ = ["MailDeliveryError", "SESMailSender"]

logger = logging.getLogger("authlib_core.mail")


class MailDeliveryError(Exception):
    """SES refused or could not take the message; the message says which SES error it was."""


class SESMailSender:
    """Sends through SES v2 with the Lambda's credentials (or the given botocore client)."""

    def __init__(
        self, sender: str, *, configuration_set: str | None = None, client: Any = None, region: str | None = None
    ) -> None:
        if "@" not in sender:
            raise ValueError(f"SES sender {sender!r} is not an email address (set AUTHLIB_MAIL_FROM)")
        self.sender = sender
        self.configuration_set = configuration_set or None
        if client is None:
            import botocore.config
            import botocore.session

            client = botocore.session.get_session().create_client(
                "sesv2",
                region_name=region,
                config=botocore.config.Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2}),
            )
        self._client = client

    def send(self, message: MailMessage) -> str:
        """Send ``message``; returns SES's message id.

        Raises:
            MailDeliveryError: SES answered with an error (unverified identity, throttling, account paused, ...).
        """
        from botocore.exceptions import BotoCoreError, ClientError

        raw = build_email(message, sender=self.sender).as_bytes()
        request: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [message.to]},
            "Content": {"Raw": {"Data": raw}},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        try:
            response = self._client.send_email(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            logger.warning("SES SendEmail refused: %s", code)
            raise MailDeliveryError(f"SES SendEmail failed with {code}; check the sender identity and quota") from None
        except BotoCoreError as error:
            logger.warning("SES SendEmail failed: %s", type(error).__name__)
            raise MailDeliveryError(f"SES SendEmail could not be reached ({type(error).__name__})") from None
        message_id = str(response.get("MessageId", ""))
        logger.info("mail sent via SES id=%s", message_id)
        return message_id
