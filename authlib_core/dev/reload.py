"""Rebuild the runtime when a file of the functions folder changes; keep the last good one on a broken edit."""

from __future__ import annotations

import sys
import textwrap
import threading
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from authlib_core.runtime import Runtime

__all__ = ["Reloader", "snapshot"]

Snapshot = dict[str, tuple[int, int]]


def snapshot(folder: Path) -> Snapshot:
    """``{path: (mtime_ns, size)}`` of every ``*.py`` under ``folder`` (``__pycache__`` skipped)."""
    files: Snapshot = {}
    for path in folder.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        try:
            stat = path.stat()
        except OSError:  # deleted between listing and stat
            continue
        files[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return files


class Reloader:
    """Holds the current runtime; a watcher thread polls ``folder`` and rebuilds on change.

    ``on_load`` is called with each runtime once it is current (live queries re-run on the new functions).
    A build that raises (a syntax error, a bad ``args=``, ...) prints the error to ``out`` and leaves the last good
    runtime in place. :meth:`current` raises the first build's error only while no build ever succeeded.

    Example:
        >>> reloader = Reloader(lambda: build_runtime(settings), settings.functions_dir)  # doctest: +SKIP
        >>> reloader.start(); reloader.current().executor                             # doctest: +SKIP
    """

    def __init__(
        self,
        build: Callable[[], Runtime],
        folder: Path,
        *,
        interval: float = 0.3,
        out: TextIO | None = None,
        on_load: Callable[[Runtime], object] | None = None,
    ) -> None:
        self._build = build
        self._on_load = on_load
        self._folder = folder
        self._interval = interval
        self._out = out or sys.stderr
        self._lock = threading.Lock()
        self._runtime: Runtime | None = None
        self._error: Exception | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: Snapshot = {}
        self.generation = 0  # successful builds so far

    def load(self) -> bool:
        """Build now; returns whether it succeeded."""
        seen = snapshot(self._folder)
        try:
            runtime = self._build()
        except Exception as exc:
            with self._lock:
                self._seen, self._error = seen, exc
            keeping = " (still serving the last good version)" if self._runtime is not None else ""
            detail = textwrap.indent(f"{type(exc).__name__}: {exc}", "  ")
            print(f"error: could not load {self._folder}{keeping}:\n{detail}", file=self._out, flush=True)
            return False
        with self._lock:
            self._seen, self._runtime, self._error = seen, runtime, None
            self.generation += 1
        if self._on_load is not None:
            self._on_load(runtime)  # after the swap: whoever reacts sees the new runtime as current
        return True

    def current(self) -> Runtime:
        """The last runtime that built successfully."""
        with self._lock:
            if self._runtime is None:
                raise self._error or RuntimeError("the functions have not been loaded yet")
            return self._runtime

    def start(self) -> None:
        """Start the watcher thread (a daemon)."""
        self._thread = threading.Thread(target=self._watch, name="authlib-dev-reloader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the watcher thread and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.wait(self._interval):
            if snapshot(self._folder) != self._seen and self.load():
                print(f"reloaded {self._folder}", file=self._out)
