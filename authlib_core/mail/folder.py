"""The dev server's mail sender: every message becomes an ``.eml`` file in a folder, announced on one line.

Open the file with any mail program, or read the link from the console line
(``mail: "Reset your password" to ada@example.com: http://...``). Tests read the newest file of the folder.

Example:
    >>> import tempfile, io
    >>> from authlib_core.mail.message import MailMessage
    >>> out = io.StringIO()
    >>> sender = FolderMailSender(Path(tempfile.mkdtemp()), out=out)
    >>> path = sender.send(MailMessage("ada@example.com", "Hi", "Hello", "<p>Hello</p>", link="http://x.test/"))
    >>> path.suffix, out.getvalue().strip()
    ('.eml', 'mail: "Hi" to ada@example.com: http://x.test/')
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from authlib_core.display import terminal_text
from authlib_core.mail.message import MailMessage, build_email

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["DEFAULT_MAIL_DIR", "FolderMailSender"]

#: Numbers the files of every sender of this process, so names stay unique and in sending order.
_COUNTER = itertools.count(1)

#: Where the dev server writes messages unless ``--mail-dir`` says otherwise.
DEFAULT_MAIL_DIR = Path(".authlib/mail")


class FolderMailSender:
    """Writes each message as ``<time>-<n>.eml`` (RFC 5322, CRLF line ends) into ``folder``; prints one line.

    Files are written to a temporary name and renamed, so a reader never sees half a message; names sort in the
    order the messages were sent.
    """

    def __init__(
        self,
        folder: Path,
        *,
        sender: str = "Authlib dev server <no-reply@localhost>",
        out: TextIO | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.folder = folder
        self.sender = sender
        self._out = out
        self._clock = clock
        self._counter = _COUNTER  # shared: two senders writing into one folder never pick the same name
        self._lock = threading.Lock()

    def send(self, message: MailMessage) -> Path:
        """Write ``message``; returns the file's path."""
        data = build_email(message, sender=self.sender).as_bytes()
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self._clock()))
            path = self.folder / f"{stamp}-{os.getpid()}-{next(self._counter):06d}.eml"
        partial = path.with_suffix(".eml.part")
        partial.write_bytes(data)
        partial.replace(path)
        line = f'mail: "{message.subject}" to {message.to}'
        if message.link:
            line += f": {message.link}"
        # the address and the link carry request text: on the console, control characters show as escapes
        print(terminal_text(line), file=self._out or sys.stdout, flush=True)
        return path
