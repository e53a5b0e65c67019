"""``python -m tests.dynamodb.moto_server PORT``: moto's server, one request at a time (see harness.py)."""

from __future__ import annotations

import gc
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

from tests.dynamodb.harness import (
    allow_100_item_transactions,
    keep_no_dynamodb_dashboard_records,
    snapshot_each_table_once,
)


def main() -> None:
    port = int(sys.argv[1])
    allow_100_item_transactions()
    keep_no_dynamodb_dashboard_records()
    snapshot_each_table_once()
    app = DomainDispatcherApplication(create_backend_app)
    # Everything imported so far (moto, botocore's models: ~100k objects) lives as long as the process: frozen, no
    # garbage collection walks it again, so a full collection walks only the tables (harness.py: start_server).
    gc.collect()
    gc.freeze()
    run_simple("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
