"""The files a generated project shares with this repository, and how they are adapted to the project.

ONE source: this repository's own ``template.yaml``, ``samconfig.toml``, ``infra/Makefile`` and
``infra/requirements-tracing.txt``. The wheel carries them byte for byte as package data (pyproject.toml,
``[tool.hatch.build.targets.wheel.force-include]`` → ``authlib_core/scaffold/shared/``); a source checkout reads them
from the repository root. ``init`` writes them with the few substitutions below and nothing else, so an edit to the
repository's template reaches every new project, and a test (tests/unit/scaffold) fails when a substitution no
longer finds its text.

``infra/Makefile`` is copied verbatim: it builds this repository (its own ``authlib_core/`` plus the pins of
``infra/requirements-lambda.txt``) and a generated project (``authlib-core`` and its dependencies from the project's
``requirements.txt``) with one recipe.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING

from authlib_core.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "SAMCONFIG_SUBSTITUTIONS",
    "SHARED_FILES",
    "TEMPLATE_SUBSTITUTIONS",
    "Substitution",
    "render_shared",
    "shared_text",
]

#: The repository's project name, as it appears in the shared files.
REPOSITORY_NAME = "authlib-core"

#: Shared files: path in the repository (= path in a generated project).
SHARED_FILES = ("template.yaml", "samconfig.toml", "infra/Makefile", "infra/requirements-tracing.txt")

_PACKAGED = Path(__file__).resolve().parent / "shared"
_CHECKOUT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True, slots=True)
class Substitution:
    """Replace every match of ``pattern`` (a regular expression) with ``replacement`` formatted with ``name``.

    ``required``: the pattern must match at least once (a structural value such as a default the project must
    not inherit); optional ones only tidy comments that mention files of this repository.
    """

    pattern: str
    replacement: str
    required: bool = True
    why: str = ""


#: template.yaml: the names a deployed project must not share with authlib-core's own stack.
TEMPLATE_SUBSTITUTIONS: tuple[Substitution, ...] = (
    Substitution(r"/authlib-core/prod/secrets", "/{name}/prod/secrets", why="default SSM parameter of the secret"),
    Substitution(r"authlib-core-\$\{Stage\}", "{name}-${{Stage}}", why="Powertools service name"),
    Substitution(r"!Sub authlib-core \$\{Stage\}", "!Sub {name} ${{Stage}}", why="HTTP API description"),
    # Whole-line comments naming this repository's tests and scripts (absent from a generated project).
    Substitution(
        r"(?m)^[ \t]*#[^\n]*(?:tests/|sam_to_cfn)[^\n]*\n", "", required=False, why="repository-only references"
    ),
)

#: samconfig.toml: the stack name.
SAMCONFIG_SUBSTITUTIONS: tuple[Substitution, ...] = (
    Substitution(r'stack_name = "authlib-core-prod"', 'stack_name = "{name}-prod"', why="CloudFormation stack name"),
)

_SUBSTITUTIONS = {"template.yaml": TEMPLATE_SUBSTITUTIONS, "samconfig.toml": SAMCONFIG_SUBSTITUTIONS}


def shared_text(relative: str) -> str:
    """The text of a shared file: the copy in the installed package, else the repository checkout's.

    Raises:
        ConfigError: neither exists (an installation built without its package data).
    """
    if relative not in SHARED_FILES:
        raise ValueError(f"{relative!r} is not a shared file; shared files are {', '.join(SHARED_FILES)}")
    for base in (_PACKAGED, _CHECKOUT):
        candidate = base / relative
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise ConfigError(
        f"authlib-core is installed without {relative} (looked in {_PACKAGED} and {_CHECKOUT}); "
        "reinstall it from a wheel built with `python -m build`."
    )


def render_shared(relative: str, text: str, *, name: str) -> str:
    """``text`` (a shared file) adapted to the project ``name``.

    Example:
        >>> render_shared("samconfig.toml", 'stack_name = "authlib-core-prod"\\n', name="todo-api")
        'stack_name = "todo-api-prod"\\n'

    Raises:
        ConfigError: a required substitution found nothing: the shared file changed and the substitution list above
            must follow it (the message names both).
    """
    for substitution in _SUBSTITUTIONS.get(relative, ()):
        text, count = re.subn(substitution.pattern, _literal(substitution.replacement.format(name=name)), text)
        if substitution.required and count == 0:
            raise ConfigError(
                f"{relative} no longer contains {substitution.pattern!r} ({substitution.why}); update "
                "authlib_core/scaffold/shared.py so that generated projects get their own value."
            )
    return text


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    """A replacement function inserting ``text`` as is (no ``\\1`` group references)."""
    return lambda _match: text
