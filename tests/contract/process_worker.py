"""``python -m tests.contract.process_worker TASK SPEC_JSON [ARG]``: one client process of the multi-process tests.

Opens its own engine on the store ``SPEC_JSON`` describes (an :class:`~tests.contract.engines.EngineSpec`), waits for
a line on stdin so that every process starts together, runs ``TASK`` and prints one JSON line with its outcome and
the number of conflicts it retried:

* ``increment COUNTER_ID N``: N read-modify-write increments of the counter document;
* ``sign-up EMAIL``: insert a user with EMAIL unless the ``by_email`` index already holds one.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from authlib_core.database import RetryPolicy
from tests.contract.conftest import make_database
from tests.contract.engines import EngineSpec, open_engine

RETRY = RetryPolicy(max_attempts=200, max_backoff_s=0.2)


def main() -> None:
    task, spec_json, *rest = sys.argv[1:]
    database = make_database(open_engine(EngineSpec(**json.loads(spec_json))), RETRY)
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    if task == "increment":
        counter_id, count = rest[0], int(rest[1])

        def increment(w: Any) -> None:
            doc = w.get(counter_id)
            time.sleep(0.001)  # widen the read-modify-write window so the processes really interleave
            w.patch(counter_id, {"value": doc["value"] + 1.0})

        for _ in range(count):
            database.run_mutation(increment)
        outcome: Any = count
    elif task == "sign-up":
        email = rest[0]

        def sign_up(w: Any) -> str:
            existing = w.query("users").with_index("by_email", lambda q: q.eq("email", email)).first()
            if existing is not None:
                return "exists"
            time.sleep(0.2)  # every process has checked before any inserts
            w.insert("users", {"email": email})
            return "inserted"

        outcome = database.run_mutation(sign_up)
    else:
        raise SystemExit(f"unknown task {task!r}")
    print(json.dumps({"outcome": outcome, "conflicts": database.stats.conflicts}), flush=True)
    database.close()


if __name__ == "__main__":
    main()
