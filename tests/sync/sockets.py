"""Helpers for tests that talk to the dev server over a real WebSocket."""

from __future__ import annotations

import json
from typing import Any

from websockets.exceptions import ConnectionClosed


def until_closed(ws: Any, timeout: float = 10) -> list[dict[str, Any]]:
    """What the server sends until it closes the connection (a message that does not come in time fails)."""
    received: list[dict[str, Any]] = []
    try:
        while True:
            received.append(json.loads(ws.recv(timeout=timeout)))
    except ConnectionClosed:
        return received
