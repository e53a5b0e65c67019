"""Engine factories for the contract suite.

Each factory is described by a picklable :class:`EngineSpec`, so a child process can open the same store
(multi-process concurrency tests). Adding an engine to the suite = adding a spec kind here and a branch in
:func:`open_engine`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from authlib_core.database.interface import StorageEngine


@dataclasses.dataclass(frozen=True)
class EngineSpec:
    """How to open one engine instance: ``kind`` plus a location (file path, endpoint URL, table name)."""

    kind: str
    location: str
    table: str = ""


def open_engine(spec: EngineSpec) -> StorageEngine:
    """Open an engine described by ``spec`` (in this process)."""
    if spec.kind == "sqlite":
        from authlib_core.database.engines.sqlite import SQLiteEngine

        return SQLiteEngine(Path(spec.location))
    raise ValueError(f"unknown engine kind {spec.kind!r}")
