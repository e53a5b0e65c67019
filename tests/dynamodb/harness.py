"""Make moto a faithful stand-in for DynamoDB's atomicity, and start moto's server for the wire path.

moto 5.2 does not apply a request atomically with respect to requests on other threads: there is no lock
around request dispatch (the server's lock only guards the backend lookup), ``transact_write_items`` checks
each condition and applies each write one after the other, and on failure restores a deep copy of the *whole
table* taken when it started — erasing any write another thread committed meanwhile. Real DynamoDB never shows
those anomalies, so the harness serialises DynamoDB calls:

* in-process (``mock_aws``): :func:`serialize_moto_calls` holds one process-wide lock from botocore's
  ``before-call`` to ``after-call`` / ``after-call-error`` of every DynamoDB call;
* server mode: :func:`start_server` runs moto's WSGI app in a subprocess with ``threaded=False``, so it
  handles one request at a time (and HTTP/1.0, so an idle keep-alive connection cannot block others).

Only the fake is constrained; the engine code under test is untouched.

Why a call to the server could take seconds (measured by timing every client call and every request the server
handled over ``tests/faults``): the slow calls (0.3 to 2.2 s) were slow *inside* the server's request handling
(client and server figures agree to a few ms, so not TCP, connection reuse or botocore's retries), none followed
a reset or a table deletion, and they were ``TransactWriteItems`` copying their table once per action plus the
garbage collections those copies set off (each 0.1 to 0.3 s walking moto's and botocore's ~100k import objects).
:func:`snapshot_each_table_once` and the server's frozen import heap (``tests.dynamodb.moto_server``) remove
both: a 6-action commit on a 400-item table went from 57 to 7 ms of CPU, 25 actions from 280 to 10 ms. (The
conflict-retry budget test's ``StorageUnavailable`` was mostly no stall at all: a retry decided with time for
one attempt, refused at its next call with 2.99 s of the 3 s left; ``tests/faults/test_time_budget.py`` pins
the answer, the conflict.)
"""

from __future__ import annotations

import contextlib
import functools
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from typing import TYPE_CHECKING, Any

from tests.support.processes import stop_process

if TYPE_CHECKING:
    from collections.abc import Iterator

_MOTO_LOCK = threading.RLock()
_STATE = threading.local()


def allow_100_item_transactions() -> None:
    """moto 5 refuses a ``TransactGetItems`` of more than 25 items, DynamoDB's limit until 2022; it is 100 now
    (API reference, TransactGetItems: "contains a list of up to 100 TransactGetItem objects"), which the engine
    uses. Applied when this module is imported and by ``tests.dynamodb.moto_server``."""
    import moto.dynamodb.responses

    moto.dynamodb.responses.TRANSACTION_MAX_ITEMS = 100  # type: ignore[attr-defined]


def keep_no_dynamodb_dashboard_records() -> None:
    """moto records every model object it ever makes (``BaseModel.__new__`` appends it to its class's
    ``instances_tracked``) for its dashboard, ``/moto-api/data.json``, until a reset: every item version and every
    copy of a whole table its ``TransactWriteItems`` takes. Over a test package that held gigabytes — and made
    each garbage collection walk them. DynamoDB's objects are made untracked here (nothing else reads those
    records; S3's reset still uses its own). Applied when this module is imported and by
    ``tests.dynamodb.moto_server``."""
    from moto.core.common_models import BaseModel

    tracked_new = BaseModel.__new__
    if getattr(tracked_new, "keeps_dynamodb_untracked", False):
        return

    def new(cls: type, *args: Any, **kwargs: Any) -> Any:
        if cls.__module__.startswith("moto.dynamodb."):
            return super(BaseModel, cls).__new__(cls)  # what BaseModel.__new__ does, without the record
        return tracked_new(cls, *args, **kwargs)

    new.keeps_dynamodb_untracked = True  # type: ignore[attr-defined]
    BaseModel.__new__ = staticmethod(new)  # type: ignore[method-assign,assignment]


def snapshot_each_table_once() -> None:
    """moto 5's ``transact_write_items`` keeps, for its rollback, a deep copy of a table *per action* on it — all
    copies of the same state, taken before any action applies — so a 100-action commit copied its table 100 times.
    On the server that made one commit on a table of a few hundred items take 0.3 to 2 s, much of it in garbage
    collections of the copies (see :func:`start_server`). Each table is copied once per call here: the rollback
    state is the same. Applied when this module is imported and by ``tests.dynamodb.moto_server``."""
    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    if isinstance(models.copy, _TableSnapshots):
        return
    models.copy = _TableSnapshots(models.copy)  # type: ignore[assignment]
    transact = models.DynamoDBBackend.transact_write_items

    @functools.wraps(transact)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        _STATE.snapshots = {}
        try:
            transact(self, transact_items)
        finally:
            _STATE.snapshots = None

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _TableSnapshots.table_type = Table


