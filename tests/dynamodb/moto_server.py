"""``python -m tests.dynamodb.moto_server PORT``: moto's server, one request at a time (see harness.py)."""

from __future__ import annotations

import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

from tests.dynamodb.harness import allow_100_item_transactions, keep_no_dynamodb_dashboard_records


def main() -> None:
    port = int(sys.argv[1])
    allow_100_item_transactions()
    keep_no_dynamodb_dashboard_records()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
