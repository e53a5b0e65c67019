"""Importing the functions folder as a package, always from source, and forgetting it again on reload.

A meta path finder claims one package name (default: the folder's name) and maps it onto the folder, so the
folder need not be on ``sys.path`` and need not contain ``__init__.py``. Modules are compiled from source on every
load instead of from ``__pycache__``: a ``.pyc`` is trusted when the source's mtime (in whole seconds) and size are
unchanged, which an edit made within the same second as the previous load can defeat.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import types
    from collections.abc import Sequence

__all__ = ["forget_package", "install_finder", "owned_by"]


class _SourceLoader(importlib.machinery.SourceFileLoader):
    """Compiles from source every time; never reads or writes bytecode caches."""

    def get_code(self, fullname: str) -> types.CodeType:
        path = self.get_filename(fullname)
        return self.source_to_code(self.get_data(path), path)


class _FolderLoader(importlib.abc.Loader):
    """A package for a folder without ``__init__.py``: an empty module whose ``__path__`` is the folder."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class _FunctionsFinder(importlib.abc.MetaPathFinder):
    def __init__(self, package: str, root: Path) -> None:
        self.package = package
        self.root = root

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.package and not fullname.startswith(self.package + "."):
            return None
        base = self.root.joinpath(*fullname.split(".")[1:])
        if base.is_dir():
            init = base / "__init__.py"
            if init.is_file():
                return importlib.util.spec_from_file_location(
                    fullname, init, loader=_SourceLoader(fullname, str(init)), submodule_search_locations=[str(base)]
                )
            spec = importlib.machinery.ModuleSpec(fullname, _FolderLoader(), is_package=True)
            spec.submodule_search_locations = [str(base)]
            return spec
        source = base.parent / (base.name + ".py")
        if source.is_file():
            return importlib.util.spec_from_file_location(fullname, source, loader=_SourceLoader(fullname, str(source)))
        return None


def owned_by(module: types.ModuleType, root: Path) -> bool:
    """``True`` when ``module`` was imported from inside the folder ``root``."""
    spec = getattr(module, "__spec__", None)
    locations = list(getattr(spec, "submodule_search_locations", None) or [])
    filename = getattr(module, "__file__", None)
    if filename:
        locations.append(str(Path(filename).parent))
    return any(Path(location).resolve() == root or root in Path(location).resolve().parents for location in locations)


def loaded_by_us(module: types.ModuleType) -> bool:
    """``True`` when ``module`` was imported by this package's finder (a functions folder loaded earlier)."""
    spec = getattr(module, "__spec__", None)
    return isinstance(getattr(spec, "loader", None), _FolderLoader)


def forget_package(package: str) -> None:
    """Remove ``package`` and its submodules from ``sys.modules`` so the next import runs the new code."""
    for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        del sys.modules[name]


def install_finder(package: str, root: Path) -> None:
    """Map ``package`` onto the folder ``root`` (replacing an earlier mapping of the same package name)."""
    sys.meta_path[:] = [
        finder for finder in sys.meta_path if not (isinstance(finder, _FunctionsFinder) and finder.package == package)
    ]
    sys.meta_path.insert(0, _FunctionsFinder(package, root))
    importlib.invalidate_caches()
