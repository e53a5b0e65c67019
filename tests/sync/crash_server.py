"""The dev server on a SQLite file, dying (``os._exit``) the instant a mutation has committed.

``python tests/sync/crash_server.py FUNCTIONS_DIR DB_FILE TABLE`` prints the server's listening line, then serves
until a commit that wrote to ``TABLE``: right after that commit, before the mutation's caller gets control back (so
before any answer is sent or kept apart from the commit), the process exits with status 137, as if killed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from authlib_core.config import Settings
from authlib_core.dev.server import DevServer
from authlib_core.runtime import build_runtime

if TYPE_CHECKING:
    from authlib_core.database.readset import WriteSet
    from authlib_core.runtime import Runtime

KILLED = 137


def main() -> None:
    functions, database, table = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    settings = Settings(functions_dir=functions, sqlite_path=database)

    def die_after(writes: WriteSet) -> None:
        if table in writes.tables:
            os._exit(KILLED)

    def build() -> Runtime:
        runtime = build_runtime(settings)
        runtime.database.commit_listeners.insert(0, die_after)  # the first thing after the commit
        return runtime

    server = DevServer(build, functions, port=0, out=sys.stdout, run_jobs=False)
    server.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
