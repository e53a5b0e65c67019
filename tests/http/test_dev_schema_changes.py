"""The dev server refuses a schema the stored documents do not match, and keeps serving the last good one."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from typing import TYPE_CHECKING

from tests.support.dev_cli import start_dev
from tests.support.processes import stop_process

if TYPE_CHECKING:
    from pathlib import Path

TODOS = """
from authlib_core import mutation, query


@query
def list(ctx):
    return ctx.db.query("todos").collect()


@mutation
def add(ctx, doc: dict):
    return ctx.db.insert("todos", doc)
"""

SCHEMA = """
from authlib_core import define_schema, define_table, v

schema = define_schema({{"todos": define_table({fields}){index}}})
"""


def write_schema(folder: Path, fields: str, index: str = "") -> None:
    path = folder / "schema.py"
    path.write_text(SCHEMA.format(fields=fields, index=index))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a change even within one mtime tick


def call(url: str, route: str, path: str, args: dict) -> dict:
    body = json.dumps({"path": path, "args": args}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{url}{route}", data=body, method="POST"), timeout=10) as r:
        return json.loads(r.read())


class Output:
    """Collects the server's output lines on a thread."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, needle: str, start: int = 0, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, line in enumerate(self.lines[start:], start):
                if needle in line:
                    return i
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} not in the output:\n{self.text()}")


def test_schema_changes_are_checked_against_stored_documents(tmp_path):
    folder = tmp_path / "schemafns"
    folder.mkdir()
    (folder / "todos.py").write_text(TODOS)
    write_schema(folder, '{"text": v.string()}')
    with start_dev(folder, tmp_path) as proc:
        try:
            out = Output(proc.stdout)
            url = out.lines[out.wait_for("listening on")].split("listening on ")[1].strip()
            first = call(url, "/api/mutation", "todos:add", {"doc": {"text": "a"}})["value"]

            # 1. A required field the stored document lacks: refused, the old schema keeps serving.
            mark = len(out.lines)
            write_schema(folder, '{"text": v.string(), "priority": v.number()}')
            at = out.wait_for("Schema refused", mark)
            assert out.lines[at].endswith(
                "Schema refused: 1 stored document does not match it (of the 1 checked); "
                "the previous schema stays in force."
            )
            assert out.lines[at + 1].startswith(
                f'    table "todos", document {first}: Object is missing the required field `priority`.'
            )
            assert "(still serving the last good version)" in out.text()
            assert call(url, "/api/mutation", "todos:add", {"doc": {"text": "b"}})["status"] == "success"

            # 2. The migration's first step (optional) is accepted; every document is checked against it.
            mark = len(out.lines)
            write_schema(folder, '{"text": v.string(), "priority": v.optional(v.number())}')
            assert "schema: 2 stored documents of todos match it" in out.lines[out.wait_for("schema: ", mark)]
            out.wait_for("reloaded", mark)
            assert call(url, "/api/mutation", "todos:add", {"doc": {"text": "c", "priority": 1}})["status"] == "success"

            # 3. An index over a field the validator does not have is a load error; the last good schema stays.
            mark = len(out.lines)
            write_schema(folder, '{"text": v.string(), "priority": v.optional(v.number())}', '.index("by_p", ["prio"])')
            at = out.wait_for('In table "todos" the index "by_p" is invalid', mark)
            assert "references the field prio that does not exist" in out.lines[at]
            assert len(call(url, "/api/query", "todos:list", {})["value"]) == 3
        finally:
            stop_process(proc)
