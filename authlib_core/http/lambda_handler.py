"""The AWS Lambda entry point: ``authlib_core.http.lambda_handler.handler`` (what ``template.yaml`` names).

The :class:`~authlib_core.runtime.Runtime` (functions registry, storage engine, its clients) is built once per cold
start, lazily, on the first request that needs it, from :meth:`Settings.from_env`; warm invocations reuse it. Only
what a request needs is imported: boto3 loads with the DynamoDB engine, pydantic only if a function's arguments
are validated from type hints. ``GET /api/ok`` builds nothing.

Example (what API Gateway does)::

    >>> handler({"version": "2.0", "rawPath": "/api/ok", ...}, context)   # doctest: +SKIP
    {"statusCode": 200, "body": "{\\"status\\":\\"ok\\"}", ...}
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from authlib_core.config import Settings
from authlib_core.http.app import HttpApp

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from authlib_core.runtime import Runtime

__all__ = ["LazyRuntime", "handler"]


class LazyRuntime:
    """Builds the runtime on first use, once (thread-safe); a failed build is retried on the next call.

    Example:
        >>> runtime = LazyRuntime(lambda: build_runtime(Settings.from_env()))  # doctest: +SKIP
        >>> runtime() is runtime()                                             # doctest: +SKIP
        True
    """

    __slots__ = ("_build", "_lock", "_runtime")

    def __init__(self, build: Callable[[], Runtime]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._runtime: Runtime | None = None

    def __call__(self) -> Runtime:
        runtime = self._runtime
        if runtime is None:
            with self._lock:
                runtime = self._runtime
                if runtime is None:
                    runtime = self._runtime = self._build()
        return runtime


def _build_from_env() -> Runtime:
    from authlib_core.runtime import build_runtime  # the functions folder and engine load on first use

    runtime = build_runtime(Settings.from_env())
    if os.environ.get("AUTHLIB_JOB_QUEUE_URL"):  # jobs scheduled here are handed to the queue at commit
        from authlib_core.scheduler.aws import JobQueue, attach_job_queue

        attach_job_queue(runtime, JobQueue.from_env())
    return runtime


_app: HttpApp | None = None


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Handle one API Gateway HTTP API (payload v2) event."""
    global _app  # one app per Lambda execution environment, by design
    if _app is None:
        _app = HttpApp(LazyRuntime(_build_from_env))
    return _app(event, context)
