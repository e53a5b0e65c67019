"""Receipts: a small record a caller adds to a mutation's own commit, so it exists exactly when the commit does.

The sync protocol answers a mutation that a client re-sends after a reconnect from the answer it kept, instead of
running it again. Kept *after* the commit, that answer would be missing whenever the process died in between, and
the re-send would run the mutation twice. A receipt closes the gap: the caller says, for the mutation it is about
to run, what to keep given the function's result (:func:`receipt_on_commit`), and
:meth:`~authlib_core.database.Database.run_mutation` hands it to the engine inside the same commit
(:meth:`~authlib_core.database.interface.EngineTransaction.add_receipt`). A conflict that re-runs the mutation asks
again with the new result. Only the outermost mutation of a call takes it (``ctx.run_mutation`` runs inside it).

A receipt is written only where none is kept under its key: a commit carrying a receipt whose key another commit
took first (two runs of the same request at once) is refused as a whole and raises :class:`ReceiptExistsError`,
not a conflict (running the mutation again would repeat what the other run did); the caller answers from the kept
receipt. :meth:`~authlib_core.database.interface.StorageEngine.write_receipt` (what no commit carries) likewise
never replaces a kept receipt.

Engines keep receipts beside the documents: SQLite in table ``receipts`` of the same file, DynamoDB as items
``r#<scope>#<key>`` of the documents table (with the table's TTL). Both drop them once ``expires_at`` has passed.

Example:
    >>> def answer(value):
    ...     return Receipt("sync", "3f0c…#1", '{"success":true}', expires_at=1_900_000_000)
    >>> with receipt_on_commit(answer):
    ...     pass  # database.run_mutation(...) here writes the receipt inside its commit
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from typing import TYPE_CHECKING

from authlib_core.errors import SystemFailure

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from authlib_core.values import Value

__all__ = ["Receipt", "ReceiptExistsError", "receipt_on_commit", "take_receipt_maker"]


@dataclasses.dataclass(frozen=True, slots=True)
class Receipt:
    """A record kept by ``(scope, key)`` until ``expires_at`` (seconds since the epoch): ``value`` is text.

    Example:
        >>> Receipt("sync", "session#7", "{}", expires_at=1_900_000_000).scope
        'sync'
    """

    scope: str
    key: str
    value: str
    expires_at: int

    def __post_init__(self) -> None:
        if not self.scope or "#" in self.scope:
            raise ValueError(f"a receipt's scope must be a non-empty name without '#', got {self.scope!r:.60}")
        if not self.key or len(self.key) > 512:
            raise ValueError(f"a receipt's key must have 1 to 512 characters, got {len(self.key)}")


class ReceiptExistsError(SystemFailure):
    """A commit was refused, nothing of it written, because a receipt with its receipt's key is kept already: the
    same request ran at the same moment elsewhere (a client that re-sent it on a new connection while the first
    run was still going) and committed first. Running it again would do it twice; the kept receipt is its answer.

    Example:
        >>> error = ReceiptExistsError("sync", "3f0c…#1")
        >>> (error.scope, error.key)
        ('sync', '3f0c…#1')
    """

    code = "RequestAlreadyCommitted"

    def __init__(self, scope: str, key: str, *, detail: str = "") -> None:
        super().__init__(
            "This request was committed by another run of it a moment ago (sent again while it was running), so "
            "this run wrote nothing; the answer kept for it is its answer. Read that answer rather than retrying.",
            detail=detail or f"a receipt {scope} is kept under this request's key",
        )
        self.scope = scope
        self.key = key


_maker: contextvars.ContextVar[Callable[[Value], Receipt | None] | None] = contextvars.ContextVar(
    "authlib_receipt_maker", default=None
)


@contextlib.contextmanager
def receipt_on_commit(make: Callable[[Value], Receipt | None]) -> Iterator[None]:
    """Inside the block, the next mutation run commits ``make(result)`` with its writes (see the module docstring).

    ``make`` runs in the committing thread right before each commit attempt; an exception it raises fails the
    mutation (nothing is written).
    """
    token = _maker.set(make)
    try:
        yield
    finally:
        _maker.reset(token)


def take_receipt_maker() -> Callable[[Value], Receipt | None] | None:
    """The maker of :func:`receipt_on_commit`, taken by the outermost mutation (nested runs then find none)."""
    make = _maker.get()
    if make is not None:
        _maker.set(None)
    return make
