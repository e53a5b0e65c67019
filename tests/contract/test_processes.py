"""Serializability across separate processes: no lost update, no phantom double insert.

Each client is its own OS process with its own engine (and, on DynamoDB, its own HTTP connections to moto's
single-threaded server, which applies one request at a time as DynamoDB applies each request atomically). The
in-process moto engine is skipped: its store lives in one process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.database import Database
    from tests.contract.engines import EngineSpec

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4
INCREMENTS = 25


@pytest.fixture
def spec(engine_spec: EngineSpec) -> EngineSpec:
    if engine_spec.kind == "dynamodb":
        pytest.skip("moto in-process cannot be shared between processes; the server run covers DynamoDB")
    return engine_spec


def run_processes(spec: EngineSpec, *argv_per_process: list[str]) -> list[dict[str, Any]]:
    """Start one worker per argv, release them together once all are ready, return their results."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    spec_json = json.dumps(dataclasses.asdict(spec))
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.contract.process_worker", argv[0], spec_json, *argv[1:]],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argv_per_process
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            assert line.strip() == "ready", worker.communicate(timeout=30)[1]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = []
        for worker in workers:
            out, err = worker.communicate(timeout=300)
            assert worker.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def test_processes_lose_no_update(spec: EngineSpec, open_database: Callable[..., Database]) -> None:
    db = open_database()
    counter_id = db.run_mutation(lambda w: w.insert("counters", {"name": "c", "value": 0.0}))
    results = run_processes(spec, *[["increment", counter_id, str(INCREMENTS)] for _ in range(PROCESSES)])
    assert [r["outcome"] for r in results] == [INCREMENTS] * PROCESSES
    assert db.run_query(lambda r: r.get(counter_id))["value"] == PROCESSES * INCREMENTS  # type: ignore[index]
    assert sum(r["conflicts"] for r in results) > 0, "the processes never overlapped; the test proved nothing"


def test_processes_insert_no_phantom_duplicate(spec: EngineSpec, open_database: Callable[..., Database]) -> None:
    db = open_database()
    results = run_processes(spec, *[["sign-up", "race@example.test"] for _ in range(PROCESSES)])
    outcomes = sorted(r["outcome"] for r in results)
    assert outcomes == ["exists"] * (PROCESSES - 1) + ["inserted"]
    assert sum(r["conflicts"] for r in results) > 0, "the mutations never overlapped; the test proved nothing"
    users = db.run_query(lambda r: r.query("users").collect())
    assert [u["email"] for u in users] == ["race@example.test"]
