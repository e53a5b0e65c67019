"""Keep every DynamoDB attempt inside the request's time budget (:mod:`authlib_core.database.deadline`).

:func:`install_budget_check` registers a ``before-send`` hook on a client: before each HTTP attempt (the first
and each of botocore's retries) it compares what is left of the request's budget with what one attempt may take
when the store hangs (connect timeout + read timeout). If the attempt could outlive the budget, it is not sent:
:class:`~authlib_core.database.engines.dynamodb.errors.BudgetExhaustedError` ends the call at once (botocore does
not retry it) and becomes a 503. Outside a request budget the hook does nothing.

The same hook counts, per thread, the attempts that were let through (:func:`attempts_sent`): a commit uses the
count to tell a write that certainly never reached DynamoDB from one whose outcome must be settled.
"""

from __future__ import annotations

import threading
from typing import Any

from authlib_core.database.deadline import remaining
from authlib_core.database.engines.dynamodb.errors import BudgetExhaustedError

__all__ = ["attempts_sent", "install_budget_check"]

_SENT = threading.local()


def attempts_sent() -> int:
    """How many DynamoDB attempts this thread has let through so far (compare two readings around a call)."""
    count: int = getattr(_SENT, "count", 0)
    return count


def install_budget_check(client: Any, attempt_s: float) -> None:
    """Refuse, on ``client``, any attempt that needs more than what is left of the budget (``attempt_s`` each).

    Example:
        >>> install_budget_check(client, attempt_s=3.0)  # doctest: +SKIP
    """

    def check(**_: Any) -> None:
        left = remaining()
        if left is not None and left < attempt_s:
            raise BudgetExhaustedError(left=left, needed=attempt_s)
        _SENT.count = getattr(_SENT, "count", 0) + 1

    client.meta.events.register("before-send.dynamodb", check, unique_id="authlib-request-budget")
