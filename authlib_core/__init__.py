"""authlib-core: Convex-style backend functions with Better-Auth-style sessions.

Write ``@query`` and ``@mutation`` functions in ``functions/``; run them locally on SQLite with
``python -m authlib_core dev`` and on AWS Lambda + DynamoDB in production.

Interface and implementation are kept apart: what user code sees (``ctx.db``, ``ctx.auth``, ``v``,
the decorators) is defined by small, precisely typed interfaces; the engines, the HTTP transport and the
CLI sit behind them and may change without changing user code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from authlib_core._lazy import lazy_attributes
from authlib_core._version import __version__
from authlib_core.auth.identity import UserIdentity, get_auth_user_id
from authlib_core.errors import ConvexError
from authlib_core.functions.context import ActionCtx, MutationCtx, QueryCtx
from authlib_core.functions.decorators import (
    action,
    internal_action,
    internal_mutation,
    internal_query,
    mutation,
    query,
)
from authlib_core.functions.http_messages import Request, Response
from authlib_core.schema import define_schema, define_table
from authlib_core.values import REMOVE, UNDEFINED, Int64, v
from authlib_core.values.pagination import pagination_opts_validator, pagination_result_validator

if TYPE_CHECKING:
    from authlib_core.functions.crons import cron_jobs
    from authlib_core.functions.http_router import http_action, http_router

__all__ = [
    "ActionCtx",
    "ConvexError",
    "Int64",
    "MutationCtx",
    "QueryCtx",
    "REMOVE",
    "Request",
    "Response",
    "UNDEFINED",
    "UserIdentity",
    "__version__",
    "action",
    "cron_jobs",
    "define_schema",
    "define_table",
    "get_auth_user_id",
    "http_action",
    "http_router",
    "internal_action",
    "internal_mutation",
    "internal_query",
    "mutation",
    "pagination_opts_validator",
    "pagination_result_validator",
    "query",
    "v",
]

#: Names whose modules load on first use: only apps with ``crons.py`` or ``http.py`` need them, so the functions of
#: other apps (every query and mutation Lambda) do not import them on a cold start.
_LAZY = {
    "cron_jobs": "authlib_core.functions.crons",
    "http_action": "authlib_core.functions.http_router",
    "http_router": "authlib_core.functions.http_router",
}


__getattr__ = lazy_attributes(__name__, _LAZY)
