"""Functions: the decorators users write, the loader, the registry, contexts and the executor.

Example:
    >>> from authlib_core.functions import query, Kind
    >>> @query
    ... def ping(ctx):
    ...     return "pong"
    >>> ping.kind is Kind.QUERY
    True
"""

from __future__ import annotations

from authlib_core.functions.context import ActionCtx, MutationCtx, QueryCtx, RunFunction
from authlib_core.functions.decorators import (
    action,
    internal_action,
    internal_mutation,
    internal_query,
    mutation,
    query,
)
from authlib_core.functions.executor import Executor
from authlib_core.functions.kinds import Kind, Visibility
from authlib_core.functions.loader import RESERVED_MODULES, LoadedApp, load_functions
from authlib_core.functions.paths import canonicalize_path, is_valid_identifier
from authlib_core.functions.ports import Database, DatabaseReader, DatabaseWriter
from authlib_core.functions.registry import FunctionRef, RegisteredFunction, Registry
from authlib_core.functions.spec import FunctionDefinition

__all__ = [
    "RESERVED_MODULES",
    "ActionCtx",
    "Database",
    "DatabaseReader",
    "DatabaseWriter",
    "Executor",
    "FunctionDefinition",
    "FunctionRef",
    "Kind",
    "LoadedApp",
    "MutationCtx",
    "QueryCtx",
    "RegisteredFunction",
    "Registry",
    "RunFunction",
    "Visibility",
    "action",
    "canonicalize_path",
    "internal_action",
    "internal_mutation",
    "internal_query",
    "is_valid_identifier",
    "load_functions",
    "mutation",
    "query",
]
