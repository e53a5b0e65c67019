"""Convex's camelCase names (``withIndex``, ``normalizeId``, ``runQuery``) fail saying what to write here."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from authlib_core.testing import TestBackend

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

APP = {
    "schema.py": """
        from authlib_core import define_schema, define_table, v

        schema = define_schema({"notes": define_table({"text": v.string()}).index("by_text", ["text"])})
    """,
    "notes.py": """
        from authlib_core import action, query

        @query
        def by_index(ctx):
            return ctx.db.query("notes").withIndex("by_text").collect()

        @query
        def scan(ctx):
            return ctx.db.query("notes").fullTableScan().collect()

        @query
        def normalize(ctx):
            return ctx.db.normalizeId("notes", "x")

        @query
        def system(ctx):
            return ctx.db.system.getDocument("x")

        @query
        def typo(ctx):
            return ctx.db.query("notes").colect()

        @query
        def nested(ctx):
            return ctx.runQuery("notes:typo", {})

        @action
        def act(ctx):
            return ctx.runMutation("notes:x", {})
    """,
}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("notes:by_index", "'QueryInitializer' object has no attribute 'withIndex'; it is spelled `with_index` here"),
        ("notes:scan", "'QueryInitializer' object has no attribute 'fullTableScan'; it is spelled `full_table_scan`"),
        ("notes:normalize", "'DatabaseReader' object has no attribute 'normalizeId'; it is spelled `normalize_id`"),
        ("notes:nested", "the ctx of a query has no attribute 'runQuery'; it is spelled `run_query` here"),
        ("notes:act", "the ctx of an action has no attribute 'runMutation'; it is spelled `run_mutation` here"),
    ],
)
def test_a_convex_spelling_names_the_python_one(make_app: Callable[..., Path], path: str, message: str) -> None:
    with TestBackend(make_app(APP)) as t, pytest.raises(AttributeError) as raised:
        t.action(path) if path == "notes:act" else t.query(path)
    assert str(raised.value).startswith(message)


def test_other_missing_names_stay_plain_attribute_errors(make_app: Callable[..., Path]) -> None:
    with TestBackend(make_app(APP)) as t:
        with pytest.raises(AttributeError) as raised:
            t.query("notes:typo")
        assert str(raised.value) == "'QueryInitializer' object has no attribute 'colect'"
        with pytest.raises(AttributeError, match=r"^'SystemReader' object has no attribute 'getDocument'$"):
            t.query("notes:system")
