"""DynamoDB calls per operation, counted with botocore ``before-call`` hooks against in-process moto (deterministic).

Every operation goes through the whole HTTP app (``HttpApp`` over the bench app, ``bench/app``) exactly as
API Gateway would send it, so the counts include the session lookup when the function asks who is calling.
``tests/bench/test_call_counts.py`` asserts these numbers; ``MINIMUM`` is what the design allows (see
docs/performance.md for why).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench.common import BENCH_FUNCTIONS, Row, dynamodb_stack, make_event, moto

if TYPE_CHECKING:
    import collections

SECTION = "3 DynamoDB calls"

#: The fewest calls the design allows for each operation (docs/performance.md, "DynamoDB calls per operation").
MINIMUM: dict[str, dict[str, int]] = {
    "authenticated one-index-page query": {"GetItem": 2, "Query": 1, "TransactGetItems": 1},
    "authenticated one-index-page query, session new to the instance": {
        "GetItem": 2,
        "Query": 1,
        "TransactGetItems": 1,
    },
    "get by id": {"GetItem": 1},
    "insert": {"TransactWriteItems": 1},
    "read-modify-write mutation": {"GetItem": 1, "TransactWriteItems": 1},
    "authenticated read-modify-write mutation": {"GetItem": 2, "TransactWriteItems": 1},
    "sign-in (email + password)": {"GetItem": 3, "PutItem": 1, "Query": 2, "TransactGetItems": 2, "UpdateItem": 1},
    "sign-in, first in its rate-limit windows": {
        "GetItem": 3,
        "PutItem": 1,
        "Query": 2,
        "TransactGetItems": 2,
        "UpdateItem": 2,
    },
    "get-session": {"GetItem": 2},
}


def measure() -> dict[str, dict[str, int]]:
    """The DynamoDB calls of each operation, by API name."""
    from tests.dynamodb.call_counter import CallCounter

    with moto():
        stack = dynamodb_stack(BENCH_FUNCTIONS, tables="counts")
        counter = CallCounter(stack.client)
        cookie = stack.sign_up("counts@example.test")
        note_id = stack.run("mutation", "notes:addNote", {"text": "n"}, cookie)
        counter_id = stack.run("mutation", "notes:newCounter")
        results: dict[str, collections.Counter[str]] = {}

        def count(label: str, event: dict[str, Any], check: Any = None) -> None:
            with counter.measure() as calls:
                response = stack.call(event)
            assert response["statusCode"] == 200, response
            if check is not None:
                assert check(response), response["body"]
            results[label] = calls

        def success(response: dict[str, Any]) -> bool:
            return '"status":"success"' in response["body"]

        def fn(kind: str, path: str, args: dict[str, Any] | None = None, auth: bool = False) -> dict[str, Any]:
            body = {"path": path, "args": args or {}}
            return make_event("POST", f"/api/{kind}", body, cookies=[cookie] if auth else ())

        # The instance has confirmed this session (the mutation above): its read overlaps the function's first read.
        count("authenticated one-index-page query", fn("query", "notes:myNotes", auth=True), success)
        remembered = stack.runtime.auth.remembered
        stack.runtime.auth.remembered = type(remembered)()  # a fresh instance's empty memory
        count(
            "authenticated one-index-page query, session new to the instance",
            fn("query", "notes:myNotes", auth=True),
            success,
        )
        count("get by id", fn("query", "notes:getNote", {"id": note_id}, auth=True), success)
        count("insert", fn("mutation", "notes:newCounter", auth=True), success)
        count("read-modify-write mutation", fn("mutation", "notes:bump", {"id": counter_id}, auth=True), success)
        rename = fn("mutation", "notes:renameNote", {"id": note_id, "text": "renamed"}, auth=True)
        count("authenticated read-modify-write mutation", rename, success)

        def sign_in() -> dict[str, Any]:
            return make_event(
                "POST", "/api/auth/sign-in/email", {"email": "counts@example.test", "password": "pw-12345678"}
            )

        def signed_in(response: dict[str, Any]) -> bool:
            return any(c.startswith("__Secure-better-auth.session_token=") for c in response["cookies"])

        count("sign-in, first in its rate-limit windows", sign_in(), signed_in)
        count("sign-in (email + password)", sign_in(), signed_in)
        count(
            "get-session",
            make_event("GET", "/api/auth/get-session", cookies=[cookie]),
            lambda r: '"session"' in r["body"],
        )
        return {label: dict(sorted(calls.items())) for label, calls in results.items()}


def run(quick: bool = False) -> tuple[list[Row], dict[str, Any]]:
    counts = measure()
    rows = []
    for label, calls in counts.items():
        minimum = MINIMUM[label]
        rows.append(
            Row(
                SECTION,
                label,
                "calls",
                float(sum(calls.values())),
                float(sum(minimum.values())),
                target="= design minimum",
                target_kind="max",
                target_value=1.0,
                note=" + ".join(f"{n} {name}" for name, n in calls.items()),
            )
        )
    return rows, {"counts": counts, "minimum": MINIMUM}


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=1))
