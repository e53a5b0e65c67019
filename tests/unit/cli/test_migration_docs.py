"""The migration docs/database.md describes works as written: optional field, backfill with `run`, tighten."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from authlib_core import define_schema, define_table, v
from authlib_core.database import Database
from authlib_core.database.engines.sqlite import SQLiteEngine
from authlib_core.database.stored_check import StoredDocumentsCheck
from tests.support.databases import TEST_SECRET
from tests.support.dev_cli import run_cli

ROOT = Path(__file__).resolve().parents[3]


def documented_backfill() -> str:
    text = (ROOT / "docs" / "database.md").read_text()
    match = re.search(r"```python\n( *# functions/migrations.py\n.*?) *```", text, re.DOTALL)
    assert match is not None
    return textwrap.dedent(match.group(1))


def run(cwd: Path, *args: str) -> str:
    done = run_cli(cwd, "run", *args, "--db", str(cwd / "d.db"))
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_documented_backfill_makes_the_required_field_acceptable(tmp_path: Path) -> None:
    functions = tmp_path / "functions"
    functions.mkdir()
    (functions / "migrations.py").write_text(documented_backfill())
    (functions / "todos.py").write_text(
        "from authlib_core import internal_mutation\n\n"
        "@internal_mutation\ndef seed(ctx, n: int):\n"
        "    for i in range(n):\n"
        '        ctx.db.insert("todos", {"text": str(i)})\n'
    )
    (functions / "schema.py").write_text(
        "from authlib_core import define_schema, define_table, v\n\n"
        'schema = define_schema({"todos": define_table({"text": v.string(), "priority": v.optional(v.number())})})\n'
    )
    run(tmp_path, "todos:seed", '{"n": 250}')
    cursor = None
    calls = 0
    while True:
        cursor = json.loads(run(tmp_path, "migrations:backfill_priority", json.dumps({"cursor": cursor})))
        calls += 1
        if cursor is None:
            break
    assert calls == 3  # 100 documents per call
    required = define_schema({"todos": define_table({"text": v.string(), "priority": v.number()})})
    report = StoredDocumentsCheck()(Database(SQLiteEngine(tmp_path / "d.db"), required, cursor_secret=TEST_SECRET))
    assert report.checked == 250
