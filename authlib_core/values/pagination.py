"""``pagination_opts_validator`` and ``pagination_result_validator``: the arguments and the result of a paginated
query (Convex's ``paginationOptsValidator`` and ``paginationResultValidator``).

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

from typing import TYPE_CHECKING

from authlib_core.values.builders import v

if TYPE_CHECKING:
    from authlib_core.values.validator import Validator

__all__ = ["pagination_opts_validator", "pagination_result_validator"]

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


def pagination_result_validator(item: Validator) -> Validator:
    """The ``returns=`` of a paginated query whose page holds ``item`` values: what ``.paginate()`` returns.

    ``{page: item[], isDone: boolean, continueCursor: string, splitCursor?: string | null, pageStatus?:
    "SplitRecommended" | "SplitRequired" | null}``, as Convex's ``paginationResultValidator``. With it the generated
    TypeScript types give ``usePaginatedQuery``'s ``results`` the item type instead of ``any``.

    Example:
        >>> from authlib_core import pagination_opts_validator, query, v
        >>> @query(
        ...     args={"paginationOpts": pagination_opts_validator},
        ...     returns=pagination_result_validator(v.object({"_id": v.id("notes"), "_creationTime": v.number(),
        ...                                                  "text": v.string()})),
        ... )
        ... def notes(ctx, paginationOpts):
        ...     return ctx.db.query("notes").order("desc").paginate(paginationOpts)
        >>> page = {"page": ["a"], "isDone": True, "continueCursor": "c", "splitCursor": None, "pageStatus": None}
        >>> pagination_result_validator(v.string()).validate(page, "")["page"]
        ['a']
    """
    return v.object(
        {
            "page": v.array(item),
            "isDone": v.boolean(),
            "continueCursor": v.string(),
            "splitCursor": v.optional(v.union(v.string(), v.null())),
            "pageStatus": v.optional(v.union(v.literal("SplitRecommended"), v.literal("SplitRequired"), v.null())),
        }
    )
