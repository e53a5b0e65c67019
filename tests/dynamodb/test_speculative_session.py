"""The session read of a remembered session overlaps the function's first read, and nothing of a run on an
identity the read does not confirm ever leaves: result, error, writes, printed and logged lines.

End to end through ``HttpApp`` on in-process moto (the bench app, ``bench/app``); latency and call timing come from
botocore hooks on the app's real client (``bench/latency.py``), the failures from changing the stored session the
way another instance would (sign-out, expiry, a new email) or from a storage error injected at the botocore boundary.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import EndpointConnectionError

from authlib_core.auth.cookies import unsign
from authlib_core.auth.remembered import RememberedSessions
from authlib_core.auth.tokens import hash_token, parse_token
from bench.common import BENCH_FUNCTIONS, SECRET, Stack, dynamodb_stack, make_event, moto
from bench.latency import InjectedLatency, critical_path
from tests.dynamodb.call_counter import CallCounter
from tests.dynamodb.harness import serialize_moto_calls

if TYPE_CHECKING:
    from collections.abc import Iterator

LOOKUP_THREAD = "authlib-session"


@pytest.fixture
def stack() -> Iterator[Stack]:
    with moto():
        yield dynamodb_stack(BENCH_FUNCTIONS, tables=f"spec-{uuid.uuid4().hex[:8]}")


def _token(cookie: str) -> str:
    token = unsign(cookie.split("=", 1)[1], (SECRET,))
    assert token is not None
    return unquote(token)


def _event(kind: str, path: str, cookie: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    return make_event("POST", f"/api/{kind}", {"path": path, "args": args or {}}, cookies=[cookie])


def _body(stack: Stack, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = stack.call(event)
    return response["statusCode"], json.loads(response["body"])


def _today(stack: Stack, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The answer without the session memory (the sequential path), leaving the memory as it was."""
    memory = stack.runtime.auth.remembered
    stack.runtime.auth.remembered = None
    try:
        return _body(stack, event)
    finally:
        stack.runtime.auth.remembered = memory


