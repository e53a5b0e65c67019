"""``python -m authlib_core dev``: options and the run loop of the dev server.

Options: ``--functions DIR`` (default ``functions``), ``--host`` (``127.0.0.1``), ``--port`` (``3210``), ``--db PATH``
(``.authlib/dev.sqlite3``), ``--cors-origin ORIGIN`` (repeatable or comma-separated), ``--static DIR`` (default
``examples/web/dist`` when it exists; ``--no-static`` turns it off).

Ctrl-C (SIGINT) and SIGTERM stop the server cleanly; the exit status is then 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authlib_core.config import Settings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from authlib_core.runtime import Runtime

__all__ = ["DEFAULT_STATIC", "configure_parser", "main", "run"]

DEFAULT_STATIC = Path("examples/web/dist")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the dev server's options to ``parser``."""
    parser.add_argument("--functions", type=Path, default=None, help="functions folder (default: functions)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3210, help="port to listen on (default: 3210; 0 picks one)")
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (default: .authlib/dev.sqlite3)")
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow browser calls with credentials from this origin (repeatable, or comma-separated)",
    )
    static = parser.add_mutually_exclusive_group()
    static.add_argument("--static", type=Path, default=None, help=f"serve a built frontend (default: {DEFAULT_STATIC})")
    static.add_argument("--no-static", action="store_true", help="serve no frontend")


def run(args: argparse.Namespace) -> int:
    """Run the dev server until SIGINT or SIGTERM; returns the exit status."""
    from authlib_core.dev.server import CorsPolicy, DevServer
    from authlib_core.runtime import build_runtime

    settings = Settings.from_env()
    settings = dataclasses.replace(
        settings,
        engine="sqlite",
        functions_dir=args.functions or settings.functions_dir,
        sqlite_path=args.db or settings.sqlite_path,
    )
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    origins = tuple(o.strip().rstrip("/") for item in args.cors_origin for o in item.split(",") if o.strip())
    static_dir = None if args.no_static else args.static
    if static_dir is None and not args.no_static and DEFAULT_STATIC.is_dir():
        static_dir = DEFAULT_STATIC

    def build() -> Runtime:
        return build_runtime(settings)

    server = DevServer(
        build, settings.functions_dir, host=args.host, port=args.port, cors=CorsPolicy(origins), static_dir=static_dir
    )
    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.httpd.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        print(f"functions: {settings.functions_dir}  database: {settings.sqlite_path}", file=server.out, flush=True)
        if static_dir is not None:
            print(f"frontend: {static_dir}", file=server.out, flush=True)
        server.serve_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.close()
    print("stopped", file=server.out, flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run (what ``python -m authlib_core dev ...`` calls)."""
    parser = argparse.ArgumentParser(prog="authlib-core dev", description="Run the HTTP dev server.")
    configure_parser(parser)
    return run(parser.parse_args(sys.argv[1:] if argv is None else argv))
