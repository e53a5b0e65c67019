"""The published Python ``convex`` package's ConvexClient against the dev server's WebSocket sync endpoint.

Run by tests/http/test_live_python_client.py in a subprocess (the client's blocking calls hold the GIL, so a hang
must be bounded from outside). ``APP_URL``: the dev server; ``PHASE``: ``live`` or ``restart``. Prints
``RESULT <json>``; in the ``restart`` phase it prints ``READY <json>`` and waits for the test to restart the server.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request

from convex import ConvexClient, ConvexError

URL = os.environ["APP_URL"]


def sign_up(name: str) -> str:
    body = {"name": name, "email": f"{name}-{time.time_ns()}@example.com", "password": "correct horse battery"}
    request = urllib.request.Request(
        f"{URL}/api/auth/sign-up/email",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "origin": URL},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["token"])


def texts(value: object) -> list[str]:
    return [note["text"] for note in value]  # type: ignore[attr-defined]


def live() -> dict[str, object]:
    out: dict[str, object] = {}
    token = sign_up("py")
    a, b = ConvexClient(URL), ConvexClient(URL)
    a.set_auth(token)
    b.set_auth(token)
    subscription = a.subscribe("myData:getMyData")
    out["first"] = texts(next(subscription))
    b.mutation("myData:add", {"text": "from b"})
    out["seenByOther"] = texts(next(subscription))
    subscription.unsubscribe()
    try:
        next(subscription)
        out["afterUnsubscribe"] = "still delivering"
    except Exception as error:
        out["afterUnsubscribe"] = "dropped" if "dropped" in str(error) else repr(error)
    again = a.subscribe("myData:getMyData")
    out["resubscribed"] = texts(next(again))
    a.clear_auth()
    try:
        next(again)
        out["afterClearAuth"] = "no error"
    except ConvexError as error:
        out["afterClearAuth"] = error.data
    anonymous = ConvexClient(URL)
    try:
        anonymous.query("myData:getMyData")
        out["queryError"] = "no error"
    except ConvexError as error:
        out["queryError"] = error.data
    try:
        anonymous.mutation("myData:add", {"text": "nope"})
        out["mutationError"] = "no error"
    except ConvexError as error:
        out["mutationError"] = error.data
    return out


def restart() -> dict[str, object]:
    token = sign_up("pyrestart")
    client = ConvexClient(URL)
    client.set_auth(token)
    subscription = client.subscribe("myData:getMyData")
    first = texts(next(subscription))
    print("READY " + json.dumps({"token": token, "first": first}), flush=True)
    # After the reconnect the client may report the unchanged list first; the next result holds the new note.
    for _ in range(10):
        latest = texts(next(subscription))
        if latest:
            return {"afterRestart": latest}
    return {"afterRestart": "no update"}


if __name__ == "__main__":
    result = live() if os.environ.get("PHASE", "live") == "live" else restart()
    print("RESULT " + json.dumps(result), flush=True)
    sys.exit(0)
