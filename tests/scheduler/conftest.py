"""A dev server over a functions folder written per test, and helpers to call it and wait for jobs."""

from __future__ import annotations

import io
import json
import sys
import textwrap
import time
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.config import Settings
from authlib_core.dev.server import DevServer
from authlib_core.runtime import build_runtime

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

SCHEMA = """
from authlib_core import define_schema, define_table, v

schema = define_schema({"runs": define_table({"label": v.string(), "at": v.float64()})})
"""

WORK = """
import time
from authlib_core import action, internal_action, internal_mutation, mutation, query, v

@internal_mutation
def record(ctx, label: str):
    ctx.db.insert("runs", {"label": label, "at": time.time() * 1000})

@mutation
def later(ctx, label: str, delay: float):
    return ctx.scheduler.run_after(delay, record, {"label": label})

@mutation
def at(ctx, label: str, when: float):
    return ctx.scheduler.run_at(when, "work:record", {"label": label})

@internal_action
def slow(ctx, label: str, seconds: float):
    ctx.run_mutation(record, {"label": label + ":start"})
    time.sleep(seconds)
    ctx.run_mutation(record, {"label": label + ":end"})

@mutation
def later_slow(ctx, label: str, seconds: float):
    return ctx.scheduler.run_after(0, slow, {"label": label, "seconds": seconds})

@query
def runs(ctx):
    return ctx.db.query("runs").collect()

@query
def job(ctx, id: str):
    return ctx.db.system.get(id)

@query
def jobs(ctx):
    return ctx.db.system.query("_scheduled_functions").collect()
"""


def write_app(folder: Path, *, crons: str | None = None, work: str = WORK) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "schema.py").write_text(textwrap.dedent(SCHEMA))
    (folder / "work.py").write_text(textwrap.dedent(work))
    if crons is not None:
        (folder / "crons.py").write_text(textwrap.dedent(crons))


class Dev:
    """A dev server over ``folder`` and ``store``; ``stop`` then ``start`` is a new server on the same store."""

    def __init__(self, folder: Path, store: Path, **settings: Any) -> None:
        self.folder = folder
        self.store = store
        self.settings = settings  # further Settings fields (job_retention=...)
        self.out = io.StringIO()
        self.server: DevServer | None = None

    def start(self) -> Dev:
        settings = Settings(functions_dir=self.folder, sqlite_path=self.store, **self.settings)
        self.server = DevServer(
            lambda: build_runtime(settings), self.folder, port=0, out=self.out, reload_interval=0.05
        )
        self.server.start_background()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server = None
        for module in list(sys.modules):
            if module.split(".")[0] == self.folder.name:
                del sys.modules[module]

    def call(self, kind: str, path: str, args: dict[str, Any] | None = None) -> Any:
        assert self.server is not None
        body = json.dumps({"path": path, "args": args or {}, "format": "json"}).encode()
        request = urllib.request.Request(
            f"{self.server.url}/api/{kind}", data=body, headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        assert answer["status"] == "success", answer
        return answer["value"]

    def runs(self) -> list[dict[str, Any]]:
        return self.call("query", "work:runs")


def wait_for(condition: Callable[[], Any], *, timeout: float = 10.0, step: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(step)


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "schedfns"
    write_app(folder)
    return folder


@pytest.fixture
def dev(app_dir: Path, tmp_path: Path) -> Iterator[Dev]:
    server = Dev(app_dir, tmp_path / "dev.sqlite3").start()
    yield server
    server.stop()
