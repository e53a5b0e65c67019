"""``pagination_opts_validator``: the arguments of a paginated query (Convex's ``paginationOptsValidator``).

A paginated query takes ``paginationOpts`` and passes it to ``.paginate()``; clients (``usePaginatedQuery``, or a
loop with ``ConvexHttpClient``) send ``{"numItems": n, "cursor": None}`` first, then the ``continueCursor`` of the
previous page.

Example:
    >>> from authlib_core import pagination_opts_validator, query, v
    >>> @query(args={"paginationOpts": pagination_opts_validator, "channel": v.string()})
    ... def list_messages(ctx, paginationOpts, channel):
    ...     return (
    ...         ctx.db.query("messages")
    ...         .with_index("by_channel", lambda q: q.eq("channel", channel))
    ...         .order("desc")
    ...         .paginate(paginationOpts)
    ...     )
    >>> pagination_opts_validator.validate({"numItems": 10.0, "cursor": None}, "")
    {'numItems': 10.0, 'cursor': None}
"""

from __future__ import annotations

from authlib_core.values.builders import v

__all__ = ["pagination_opts_validator"]

#: ``{numItems: number, cursor: string | null, endCursor?: string | null, id?: number, maximumRowsRead?: number,
#: maximumBytesRead?: number}`` -- the same fields and types as Convex's ``paginationOptsValidator``.
pagination_opts_validator = v.object(
    {
        "numItems": v.number(),
        "cursor": v.union(v.string(), v.null()),
        "endCursor": v.optional(v.union(v.string(), v.null())),
        "id": v.optional(v.number()),
        "maximumRowsRead": v.optional(v.number()),
        "maximumBytesRead": v.optional(v.number()),
    }
)
