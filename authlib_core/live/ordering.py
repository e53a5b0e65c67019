"""Client messages in the order the client sent them, whatever order their Lambdas appended them to the inbox.

Over one TCP connection the client's frames arrive in order, but API Gateway may run the Lambdas of one
connection's messages concurrently, so the inbox may hold them swapped. The protocol's own fields say what must
come first (``authlib_core.sync.protocol``):

* ``Connect`` opens the session: every other message waits for it;
* ``ModifyQuerySet`` and ``Authenticate`` carry ``baseVersion``: one waits until the session reached it (the one
  before it may still be on its way);
* ``Mutation`` and ``Action`` carry increasing ``requestId``s: those waiting together run in that order. (After a
  reconnect the client re-sends some and drops others, so gaps in request ids are normal and are not waited for.)

A message waits at most :data:`WAIT_S` seconds; then it is handed to the session as it is (which answers a broken
chain with ``FatalError``: the client reconnects).

Example:
    >>> later, earlier = '{"type":"Mutation","requestId":1}', '{"type":"Mutation","requestId":0}'
    >>> order([later, '{"type":"Event"}', earlier])
    [2, 1, 0]
    >>> ready('{"type":"ModifyQuerySet","baseVersion":1}', (True, 0, 0))  # version 1 is not reached yet
    False
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["WAIT_S", "order", "ready", "request_key"]

#: Longest wait of a message for the one that must come before it.
WAIT_S: Final = 5.0


def _message(text: str) -> dict[str, Any]:
    try:
        message = json.loads(text)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


def ready(text: str, versions: tuple[bool, int, int]) -> bool:
    """Whether the session (``SyncSession.versions``) can take this message now without breaking a chain."""
    connected, query_set, identity = versions
    message = _message(text)
    kind = message.get("type")
    if kind == "Connect":
        return True
    if not connected:
        return False
    base = message.get("baseVersion")
    if kind == "ModifyQuerySet" and isinstance(base, int):
        return base <= query_set
    if kind == "Authenticate" and isinstance(base, int):
        return base <= identity
    return True


def request_key(text: str) -> int | None:
    """The request id of a ``Mutation`` or ``Action``, None for other messages."""
    message = _message(text)
    request_id = message.get("requestId")
    if message.get("type") in ("Mutation", "Action") and isinstance(request_id, int):
        return request_id
    return None


def order(texts: Sequence[str]) -> list[int]:
    """The indexes of ``texts`` in the order to hand them over: the mutations and actions among them in request-id
    order, every other message in its place."""
    keys = [request_key(text) for text in texts]
    slots = [index for index, key in enumerate(keys) if key is not None]
    ordered = iter(sorted(slots, key=lambda index: keys[index] or 0))
    return [next(ordered) if key is not None else index for index, key in enumerate(keys)]
