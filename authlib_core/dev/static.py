"""Serve a built frontend (``examples/web/dist``) at ``/``, with the SPA fallback to ``index.html``."""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["StaticFiles"]


class StaticFiles:
    """Files under ``root``; unknown paths fall back to ``index.html`` (client-side routing)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def find(self, url_path: str) -> Path | None:
        """The file to send for ``url_path``, or ``None`` (no such file and no ``index.html``)."""
        relative = unquote(url_path.split("?", 1)[0]).lstrip("/")
        candidate = (self.root / relative).resolve()
        if candidate.is_relative_to(self.root):
            if candidate.is_dir():
                candidate = candidate / "index.html"
            if candidate.is_file():
                return candidate
        index = self.root / "index.html"
        return index if index.is_file() else None

    @staticmethod
    def content_type(path: Path) -> str:
        """The ``Content-Type`` for a file, by extension."""
        guessed, _ = mimetypes.guess_type(path.name)
        if guessed is None:
            return "application/octet-stream"
        return f"{guessed}; charset=utf-8" if guessed.startswith("text/") or guessed.endswith("javascript") else guessed
