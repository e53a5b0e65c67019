"""The dev server's secret: created once in the project's local state folder and reused across restarts.

Production reads ``AUTHLIB_SECRETS`` (from a secret store, through the SAM parameter); nothing here runs there.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["load_or_create_dev_secret"]


def load_or_create_dev_secret(path: Path) -> str:
    """The secret stored at ``path`` (e.g. ``.authlib/secret``), creating it (256 random bits, mode 0600) if absent.

    Creation is atomic (``O_EXCL``): two dev processes starting together end up with the same secret.

    Example:
        >>> secret = load_or_create_dev_secret(Path(".authlib/secret"))  # doctest: +SKIP
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text(encoding="ascii").strip()
        if len(value) < 32:
            raise ValueError(f"{path} holds no usable secret; delete the file to create a new one.") from None
        return value
    value = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value
