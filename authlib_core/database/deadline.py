"""The time budget of one request: every storage call and conflict retry stops before it runs out.

The HTTP layer opens a budget per request (:func:`request_budget`) from what the caller can wait: on Lambda the
invocation's remaining time (``context.get_remaining_time_in_millis()``) minus :data:`RESPONSE_RESERVE_S` for
writing the answer, never more than :data:`MAX_REQUEST_BUDGET_S` (API Gateway closes an HTTP API integration
after 30 s). Storage code asks :func:`remaining` before each network attempt and each conflict retry; when the
budget cannot cover another attempt it gives up with a 503 the client may retry, instead of being killed by
Lambda or cut off by API Gateway. Outside a request (scripts, tests, the CLI) there is no budget.

The budget lives in a :mod:`contextvars` variable: it follows the request's thread, and code that fans out to a
thread pool passes it on with :func:`carry`.

Example:
    >>> with request_budget(5.0):
    ...     0.0 < remaining() <= 5.0
    True
    >>> remaining() is None
    True
"""

from __future__ import annotations

import contextvars
import time
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "MAX_REQUEST_BUDGET_S",
    "RESPONSE_RESERVE_S",
    "budget_from_context",
    "carry",
    "remaining",
    "request_budget",
]

T = TypeVar("T")

#: The longest a request may spend on storage: API Gateway's 30 s integration timeout, less room for a cold start
#: and the response.
MAX_REQUEST_BUDGET_S = 20.0
#: Kept back from Lambda's remaining time to log and return the 503 before the invocation is stopped.
RESPONSE_RESERVE_S = 1.0

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("authlib_storage_deadline", default=None)


def budget_from_context(context: Any) -> float:
    """Seconds this request may spend: Lambda's remaining time less the reserve, at most the API Gateway cap.

    ``context`` is the Lambda context (or the dev server's stand-in); anything without a usable
    ``get_remaining_time_in_millis()`` gets :data:`MAX_REQUEST_BUDGET_S`.

    Example:
        >>> class Ctx:
        ...     def get_remaining_time_in_millis(self): return 10_000
        >>> budget_from_context(Ctx())
        9.0
    """
    getter = getattr(context, "get_remaining_time_in_millis", None)
    try:
        left_ms = float(getter()) if callable(getter) else None
    except Exception:  # a context we do not understand must not fail the request
        left_ms = None
    if left_ms is None or left_ms != left_ms:  # None or NaN
        return MAX_REQUEST_BUDGET_S
    return max(0.0, min(MAX_REQUEST_BUDGET_S, left_ms / 1000.0 - RESPONSE_RESERVE_S))


class request_budget:  # a function-like name: ``with request_budget(5.0):``
    """Run the block with a budget of ``seconds`` from now (a nested budget can only shorten the outer one).

    The budget starts when the block is entered. A small class rather than a ``contextlib`` generator: it is
    entered once per request.

    Example:
        >>> with request_budget(5.0), request_budget(60.0):
        ...     remaining() <= 5.0
        True
    """

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._token: contextvars.Token[float | None] | None = None

    def __enter__(self) -> None:
        deadline = time.monotonic() + max(0.0, self._seconds)
        outer = _DEADLINE.get()
        self._token = _DEADLINE.set(deadline if outer is None else min(outer, deadline))

    def __exit__(self, *exc_info: object) -> None:
        token, self._token = self._token, None
        if token is not None:
            _DEADLINE.reset(token)


def remaining() -> float | None:
    """Seconds left in the current request's budget (0.0 when spent), or None outside a budget."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


def carry(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` wrapped to run under the caller's budget on another thread (for ``ThreadPoolExecutor.map``).

    Example:
        >>> with request_budget(5.0):
        ...     check = carry(lambda: remaining() is not None)
        >>> check()
        True
    """
    deadline = _DEADLINE.get()

    def run(*args: Any, **kwargs: Any) -> T:
        token = _DEADLINE.set(deadline)
        try:
            return fn(*args, **kwargs)
        finally:
            _DEADLINE.reset(token)

    return run
