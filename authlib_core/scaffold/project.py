"""``init_project``: write a new, self-contained authlib-core project into a folder.

What it writes (``authlib-core init DIR``): ``functions/`` (schema with the auth tables and an indexed ``tasks``
table; a query, mutations using ``get_auth_user_id``, an internal mutation), ``tests/`` (passing with ``pytest``,
built on :mod:`authlib_core.testing`), ``template.yaml`` / ``samconfig.toml`` / ``infra/`` (from the one source in
:mod:`authlib_core.scaffold.shared`), ``requirements.txt`` pinning this authlib-core version, ``requirements-dev.txt``,
``pyproject.toml`` (pytest settings), ``.gitignore`` and a README.

It never overwrites: when any file it would write exists, it writes nothing and names them.

Example:
    >>> from pathlib import Path
    >>> written = init_project(Path("todo-api"))                      # doctest: +SKIP
    >>> sorted(str(p) for p in written)[:3]                           # doctest: +SKIP
    ['.gitignore', 'README.md', 'functions/schema.py']
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from authlib_core._version import __version__
from authlib_core.errors import ConfigError
from authlib_core.scaffold.shared import SHARED_FILES, render_shared, shared_text

__all__ = ["ScaffoldError", "init_project", "project_files", "project_name"]

_TEMPLATES = Path(__file__).resolve().parent / "project"
_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_MAX_NAME = 40
#: Template files whose name a package manager or git would treat specially in the package itself.
_RENAMED = {"gitignore": ".gitignore"}


class ScaffoldError(ConfigError):
    """``init`` cannot write the project (files in the way, an unusable name); nothing was written."""


def project_name(directory: Path, name: str | None = None) -> str:
    """The project's name (stack, service and secret names derive from it): ``name``, else the folder's name.

    The folder's name is lower-cased with runs of other characters turned into ``-``.

    Example:
        >>> project_name(Path("/src/My Todo_API"))
        'my-todo-api'

    Raises:
        ScaffoldError: the name is not lower-case letters, digits and single hyphens, starting with a letter
            (at most 40 characters) -- CloudFormation stack names and SSM paths are built from it.
    """
    if name is None:
        name = re.sub(r"[^a-z0-9]+", "-", directory.resolve().name.lower()).strip("-")
        source = f"the folder name {directory.resolve().name!r} gives {name!r}, which"
    else:
        source = f"--name {name!r}"
    if not _NAME.fullmatch(name) or len(name) > _MAX_NAME:
        raise ScaffoldError(
            f"{source} is not a usable project name: use lower-case letters, digits and single hyphens, starting "
            f"with a letter, at most {_MAX_NAME} characters (e.g. --name todo-api)."
        )
    return name


def project_files(name: str) -> dict[Path, str]:
    """Every file of a new project called ``name``: relative path -> text."""
    files: dict[Path, str] = {}
    for template in sorted(_TEMPLATES.rglob("*.tmpl")):
        relative = template.relative_to(_TEMPLATES).with_suffix("")
        relative = relative.with_name(_RENAMED.get(relative.name, relative.name))
        text = template.read_text(encoding="utf-8")
        files[relative] = text.replace("{{name}}", name).replace("{{version}}", __version__)
    for shared in SHARED_FILES:
        files[Path(shared)] = render_shared(shared, shared_text(shared), name=name)
    return files


def init_project(directory: Path, *, name: str | None = None) -> list[Path]:
    """Write a new project into ``directory`` (created if missing) and return the written paths, relative to it.

    Raises:
        ScaffoldError: ``directory`` is a file, a file to be written exists already, the name is unusable, or a
            file cannot be written (permissions, a full disk). Nothing is written, or nothing kept, in that case.
    """
    if directory.exists() and not directory.is_dir():
        raise ScaffoldError(f"{directory} exists and is not a folder; pass a new or existing folder to init.")
    files = project_files(project_name(directory, name))
    existing = sorted(str(relative) for relative in files if (directory / relative).exists())
    if existing:
        shown = ", ".join(existing[:8]) + (f" and {len(existing) - 8} more" if len(existing) > 8 else "")
        raise ScaffoldError(
            f"{directory} already has {shown}; init never overwrites files. "
            "Pick a new folder, or move those files away first."
        )
    written: list[Path] = []
    made: list[Path] = []
    try:
        for relative, text in files.items():
            target = directory / relative
            missing = [folder for folder in (target.parent, *target.parent.parents) if not folder.exists()]
            target.parent.mkdir(parents=True, exist_ok=True)
            made.extend(reversed(missing))
            with target.open("x", encoding="utf-8") as out:  # "x": fail rather than overwrite a file made meanwhile
                written.append(target)
                out.write(text)
    except OSError as exc:
        _undo(written, made)
        raise ScaffoldError(
            f"cannot write {exc.filename or directory}: {exc.strerror or exc}; nothing was kept. Check that the "
            "folder is writable and has room, or pick another folder."
        ) from None
    return sorted(files)


def _undo(written: list[Path], made: list[Path]) -> None:
    """Remove what a failed ``init_project`` wrote: its files, then the folders it created (deepest first)."""
    for path in written:
        path.unlink(missing_ok=True)
    for folder in reversed(made):
        with contextlib.suppress(OSError):  # not empty (something else wrote there meanwhile) or gone: leave it
            folder.rmdir()
