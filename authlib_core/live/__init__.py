"""Live queries on AWS: API Gateway WebSocket API + Lambda + DynamoDB Streams, with nothing to keep running.

The protocol is :class:`authlib_core.sync.SyncSession`, the same state machine as the dev server's; only its state
lives in DynamoDB between invocations (docs/realtime.md, "On AWS").

* :mod:`~authlib_core.live.watch` — the subscription index's keys: which reads a change can touch.
* :mod:`~authlib_core.live.stream` — DynamoDB Streams records of the documents table as write sets.
* :mod:`~authlib_core.live.store` — the sync table: connections (state, inbox, lease), watches, mutation answers.
* :mod:`~authlib_core.live.delivery` — one connection's work, done by whoever holds its lease, posted in order.
* :mod:`~authlib_core.live.handlers` — the two Lambda entry points: ``sync_handler`` (``$connect``,
  ``$default``, ``$disconnect``) and ``fanout_handler`` (the documents table's stream).
"""