def _session_reads(stack: Stack) -> list[str]:
    """Threads that read the sessions table, recorded by a botocore hook."""
    table = stack.runtime.settings.sessions_table.encode()
    threads: list[str] = []

    def hook(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == "GetItem" and table in params.get("body", b""):
            threads.append(threading.current_thread().name)

    stack.client.meta.events.register("before-call.dynamodb", hook, unique_id=f"session-reads-{id(threads)}")
    return threads


def test_a_remembered_session_is_read_while_the_function_makes_its_first_read(stack: Stack) -> None:
    cookie = stack.sign_up("overlap@example.test")
    stack.run("mutation", "notes:addNote", {"text": "mine"}, cookie)  # this instance confirms the session
    hook = InjectedLatency(stack.client, 0.02)
    with hook.recording() as calls:
        status, body = _body(stack, _event("query", "notes:myNotes", cookie))
    assert (status, body["status"], [note["text"] for note in body["value"]]) == (200, "success", ["mine"])
    session = [call for call in calls if call.thread.startswith(LOOKUP_THREAD)]
    function = sorted((call for call in calls if not call.thread.startswith(LOOKUP_THREAD)), key=lambda c: c.started)
    assert [call.operation for call in session] == ["GetItem"]
    assert [call.operation for call in function] == ["GetItem", "Query", "TransactGetItems"]
    first = function[0]
    assert session[0].started < first.ended
    assert first.started < session[0].ended
    assert critical_path(calls) == 3

    stack.runtime.auth.remembered = RememberedSessions()  # a fresh instance: today's sequential path
    with hook.recording() as calls:
        status, body = _body(stack, _event("query", "notes:myNotes", cookie))
    assert body["status"] == "success"
    assert {call.thread.startswith(LOOKUP_THREAD) for call in calls} == {False}
    assert [call.operation for call in sorted(calls, key=lambda c: c.started)] == [
        "GetItem",
        "GetItem",
        "Query",
        "TransactGetItems",
    ]
    assert critical_path(calls) == 4


def _revoke(stack: Stack, cookie: str) -> None:
    parsed = parse_token(_token(cookie))
    assert parsed is not None
    stack.runtime.auth.sessions.delete(parsed.user_id, parsed.session_id)


def _expire(stack: Stack, cookie: str) -> None:
    parsed = parse_token(_token(cookie))
    assert parsed is not None
    record = stack.runtime.auth.sessions.get(parsed.user_id, parsed.session_id)
    assert record is not None
    stack.runtime.auth.sessions.refresh(
        parsed.user_id, parsed.session_id, expires_at=record.updated_at + 1, updated_at=record.updated_at
    )


@pytest.mark.parametrize("change", [_revoke, _expire], ids=["revoked", "expired"])
def test_a_session_ended_elsewhere_gets_todays_answer_and_no_result(stack: Stack, change: Any) -> None:
    cookie = stack.sign_up("ended@example.test")
    stack.run("mutation", "notes:addNote", {"text": "private text"}, cookie)
    memory = stack.runtime.auth.remembered
    assert memory is not None
    assert memory.get(hash_token(_token(cookie)), 0) is not None
    change(stack, cookie)  # another instance signs out / the session ends; this instance still remembers it

    event = _event("query", "notes:myNotes", cookie)
    expected = _today(stack, event)
    reads = _session_reads(stack)
    actual = _body(stack, event)
    assert actual == expected
    assert actual[1]["status"] == "error"
    assert "Not authenticated" in actual[1]["errorMessage"]
    assert "private text" not in json.dumps(actual)
    # read once, in the background: the run on the memory was discarded
    assert [thread.startswith(LOOKUP_THREAD) for thread in reads] == [True]
    assert len(memory) == 0  # and the session forgotten


@pytest.mark.parametrize("change", [_revoke, _expire], ids=["revoked", "expired"])
def test_a_mutation_on_a_session_ended_elsewhere_writes_nothing(stack: Stack, change: Any) -> None:
    cookie = stack.sign_up("ended-write@example.test")
    stack.run("mutation", "notes:addNote", {"text": "first"}, cookie)
    other = stack.sign_up("other-write@example.test")
    change(stack, cookie)
    counter = CallCounter(stack.client)
    event = _event("mutation", "notes:addNote", cookie, {"text": "must not be written"})
    with counter.measure() as calls:
        status, body = _body(stack, event)
    assert (status, body["status"]) == (200, "error")
    assert "Not authenticated" in body["errorMessage"]
    assert calls["TransactWriteItems"] == 0
    assert _today(stack, event) == (status, body)
    stack.run("mutation", "notes:addNote", {"text": "other's"}, other)
    assert [n["text"] for n in stack.run("query", "notes:myNotes", cookie=other)] == ["other's"]


def _poison(stack: Stack, cookie: str, as_cookie: str) -> None:
    """Make this instance remember ``cookie``'s token as ``as_cookie``'s session: a memory that is wrong."""
    memory = stack.runtime.auth.remembered
    assert memory is not None
    wrong = memory.get(hash_token(_token(as_cookie)), 0)
    assert wrong is not None
    memory.update(hash_token(_token(cookie)), wrong)


def test_a_wrong_memory_never_shows_another_users_data_or_logs(
    stack: Stack, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    alice = stack.sign_up("alice@example.test")
    bob = stack.sign_up("bob@example.test")
    stack.run("mutation", "notes:addNote", {"text": "alice's"}, alice)
    stack.run("mutation", "notes:addNote", {"text": "bob's secret"}, bob)
    alice_id = stack.run("query", "notes:whoami", cookie=alice)["subject"]
    bob_id = stack.run("query", "notes:whoami", cookie=bob)["subject"]
    _poison(stack, alice, as_cookie=bob)
    capsys.readouterr()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bench.app"):
        assert stack.run("query", "notes:whoami", cookie=alice)["subject"] == alice_id
    printed = capsys.readouterr().out
    assert f"whoami {alice_id}" in printed
    assert bob_id not in printed
    assert [r.getMessage() for r in caplog.records if r.name == "bench.app"] == [f"whoami {alice_id}"]

    _poison(stack, alice, as_cookie=bob)
    assert [n["text"] for n in stack.run("query", "notes:myNotes", cookie=alice)] == ["alice's"]

    _poison(stack, alice, as_cookie=bob)  # the discarded run changed its arguments; the run that counts gets them new
    assert stack.run("query", "notes:tagged", {"tags": ["x"]}, cookie=alice) == ["x", alice_id]

    _poison(stack, alice, as_cookie=bob)
    counter = CallCounter(stack.client)
    with counter.measure() as calls:
        stack.run("mutation", "notes:addNote", {"text": "alice's second"}, alice)
    assert calls["TransactWriteItems"] == 1  # the discarded run sent no write
    assert [n["text"] for n in stack.run("query", "notes:myNotes", cookie=alice)] == ["alice's", "alice's second"]
    assert [n["text"] for n in stack.run("query", "notes:myNotes", cookie=bob)] == ["bob's secret"]


@pytest.fixture
def own_handler() -> Iterator[io.StringIO]:
    """A handler of the function's logger itself (not the root's), as an app that configures its logger adds."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("bench.app")
    level = logger.level
    logger.setLevel(logging.WARNING)  # whatever an earlier test left on a parent logger ("bench")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_discarded_run_writes_nothing_to_a_handler_of_the_functions_own_logger(
    stack: Stack, own_handler: io.StringIO
) -> None:
    alice = stack.sign_up("own-alice@example.test")
    bob = stack.sign_up("own-bob@example.test")
    alice_id = stack.run("query", "notes:whoami", cookie=alice)["subject"]
    bob_id = stack.run("query", "notes:whoami", cookie=bob)["subject"]
    own_handler.truncate(0)
    own_handler.seek(0)

    _poison(stack, alice, as_cookie=bob)  # a memory naming another user: that run is discarded
    reads = _session_reads(stack)
    assert stack.run("query", "notes:whoami", cookie=alice)["subject"] == alice_id
    assert [thread.startswith(LOOKUP_THREAD) for thread in reads] == [True]  # the run on the memory was made
    assert own_handler.getvalue() == f"WARNING whoami {alice_id}\n"  # only the run that counts
    assert bob_id not in own_handler.getvalue()

    own_handler.truncate(0)
    own_handler.seek(0)
    _revoke(stack, alice)  # signed out elsewhere: the run on the memory is discarded, the anonymous run stands
    reads.clear()
    assert stack.run("query", "notes:whoami", cookie=alice) is None
    assert [thread.startswith(LOOKUP_THREAD) for thread in reads] == [True]
    assert own_handler.getvalue() == "WARNING whoami None\n"
    assert alice_id not in own_handler.getvalue()


def test_a_confirmed_run_writes_its_lines_to_a_handler_of_the_functions_own_logger_once(
    stack: Stack, own_handler: io.StringIO
) -> None:
    cookie = stack.sign_up("own-confirmed@example.test")
    user_id = stack.run("query", "notes:whoami", cookie=cookie)["subject"]  # this instance confirms the session
    reads = _session_reads(stack)
    for _ in range(2):
        assert stack.run("query", "notes:whoami", cookie=cookie)["subject"] == user_id
    assert [thread.startswith(LOOKUP_THREAD) for thread in reads] == [True, True]  # both ran on the memory
    assert own_handler.getvalue() == f"WARNING whoami {user_id}\n" * 3


def test_a_changed_identity_is_the_one_the_function_sees(stack: Stack) -> None:
    cookie = stack.sign_up("before@example.test")
    assert stack.run("query", "notes:whoami", cookie=cookie)["email"] == "before@example.test"
    parsed = parse_token(_token(cookie))
    assert parsed is not None
    stack.runtime.auth.sessions.update_user_snapshot(parsed.user_id, email="after@example.test", name="Bench")
    assert stack.run("query", "notes:whoami", cookie=cookie)["email"] == "after@example.test"
    assert stack.run("query", "notes:whoami", cookie=cookie)["email"] == "after@example.test"


def test_a_storage_error_on_the_background_read_gives_todays_answer(stack: Stack) -> None:
    cookie = stack.sign_up("outage@example.test")
    stack.run("mutation", "notes:addNote", {"text": "during an outage"}, cookie)
    table = stack.runtime.settings.sessions_table.encode()

    def unreachable(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == "GetItem" and table in params.get("body", b""):
            raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    reads = _session_reads(stack)  # registered first: it sees the attempt the next hook fails
    stack.client.meta.events.register("before-call.dynamodb", unreachable, unique_id="sessions-unreachable")
    for kind, path, args in [("query", "notes:myNotes", {}), ("mutation", "notes:addNote", {"text": "lost"})]:
        event = _event(kind, path, cookie, args)
        reads.clear()
        expected = _today(stack, event)
        assert reads == ["MainThread"]  # today: one attempt
        reads.clear()
        counter = CallCounter(stack.client)
        with counter.measure() as calls:
            actual = _body(stack, event)
        assert actual == expected
        assert actual[0] == 503
        assert "during an outage" not in json.dumps(actual)
        assert [thread.startswith(LOOKUP_THREAD) for thread in reads] == [True]  # one attempt, as today
        assert calls["TransactWriteItems"] == 0
    stack.client.meta.events.unregister("before-call.dynamodb", unique_id="sessions-unreachable")
    assert [n["text"] for n in stack.run("query", "notes:myNotes", cookie=cookie)] == ["during an outage"]


def test_actions_never_run_on_a_remembered_identity(stack: Stack) -> None:
    cookie = stack.sign_up("action@example.test")
    user_id = stack.run("query", "notes:whoami", cookie=cookie)["subject"]
    reads = _session_reads(stack)
    assert stack.run("action", "notes:whoamiAction", cookie=cookie) == user_id
    assert len(reads) == 1
    assert not reads[0].startswith(LOOKUP_THREAD)


def test_concurrent_requests_of_many_users_each_see_their_own_identity(stack: Stack) -> None:
    serialize_moto_calls(stack.client)  # moto applies concurrent requests unsafely; DynamoDB does not
    cookies = [stack.sign_up(f"user{i}@example.test") for i in range(3)]  # the sign-up limit per address: 3
    subjects = [stack.run("query", "notes:whoami", cookie=cookie)["subject"] for cookie in cookies]
    stack.runtime.auth.remembered = RememberedSessions(capacity=2)  # fewer than the users: constant eviction
    failures: list[str] = []

    def user(index: int) -> None:
        for _ in range(12):
            seen = stack.run("query", "notes:whoami", cookie=cookies[index])["subject"]
            if seen != subjects[index]:
                failures.append(f"user {index} saw {seen}")

    threads = [threading.Thread(target=user, args=(i,)) for i in range(len(cookies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(stack.runtime.auth.remembered) <= 2


@pytest.mark.parametrize("credential", ["bearer", "cookie"])
def test_a_remembered_session_ended_elsewhere_says_why(stack: Stack, credential: str) -> None:
    from authlib_core.auth.service import BEARER_IGNORED_REASONS, COOKIE_IGNORED_REASONS

    cookie = stack.sign_up(f"{credential}-ended@example.test")
    sends: dict[str, Any] = (
        {"headers": {"authorization": f"Bearer {unquote(cookie.split('=', 1)[1])}"}}
        if credential == "bearer"
        else {"cookies": [cookie]}
    )
    added = stack.call(make_event("POST", "/api/mutation", {"path": "notes:addNote", "args": {"text": "x"}}, **sends))
    assert added["statusCode"] == 200, added
    assert "X-Authlib-Auth-Ignored" not in added["headers"]
    _revoke(stack, cookie)  # this instance still remembers the session
    reads = _session_reads(stack)
    answer = stack.call(make_event("POST", "/api/query", {"path": "notes:myNotes", "args": {}}, **sends))
    assert [thread.startswith(LOOKUP_THREAD) for thread in reads] == [True]  # the remembered path ran
    assert "Not authenticated" in json.loads(answer["body"])["errorMessage"]
    reasons = BEARER_IGNORED_REASONS if credential == "bearer" else COOKIE_IGNORED_REASONS
    assert answer["headers"]["X-Authlib-Auth-Ignored"] == reasons["NO_SESSION"]
