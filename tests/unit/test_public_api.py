"""The public API of ``authlib_core`` is pinned: adding or removing a name is a deliberate, reviewed change."""

from __future__ import annotations

import authlib_core

PUBLIC_API = [
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


def test_all_is_pinned_and_sorted() -> None:
    assert authlib_core.__all__ == PUBLIC_API
    assert authlib_core.__all__ == sorted(authlib_core.__all__)


def test_every_public_name_exists_and_is_documented() -> None:
    for name in authlib_core.__all__:
        value = getattr(authlib_core, name)
        if name in ("__version__", "REMOVE", "UNDEFINED", "v"):
            continue
        assert (value.__doc__ or "").strip(), f"authlib_core.{name} has no docstring"


def test_the_seed_example_imports_from_the_package_root() -> None:
    from authlib_core import ConvexError, define_schema, define_table, get_auth_user_id, mutation, query, v

    assert callable(query)
    assert callable(mutation)
    assert callable(get_auth_user_id)
    assert callable(define_schema)
    assert callable(define_table)
    assert issubclass(ConvexError, Exception)
    assert v.string().to_json() == {"type": "string"}
