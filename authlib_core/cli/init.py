"""``authlib-core init DIR``: write a new project (see :mod:`authlib_core.scaffold`).

Exit status 0 when written; 2 when nothing was written (files in the way, an unusable name): the one-line error
names the files.

Example:
    $ authlib-core init todo-api
    created todo-api (project "todo-api"): .gitignore, README.md, functions/schema.py, ...
    next: cd todo-api && python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements-dev.txt
          then `pytest`, `authlib-core dev`, and `sam build` to deploy (README.md)
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from authlib_core.scaffold import init_project, project_name

if TYPE_CHECKING:
    import argparse

__all__ = ["configure_parser"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add ``init``'s arguments to ``parser``."""
    parser.add_argument("directory", metavar="DIR", type=Path, help="folder to create the project in (new or empty)")
    parser.add_argument(
        "--name", help="project name for the stack, service and secret names (default: from the folder's name)"
    )
    parser.set_defaults(handler=_init)


def _init(options: argparse.Namespace) -> int:
    directory: Path = options.directory
    name = project_name(directory, options.name)
    written = init_project(directory, name=name)
    print(f'created {directory} (project "{name}"): {", ".join(str(path) for path in written)}')
    setup = "python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements-dev.txt"
    here = directory.resolve() == Path.cwd().resolve()
    print(f"next: {setup}" if here else f"next: cd {shlex.quote(str(directory))} && {setup}")
    print("      then `pytest`, `authlib-core dev`, and `sam build` to deploy (README.md)")
    return 0
