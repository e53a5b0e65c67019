"""Package attributes imported on first use (PEP 562): public names whose modules only some apps need.

A package's ``__getattr__`` built here imports the module that defines a name the first time the name is asked for,
then keeps it on the package, so importing the package does not load that module (a cold start pays only for what
the app uses), and ``from package import name`` still works. Type checkers see the names through ``TYPE_CHECKING``
imports in the package.

Example:
    >>> getattr_ = lazy_attributes("authlib_core", {"http_router": "authlib_core.functions.http_router"})
    >>> getattr_("http_router").__module__
    'authlib_core.functions.http_router'
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: ``exports`` maps each lazy name to the module defining it.

    Raises (from the returned function):
        AttributeError: the name is not one of ``exports`` (as for any missing module attribute).
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # later lookups find it without calling here
        return value

    return __getattr__
