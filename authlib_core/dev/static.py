"""Serve a built frontend (``examples/web/dist``) at ``/``, with the SPA fallback to ``index.html``.

Only files inside the folder are served: every path is resolved (symlinks followed) before it is checked, the
``index.html`` of a directory and the fallback included. Dotfiles and dot-directories (``/.env``, ``/.git/config``)
are not served, as Vite's and most static servers' defaults do; ``/.well-known/`` is (as sirv, Vite's preview
server, allows it).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "index.html").write_text("<!doctype html>"); _ = (root / ".env").write_text("SECRET=1")
    >>> files = StaticFiles(root)
    >>> files.find("/notes/42").name, files.find("/.env")
    ('index.html', None)
"""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING
from urllib.parse import unquote

from authlib_core.http.wire import dump_body

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["StaticFiles", "StaticPathError"]

#: The one dot-directory served: RFC 8615's well-known URIs (``/.well-known/security.txt``...).
_WELL_KNOWN = ".well-known"


class StaticPathError(ValueError):
    """A path no file can have (it holds a NUL byte): the request is wrong, not merely unknown."""


class StaticFiles:
    """Files under ``root``; unknown paths fall back to ``index.html`` (client-side routing)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def find(self, url_path: str) -> Path | None:
        """The file to send for ``url_path``, or ``None`` (a dotfile, or no such file and no ``index.html``).

        A path that names no file (unknown, a directory without ``index.html``, a name too long for the file
        system) falls back to ``index.html``: it may be a client-side route.

        Raises:
            StaticPathError: the decoded path holds a NUL byte (``%00``).
        """
        relative = unquote(url_path.split("?", 1)[0])
        if "\x00" in relative:
            raise StaticPathError(
                "The path holds a NUL byte (%00), which no file name can contain; remove it from the URL"
            )
        if _hidden(tuple(relative.split("/"))):
            return None
        found = self._inside(self.root / relative.lstrip("/"))
        if found is None:
            found = self._inside(self.root / "index.html")
        return found if found is not None and not _hidden(found.relative_to(self.root).parts) else None

    def _inside(self, path: Path) -> Path | None:
        """The regular file ``path`` (or its ``index.html``) resolves to, when it is inside the root."""
        try:
            resolved = path.resolve()
            if resolved.is_dir():
                resolved = (resolved / "index.html").resolve()
            if resolved.is_relative_to(self.root) and resolved.is_file():
                return resolved
        except (OSError, RuntimeError):  # a name too long, a symlink loop: no file there
            pass
        return None

    def answer(self, url_path: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body of the answer to ``GET url_path``: the file, or a 404, 400 or 500 that says why.

        Every answer carries ``X-Content-Type-Options: nosniff``: a browser takes the ``Content-Type`` as sent (a
        ``.txt`` file is never run as a script).
        """
        try:
            found = self.find(url_path)
            if found is not None:
                return 200, _headers(self.content_type(found)), found.read_bytes()
        except StaticPathError as error:
            return 400, _headers("application/json"), _json({"code": "BadRequest", "message": str(error)})
        except FileNotFoundError:  # removed since it was found
            pass
        except OSError as error:
            reason = error.strerror or type(error).__name__
            message = f"The file for {url_path} could not be read ({reason}); check its permissions"
            return 500, _headers("application/json"), _json({"code": "InternalServerError", "message": message})
        return 404, _headers("text/plain; charset=utf-8"), b"Not Found"

    @staticmethod
    def content_type(path: Path) -> str:
        """The ``Content-Type`` for a file, by extension."""
        guessed, _ = mimetypes.guess_type(path.name)
        if guessed is None:
            return "application/octet-stream"
        return f"{guessed}; charset=utf-8" if guessed.startswith("text/") or guessed.endswith("javascript") else guessed


def _headers(content_type: str) -> dict[str, str]:
    return {"Content-Type": content_type, "X-Content-Type-Options": "nosniff"}


def _json(body: dict[str, str]) -> bytes:
    return dump_body(body).encode("utf-8")


def _hidden(parts: tuple[str, ...]) -> bool:
    """Whether a path's parts name a dotfile or pass through a dot-directory (``..`` included)."""
    return any(part.startswith(".") and part != _WELL_KNOWN for part in parts)