class _TableSnapshots:
    """``copy`` as moto's DynamoDB models module sees it: inside ``transact_write_items`` (on this thread), the deep
    copy of a table is made once and handed out again."""

    table_type: type = object

    def __init__(self, module: Any) -> None:
        self._copy = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._copy, name)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        snapshots = getattr(_STATE, "snapshots", None)
        if snapshots is None or not isinstance(value, self.table_type):
            return self._copy.deepcopy(value, memo)
        if id(value) not in snapshots:
            snapshots[id(value)] = self._copy.deepcopy(value, memo)
        return snapshots[id(value)]


allow_100_item_transactions()
keep_no_dynamodb_dashboard_records()
snapshot_each_table_once()


def _acquire(**_: Any) -> None:
    _MOTO_LOCK.acquire()
    _STATE.depth = getattr(_STATE, "depth", 0) + 1


def _release(**_: Any) -> None:
    if getattr(_STATE, "depth", 0) > 0:
        _STATE.depth -= 1
        _MOTO_LOCK.release()


def serialize_moto_calls(client: Any) -> Any:
    """Make every DynamoDB call of ``client`` atomic with respect to other threads (in-process moto only)."""
    client.meta.events.register("before-call.dynamodb", _acquire, unique_id="moto-serialize-before")
    client.meta.events.register("after-call.dynamodb", _release, unique_id="moto-serialize-after")
    client.meta.events.register("after-call-error.dynamodb", _release, unique_id="moto-serialize-error")
    return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def start_server() -> Iterator[str]:
    """A single-threaded moto server subprocess on 127.0.0.1; yields its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.dynamodb.moto_server", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        stop_process(process)


@functools.cache
def admin_client(url: str) -> Any:
    """An unrestricted client of the moto server at ``url``, one per server (creating one costs tens of ms)."""
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def server_tables(client: Any) -> set[str]:
    """The names of every table ``client``'s server holds."""
    return {name for page in client.get_paginator("list_tables").paginate() for name in page["TableNames"]}


def reset_server(url: str) -> None:
    """Empty the moto server at ``url``: ``POST /moto-api/reset`` (moto's documented reset) drops every resource
    and every object moto keeps for its dashboard."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


@contextlib.contextmanager
def tables_deleted_after(url: str) -> Iterator[None]:
    """Delete, when the block ends, every table created during it on the moto server at ``url``; once no table
    is left, reset the server.

    moto keeps every table until its process ends, and besides records every object it ever made (each item
    version, each copy its ``TransactWriteItems`` takes) for its dashboard — deleting a table does not drop
    those. A session's server used to grow by every test's writes, to gigabytes over the engine contract suite,
    with every request slower as the process's garbage collector walked them. Tables that existed when the
    block began (a module's shared stack) are left alone; the reset waits until they are gone too.
    """
    client = admin_client(url)
    before = server_tables(client)
    try:
        yield
    finally:
        for name in sorted(server_tables(client) - before):
            with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                client.delete_table(TableName=name)
        if not server_tables(client):
            reset_server(url)


def expire_commit_markers(client: Any) -> Any:
    """Delete each commit's marker item once its ``TransactWriteItems`` call has returned (what TTL does later).

    The engine's commit markers (docs/dynamodb.md, section 11) are needed only while their call runs; DynamoDB's
    TTL removes them within hours, at no cost to anyone. moto never expires items, and its
    ``transact_write_items`` deep-copies every table it touches once per action, so a table full of old markers
    makes every later transaction slower — quadratically over a long concurrency test. This hook keeps moto's
    table the size DynamoDB's effectively is. (Not used where tests count calls: it adds a ``DeleteItem``.)
    """

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        first = params.get("TransactItems", [{}])[0].get("Put", {})
        item = first.get("Item", {})
        if str(item.get("pk", {}).get("S", "")).startswith("c#"):
            context["authlib_marker"] = (first["TableName"], {"pk": item["pk"], "sk": item["sk"]})

    def expire(http_response: Any, context: dict[str, Any], **_: Any) -> None:
        marker = context.pop("authlib_marker", None)
        if marker is not None and http_response.status_code < 300:  # after-call also runs for errors
            client.delete_item(TableName=marker[0], Key=marker[1])

    client.meta.events.register(
        "before-parameter-build.dynamodb.TransactWriteItems", remember, unique_id="expire-markers-remember"
    )
    client.meta.events.register("after-call.dynamodb.TransactWriteItems", expire, unique_id="expire-markers-expire")
    return client
