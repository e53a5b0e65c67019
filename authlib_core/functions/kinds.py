"""What a function is (query, mutation, action) and who may call it (public or internal)."""

from __future__ import annotations

import enum

__all__ = ["Kind", "Visibility"]


class Kind(enum.StrEnum):
    """The kind of a function: what its context can do and how it runs.

    - ``QUERY``: reads in one read-only transaction; ``ctx.db`` has no write methods.
    - ``MUTATION``: reads and writes in one serializable transaction, retried on conflict.
    - ``ACTION``: runs outside any transaction; no ``ctx.db``, uses ``ctx.run_query`` / ``run_mutation``.

    Example:
        >>> Kind.QUERY.label
        'Query'
    """

    QUERY = "query"
    MUTATION = "mutation"
    ACTION = "action"

    @property
    def label(self) -> str:
        """The name Convex uses in messages: ``Query``, ``Mutation``, ``Action``."""
        return self.value.capitalize()


class Visibility(enum.StrEnum):
    """Who may call a function: ``PUBLIC`` (any client) or ``INTERNAL`` (other functions and the admin CLI)."""

    PUBLIC = "public"
    INTERNAL = "internal"
