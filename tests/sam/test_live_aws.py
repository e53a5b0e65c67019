"""Live queries on AWS without AWS: the real sync and fan-out handlers, moto's DynamoDB and DynamoDB Streams, every
call under the function's IAM role, ``PostToConnection`` captured at the boto3 boundary (tests/sam/live_stack.py).

What a client would see is checked as the client checks it: every ``Transition`` must start at the version the
connection's last one ended at, and the query values are the ones the transitions carry.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.sync.timestamps import decode_ts
from tests.sam.cfn_eval import Deployment
from tests.sam.lambda_stack import LambdaStack, session_cookie
from tests.sam.live_stack import LiveStack, _environment

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.sam

PASSWORD = "correct horse battery staple"
NOTES = "myData:getMyData"


@pytest.fixture
def live(expanded: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveStack]:
    import boto3
    from moto import mock_aws

    from authlib_core.database.engines.dynamodb import create_tables
    from authlib_core.live.store import create_sync_table

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")  # moto's Streams URL (shared/reference/aws.md)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        admin = boto3.client("dynamodb", region_name="us-east-1")
        http = LambdaStack(Deployment(expanded))
        names = http.table_names()
        create_tables(admin, names)
        # template.yaml's StreamSpecification (create_tables makes the tables for local use, without a stream)
        stream = Deployment(expanded).resource("DocumentsTable")["Properties"]["StreamSpecification"]
        admin.update_table(TableName=names["documents"], StreamSpecification={"StreamEnabled": True, **stream})
        create_sync_table(admin, http.environment("SyncFunction")["AUTHLIB_SYNC_TABLE"])
        yield LiveStack(http, admin, boto3.client("dynamodbstreams", region_name="us-east-1"), monkeypatch)


class ClientView:
    """What a Convex client keeps of one connection: its version and the values of its queries."""

    def __init__(self, live: LiveStack, connection: str) -> None:
        self.live = live
        self.connection = connection
        self.version: dict[str, Any] = {"querySet": 0, "identity": 0, "ts": "AAAAAAAAAAA="}
        self.values: dict[int, Any] = {}
        self.seen = 0
        self.query_set = 0

    def take(self) -> list[dict[str, Any]]:
        """Messages posted since the last call, applied as the client applies them."""
        texts = self.live.posted.get(self.connection, [])[self.seen :]
        self.seen += len(texts)
        messages = [json.loads(text) for text in texts]
        for message in messages:
            if message["type"] == "Transition":
                assert message["startVersion"] == self.version, "a transition must start where the last one ended"
                assert decode_ts(message["endVersion"]["ts"]) >= decode_ts(self.version["ts"]), "time went back"
                self.version = message["endVersion"]
                for change in message["modifications"]:
                    if change["type"] == "QueryUpdated":
                        self.values[change["queryId"]] = change["value"]
                    elif change["type"] == "QueryFailed":
                        self.values[change["queryId"]] = ("failed", change["errorMessage"])
        return messages

    def open(self, token: str) -> None:
        assert self.live.connect(self.connection) == {"statusCode": 200}
        self.live.send(self.connection, {"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0})
        self.live.send(self.connection, {"type": "Authenticate", "tokenType": "User", "value": token, "baseVersion": 0})
        self.live.send(
            self.connection,
            {
                "type": "ModifyQuerySet",
                "baseVersion": 0,
                "newVersion": 1,
                "modifications": [{"type": "Add", "queryId": 1, "udfPath": NOTES, "args": [{}]}],
            },
        )
        assert [m["type"] for m in self.take()] == ["Transition", "Transition"]
        assert self.values == {1: []}

    def texts(self) -> list[str]:
        return [note["text"] for note in self.values[1]]


def sign_up(live: LiveStack, email: str) -> tuple[str, str]:
    response = live.http.invoke("POST", "/api/auth/sign-up/email", {"email": email, "password": PASSWORD, "name": "A"})
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])["token"], session_cookie(response)


def sign_in(live: LiveStack, email: str) -> tuple[str, str]:
    response = live.http.invoke("POST", "/api/auth/sign-in/email", {"email": email, "password": PASSWORD})
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])["token"], session_cookie(response)


def no_denials_of(live: LiveStack, *functions: str) -> None:
    for function in functions:
        policy = live.policies[function]
        denied = [(action, resource) for action, resource, ok in policy.decisions if not ok]
        assert not denied, f"{function} was refused {denied}"
        assert policy.decisions, f"{function} made no checked call"


def no_denials(live: LiveStack) -> None:
    no_denials_of(live, "SyncFunction", "FanoutFunction")


def test_two_connections_see_a_write_and_an_unrelated_write_posts_nothing(live: LiveStack) -> None:
    ada_token, _ = sign_up(live, "ada@example.com")
    bob_token, bob_cookie = sign_up(live, "bob@example.com")
    live.pump()  # the users' documents: nobody watches them yet
    tab1, tab2, bob = ClientView(live, "ada-1="), ClientView(live, "ada-2="), ClientView(live, "bob-1=")
    tab1.open(ada_token)
    tab2.open(ada_token)
    bob.open(bob_token)

    # A mutation over the socket: its answer, then at once the transition that includes it (read-your-writes).
    out = live.send(
        tab1.connection, {"type": "Mutation", "requestId": 0, "udfPath": "myData:add", "args": [{"text": "hi"}]}
    )
    assert [m["type"] for m in tab1.take()] == ["MutationResponse", "Transition"]
    assert out[0]["success"] is True
    assert decode_ts(out[0]["ts"]) <= decode_ts(out[1]["endVersion"]["ts"])  # the transition includes the commit
    assert tab1.texts() == ["hi"]
    assert tab2.take() == []  # not before the stream delivers the commit

    # The stream: Ada's other tab gets the note; the first tab's result is unchanged (nothing posted); Bob's query
    # did not read Ada's notes, so the subscription index does not even name his connection.
    result = live.pump()
    assert result == {"connections": 2}
    assert [m["type"] for m in tab2.take()] == ["Transition"]
    assert tab2.texts() == ["hi"]
    assert tab1.take() == []
    assert bob.take() == []

    # Bob writes over HTTP: only Bob's connection hears of it.
    status, body = live.http.call(
        "POST",
        "/api/mutation",
        {"path": "myData:add", "args": {"text": "bob's"}, "format": "json"},
        cookies=[bob_cookie],
    )
    assert (status, body["status"]) == (200, "success"), body
    assert live.pump() == {"connections": 1}
    assert [m["type"] for m in bob.take()] == ["Transition"]
    assert bob.texts() == ["bob's"]
    assert tab1.take() == tab2.take() == []
    no_denials(live)


def test_a_revoked_session_gets_auth_error_on_the_next_change_and_is_closed(live: LiveStack) -> None:
    first_token, _ = sign_up(live, "ada@example.com")
    second_token, second_cookie = sign_in(live, "ada@example.com")
    tab1, tab2 = ClientView(live, "ada-1="), ClientView(live, "ada-2=")
    tab1.open(first_token)
    tab2.open(second_token)
    assert live.http.call("POST", "/api/auth/sign-out", {}, cookies=[second_cookie])[0] == 200

    live.send(tab1.connection, {"type": "Mutation", "requestId": 0, "udfPath": "myData:add", "args": [{"text": "x"}]})
    tab1.take()
    live.pump()
    (error,) = tab2.take()
    assert error["type"] == "AuthError"
    assert error["authUpdateAttempted"] is False
    assert "no longer valid" in error["error"]
    assert "revoked" in error["error"]
    assert live.closed == [tab2.connection]  # DeleteConnection: the client fetches a new token and reconnects
    assert live.items(f"c#{tab2.connection}") == []
    assert [i for i in live.items("w#") if i["sk"]["S"] == tab2.connection] == []
    assert tab1.texts() == ["x"]
    no_denials(live)


def test_a_gone_connection_is_cleaned_up_and_disconnect_removes_everything(live: LiveStack) -> None:
    token, cookie = sign_up(live, "ada@example.com")
    tab1, tab2 = ClientView(live, "ada-1="), ClientView(live, "ada-2=")
    tab1.open(token)
    tab2.open(token)
    assert {i["sk"]["S"] for i in live.items("w#")} == {tab1.connection, tab2.connection}
    live.gone.add(tab2.connection)  # the client vanished without $disconnect: API Gateway answers 410
    status, _ = live.http.call(
        "POST", "/api/mutation", {"path": "myData:add", "args": {"text": "y"}, "format": "json"}, cookies=[cookie]
    )
    assert status == 200
    live.pump()
    assert tab1.take()[-1]["type"] == "Transition"
    assert tab1.texts() == ["y"]
    assert live.items(f"c#{tab2.connection}") == []
    assert {i["sk"]["S"] for i in live.items("w#")} == {tab1.connection}

    live.disconnect(tab1.connection)
    assert live.items("c#") == []
    assert live.items("w#") == []
    no_denials(live)


def test_connect_checks_the_origin(live: LiveStack) -> None:
    refused = live.connect("evil=", origin="https://evil.example")
    assert refused["statusCode"] == 403
    assert "ForbiddenOrigin" in refused["body"]
    assert live.items("c#") == []
    assert live.connect("node=", origin=None) == {"statusCode": 200}  # Node/Python clients send no Origin
    # the client version the front passes on (transitions larger than one message go out in pieces to it)
    assert live.connect("versioned=", client_version="1.49.0") == {"statusCode": 200}
    (item,) = live.items("c#versioned=")
    assert item["clientVersion"] == {"S": "1.49.0"}
    assert live.connect("odd=", client_version="1.49.0<script>")["statusCode"] == 400
    assert live.items("c#odd=") == []


def test_connect_reads_trusted_origins_as_the_http_api_does(live: LiveStack) -> None:
    # the same AUTHLIB_TRUSTED_ORIGINS as the HTTP API: a wildcard entry, origins compared as browsers send them
    live.http.overrides["AUTHLIB_TRUSTED_ORIGINS"] = "https://*.preview.example.com,https://app.example.com/"
    assert live.connect("preview=", origin="https://pr-12.preview.example.com") == {"statusCode": 200}
    assert live.connect("port=", origin="https://app.example.com:443") == {"statusCode": 200}
    assert live.connect("case=", origin="https://App.Example.com") == {"statusCode": 200}
    for connection, origin in (
        ("null=", "null"),  # a sandboxed frame or a file: page
        ("other=", "https://preview.example.com.evil.example"),
        ("scheme=", "http://app.example.com"),
    ):
        refused = live.connect(connection, origin=origin)
        assert refused["statusCode"] == 403, origin
        assert live.items(f"c#{connection}") == []


def test_keepalive_pings_every_open_connection_twice_a_minute_and_drops_gone_ones(
    live: LiveStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import authlib_core.live.handlers as handlers

    assert live.keepalive() == {"rounds": 1, "pinged": 0, "removed": 0}  # nobody connected: done at once
    token, _ = sign_up(live, "ada@example.com")
    tab1, tab2 = ClientView(live, "ada-1="), ClientView(live, "ada-2=")
    tab1.open(token)
    tab2.open(token)
    live.gone.add(tab2.connection)
    monkeypatch.setattr(handlers, "KEEPALIVE_EVERY_S", 0.05)
    assert live.keepalive() == {"rounds": 2, "pinged": 2, "removed": 1}  # tab1 twice; tab2 gone in the first round
    assert [m["type"] for m in tab1.take()] == ["Ping", "Ping"]
    assert live.items(f"c#{tab2.connection}") == []
    assert [i["sk"]["S"] for i in live.items("k#")] == [tab1.connection]
    assert [i["sk"]["S"] for i in live.items("w#")] == [tab1.connection]
    no_denials_of(live, "KeepaliveFunction")


def test_a_message_api_gateway_refuses_as_too_large_ends_the_connection_with_a_reason(live: LiveStack) -> None:
    token, cookie = sign_up(live, "ada@example.com")
    tab = ClientView(live, "ada-1=")
    tab.open(token)
    live.max_message_bytes = 450  # this client connected without a version: no TransitionChunk pieces for it
    status, _ = live.http.call(
        "POST", "/api/mutation", {"path": "myData:add", "args": {"text": "z" * 600}, "format": "json"}, cookies=[cookie]
    )
    assert status == 200
    live.pump()
    (fatal,) = tab.take()
    assert fatal["type"] == "FatalError"
    assert "128 KB" in fatal["error"]
    assert live.closed == [tab.connection]
    assert live.items("c#") == live.items("w#") == live.items("k#") == []


def test_the_sync_table_work_of_a_write_is_what_the_cost_model_says(live: LiveStack) -> None:
    """docs/realtime.md, "Cost model": W watch-key Queries per batch, 4 UpdateItems per connection found, nothing
    for connections not found; and no Scan (the counter refuses one)."""
    from tests.dynamodb.call_counter import CallCounter

    ada_token, ada_cookie = sign_up(live, "ada@example.com")
    bob_token, bob_cookie = sign_up(live, "bob@example.com")
    tabs = [ClientView(live, "ada-1="), ClientView(live, "ada-2="), ClientView(live, "bob-1=")]
    for tab, token in zip(tabs, [ada_token, ada_token, bob_token], strict=True):
        tab.open(token)
    live.pump()
    counter = CallCounter(live.environments["FanoutFunction"].store().client)

    def add(cookie: str, text: str) -> Any:
        body = {"path": "myData:add", "args": {"text": text}, "format": "json"}
        assert live.http.call("POST", "/api/mutation", body, cookies=[cookie])[0] == 200
        with counter.measure() as calls:
            result = live.pump()
        return result, calls

    # A note of Ada's: its document (d#id), two index keys (by_creation_time, by_user: each its own value and the
    # index's "*") and "all" = 6 lookups; her two connections each append, lease, save, release.
    result, calls = add(ada_cookie, "a")
    assert result == {"connections": 2}
    assert calls == {"Query": 6, "UpdateItem": 8}
    # Bob's note: the same lookups; only his connection is found.
    result, calls = add(bob_cookie, "b")
    assert result == {"connections": 1}
    assert calls == {"Query": 6, "UpdateItem": 4}


def test_a_mutation_resent_after_a_reconnect_is_answered_not_run_again(live: LiveStack) -> None:
    token, cookie = sign_up(live, "ada@example.com")
    session_id = str(uuid.uuid4())
    mutation = {"type": "Mutation", "requestId": 0, "udfPath": "myData:add", "args": [{"text": "once"}]}
    answers = []
    for connection in ("first=", "second="):  # the client reconnects with the same sessionId and re-sends
        assert live.connect(connection) == {"statusCode": 200}
        live.send(connection, {"type": "Connect", "sessionId": session_id, "connectionCount": 0})
        live.send(connection, {"type": "Authenticate", "tokenType": "User", "value": token, "baseVersion": 0})
        answers.append(next(m for m in live.send(connection, mutation) if m["type"] == "MutationResponse"))
    assert {**answers[0], "ts": None} == {**answers[1], "ts": None}  # a re-send gets the position then
    assert answers[0]["success"] is True
    _, body = live.http.call("POST", "/api/query", {"path": NOTES, "args": {}, "format": "json"}, cookies=[cookie])
    assert [note["text"] for note in body["value"]] == ["once"]
    no_denials_of(live, "SyncFunction")


def test_a_message_after_the_session_ended_gets_auth_error(live: LiveStack) -> None:
    token, cookie = sign_up(live, "ada@example.com")
    tab = ClientView(live, "ada-1=")
    tab.open(token)
    assert live.http.call("POST", "/api/auth/sign-out", {}, cookies=[cookie])[0] == 200
    mutation = {"type": "Mutation", "requestId": 0, "udfPath": "myData:add", "args": [{"text": "late"}]}
    (error,) = live.send(tab.connection, mutation)
    assert error["type"] == "AuthError"
    assert live.closed == [tab.connection]
    _, again = sign_in(live, "ada@example.com")
    query = {"path": NOTES, "args": {}, "format": "json"}
    assert live.http.call("POST", "/api/query", query, cookies=[again]) == (200, {"status": "success", "value": []})
    assert live.items("c#") == []


WIDE_APP = {
    "schema.py": (
        "from authlib_core import define_schema, define_table, v\n"
        "schema = define_schema({'items': define_table({'key': v.string()}).index('by_key', ['key'])})\n"
    ),
    "items.py": (
        "from authlib_core import mutation, query, v\n\n"
        "@query(args={'keys': v.array(v.string())})\n"
        "def lookups(ctx, keys):\n"
        "    return [ctx.db.query('items').with_index('by_key', lambda q, k=k: q.eq('key', k)).first() is not None\n"
        "            for k in keys]\n\n"
        "@mutation(args={'key': v.string()})\n"
        "def put(ctx, key):\n"
        "    ctx.db.insert('items', {'key': key})\n"
    ),
}


def test_a_query_with_many_reads_watches_everything_instead_of_one_key_per_read(
    live: LiveStack, tmp_path: Path
) -> None:
    # The client picks the arguments: a query that reads one index range per argument would otherwise register one
    # watch item per range (sync-table writes without bound, and a connection item past DynamoDB's 400 KB).
    from authlib_core.live.delivery import MAX_WATCH_KEYS

    folder = tmp_path / "widefns"
    folder.mkdir()
    for name, text in WIDE_APP.items():
        (folder / name).write_text(text)
    live.http.overrides["AUTHLIB_FUNCTIONS_DIR"] = str(folder)
    keys = [f"k{i}" for i in range(MAX_WATCH_KEYS + 50)]
    wide, narrow = ClientView(live, "wide="), ClientView(live, "narrow=")
    for view, wanted in ((wide, keys), (narrow, keys[:3])):
        assert live.connect(view.connection) == {"statusCode": 200}
        live.send(view.connection, {"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0})
        add = {"type": "Add", "queryId": 1, "udfPath": "items:lookups", "args": [{"keys": wanted}]}
        live.send(
            view.connection, {"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [add]}
        )
        view.take()
        assert view.values[1] == [False] * len(wanted)
    watched = [item["pk"]["S"] for item in live.items("w#") if item["sk"]["S"] == wide.connection]
    assert watched == ["w#all"]
    assert len([i for i in live.items("w#") if i["sk"]["S"] == narrow.connection]) == 3  # one key per read
    # still exact: a write the wide query read reaches it, and the narrow one only when it read it too
    for key in (keys[-1], keys[0]):
        out = live.http.invoke("POST", "/api/mutation", {"path": "items:put", "args": {"key": key}})
        assert out["statusCode"] == 200, out
        live.pump()
    wide.take()
    narrow.take()
    assert wide.values[1] == [True] + [False] * (len(keys) - 2) + [True]
    assert narrow.values[1] == [True, False, False]
    live.disconnect(wide.connection)
    live.disconnect(narrow.connection)
    assert live.items("w#") == []


def _ada_and_eve(live: LiveStack) -> tuple[ClientView, ClientView, str, str]:
    """Two signed-up users, each with an open connection subscribed to their notes."""
    ada_token, _ = sign_up(live, "ada@example.com")
    eve_token, _ = sign_up(live, "eve@example.com")
    live.pump()
    ada, eve = ClientView(live, "ada="), ClientView(live, "eve=")
    ada.open(ada_token)
    eve.open(eve_token)
    return ada, eve, ada_token, eve_token


def _two_users_write(live: LiveStack, *tokens: str) -> None:
    for token in tokens:  # one stream batch with both users' writes
        out = live.http.invoke(
            "POST",
            "/api/mutation",
            {"path": "myData:add", "args": {"text": "hi"}},
            headers={"authorization": f"Bearer {token}"},
        )
        assert out["statusCode"] == 200, out


def _fill_inbox(live: LiveStack, connection: str, sizes: tuple[int, ...] = (120_000, 10_000, 1_000, 100)) -> None:
    """What a client does by sending large messages while one Lambda holds its connection's lease (a slow action):
    the other sync Lambdas append them to the inbox, until the item is a few hundred bytes short of 400 KB."""
    from authlib_core.live.delivery import message_entry
    from authlib_core.live.store import InboxFullError, SyncStore

    store = SyncStore(live.admin, live.sync_table)
    assert store.acquire(connection, "a-slow-lambda", int(time.time() * 1000) + 60_000) is not None
    for size in sizes:
        with contextlib.suppress(InboxFullError):
            while True:
                store.append(connection, [message_entry("x" * size)])


def test_a_connection_whose_item_is_full_is_closed_and_the_fanout_goes_on(live: LiveStack) -> None:
    # One client cannot stop live queries for everyone: a commit its full item cannot take would fail the stream
    # batch (retried, then dropped with every other connection's updates in it).
    ada, eve, ada_token, eve_token = _ada_and_eve(live)
    _fill_inbox(live, eve.connection)
    _two_users_write(live, eve_token, ada_token)
    assert live.pump() == {"connections": 2}
    ada.take()
    assert ada.texts() == ["hi"]
    assert eve.connection in live.closed
    assert json.loads(live.posted[eve.connection][-1])["type"] == "FatalError"
    assert live.items(f"c#{eve.connection}") == []
    assert [i for i in live.items("w#") if i["sk"]["S"] == eve.connection] == []
    # a message to the removed connection runs nothing
    assert live.send(eve.connection, {"type": "Mutation", "requestId": 0, "udfPath": "myData:add", "args": [{}]}) == []


def test_a_connection_that_fails_in_the_fanout_is_closed_and_the_others_get_their_updates(
    live: LiveStack, caplog: pytest.LogCaptureFixture
) -> None:
    # One broken connection (here: its stored state cannot be read back) must not fail the whole stream batch.
    ada, eve, ada_token, eve_token = _ada_and_eve(live)
    live.admin.update_item(
        TableName=live.sync_table,
        Key={"pk": {"S": f"c#{eve.connection}"}, "sk": {"S": "c"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":s": {"S": '{"not json\n<script>'}},
    )
    _two_users_write(live, eve_token, ada_token)
    assert live.pump() == {"connections": 2}
    ada.take()
    assert ada.texts() == ["hi"]
    assert eve.connection in live.closed
    fatal = json.loads(live.posted[eve.connection][-1])
    assert fatal["type"] == "FatalError"
    assert "InternalServerError" in fatal["error"]
    assert live.items(f"c#{eve.connection}") == []
    assert [i for i in live.items("w#") if i["sk"]["S"] == eve.connection] == []
    logged = [r.getMessage() for r in caplog.records if "fan-out failed" in r.getMessage()]
    assert len(logged) == 1
    assert "JSONDecodeError" in logged[0]
    assert "<script>" not in logged[0]


def test_a_storage_outage_in_the_fanout_fails_the_batch_and_keeps_every_connection(live: LiveStack) -> None:
    ada, eve, ada_token, eve_token = _ada_and_eve(live)
    with _environment(live.http.environment("FanoutFunction")):
        store = live.environments["FanoutFunction"].store()

    def throttle(params: dict[str, Any], **_: Any) -> Any:
        if f'"c#{eve.connection}"'.encode() in params.get("body", b""):
            error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
            return type("R", (), {"status_code": 400, "headers": {}})(), error | {"ResponseMetadata": {}}
        return None

    store.client.meta.events.register("before-call.dynamodb.*", throttle)
    _two_users_write(live, eve_token, ada_token)
    with pytest.raises(Exception, match="ThrottlingException"):
        live.pump()
    store.client.meta.events.unregister("before-call.dynamodb.*", throttle)
    for view in (ada, eve):
        assert view.connection not in live.closed
        assert live.items(f"c#{view.connection}") != []


CHAIN_APP = {
    "schema.py": (
        "from authlib_core import define_schema, define_table, v\n"
        "schema = define_schema({'items': define_table({'key': v.string(), 'next': v.array(v.string())})"
        ".index('by_key', ['key'])})\n"
    ),
    "items.py": (
        "from authlib_core import mutation, query, v\n\n"
        "def find(ctx, key):\n"
        "    return ctx.db.query('items').with_index('by_key', lambda q: q.eq('key', key)).first()\n\n"
        "@query(args={})\n"
        "def chain(ctx):\n"
        "    start = find(ctx, 'start')\n"
        "    return [] if start is None else [find(ctx, key) is not None for key in start['next']]\n\n"
        "@mutation(args={'key': v.string(), 'next': v.array(v.string())})\n"
        "def put(ctx, key, next):\n"
        "    ctx.db.insert('items', {'key': key, 'next': next})\n"
    ),
}


def test_watches_a_fanout_added_before_the_item_turned_out_full_are_removed_with_the_connection(
    live: LiveStack, tmp_path: Path
) -> None:
    # The fan-out registers the ranges a commit makes a query read before it saves the state; when saving finds the
    # item full, the connection ends, and those watches must go with it (the item does not list them).
    from authlib_core.live.store import SyncStore

    folder = tmp_path / "chainfns"
    folder.mkdir()
    for name, text in CHAIN_APP.items():
        (folder / name).write_text(text)
    live.http.overrides["AUTHLIB_FUNCTIONS_DIR"] = str(folder)
    view = ClientView(live, "chain=")
    assert live.connect(view.connection) == {"statusCode": 200}
    live.send(view.connection, {"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0})
    add = {"type": "Add", "queryId": 1, "udfPath": "items:chain", "args": [{}]}
    live.send(view.connection, {"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [add]})
    view.take()
    assert view.values[1] == []
    before = {i["pk"]["S"] for i in live.items("w#") if i["sk"]["S"] == view.connection}
    # client messages waiting for the sync function fill the item but for room for a commit entry
    _fill_inbox(live, view.connection, (30_000,))
    key = {"pk": {"S": f"c#{view.connection}"}, "sk": {"S": "c"}}

    def inbox() -> list[dict[str, str]]:
        item = live.admin.get_item(TableName=live.sync_table, Key=key)["Item"]
        return list(item["inbox"]["L"])

    live.admin.update_item(TableName=live.sync_table, Key=key, UpdateExpression=f"REMOVE inbox[{len(inbox()) - 1}]")
    _fill_inbox(live, view.connection, (3_000, 300))
    freed = 0
    while freed < 1_000:  # the last entries are the small ones
        entries = inbox()
        assert len(entries[-1]["S"]) < 3_100
        freed += len(entries[-1]["S"])
        live.admin.update_item(TableName=live.sync_table, Key=key, UpdateExpression=f"REMOVE inbox[{len(entries) - 1}]")
    assert SyncStore(live.admin, live.sync_table).release(view.connection, "a-slow-lambda", left=len(inbox()))
    # the commit makes the query read 240 more ranges: their bounds take more room than the item has left
    nexts = [f"{i:03d}" + "n" * 400 for i in range(240)]
    out = live.http.invoke("POST", "/api/mutation", {"path": "items:put", "args": {"key": "start", "next": nexts}})
    assert out["statusCode"] == 200, out
    assert live.pump() == {"connections": 1}
    assert view.connection in live.closed
    # the run got as far as saving: the new result went out, then the end
    assert json.loads(live.posted[view.connection][-2])["type"] == "Transition"
    assert "TooMuchPendingWork" in json.loads(live.posted[view.connection][-1])["error"]
    assert live.items(f"c#{view.connection}") == []
    assert before
    assert [i["pk"]["S"] for i in live.items("w#") if i["sk"]["S"] == view.connection] == []


def test_connect_refuses_an_address_past_its_connection_limit_and_disconnect_frees_a_place(
    live: LiveStack,
) -> None:
    from authlib_core.live.delivery import AWS_LIMITS

    limit = AWS_LIMITS.max_connections_per_address
    crowd = [f"crowd{i}=" for i in range(limit)]
    for connection in crowd:
        assert live.connect(connection, address="203.0.113.9") == {"statusCode": 200}
    refused = live.connect("one-more=", address="203.0.113.9")
    assert refused["statusCode"] == 429
    assert "TooManyConnections" in refused["body"]
    assert live.items("c#one-more=") == []
    # another address is not affected
    assert live.connect("elsewhere=", address="203.0.113.10") == {"statusCode": 200}
    live.disconnect(crowd[0])
    assert live.connect("one-more=", address="203.0.113.9") == {"statusCode": 200}
    assert live.connect("and-another=", address="203.0.113.9")["statusCode"] == 429
    # every place is given back; the count and the address records expire with the connections
    for connection in [*crowd[1:], "one-more=", "elsewhere="]:
        live.disconnect(connection)
    assert {item["n"]["N"] for item in live.items("ip#")} == {"0"}
    assert live.items("a#") == []
    assert all(int(item["expiresAt"]["N"]) > time.time() for item in live.items("ip#"))
    no_denials_of(live, "SyncFunction")


def test_a_connection_count_left_behind_heals_when_it_expires(live: LiveStack) -> None:
    # $disconnect never came for these (a count TTL deletion has not removed yet): the address may connect again
    from authlib_core.live.delivery import AWS_LIMITS

    limit = AWS_LIMITS.max_connections_per_address
    key = {"pk": {"S": "ip#203.0.113.9"}, "sk": {"S": "n"}}
    stale = {**key, "n": {"N": str(limit)}, "expiresAt": {"N": str(int(time.time()) - 60)}}
    live.admin.put_item(TableName=live.sync_table, Item=stale)
    assert live.connect("back=", address="203.0.113.9") == {"statusCode": 200}
    (count,) = live.items("ip#203.0.113.9")
    assert count["n"] == {"N": "1"}
    assert int(count["expiresAt"]["N"]) > time.time()
    live.admin.put_item(TableName=live.sync_table, Item={**stale, "expiresAt": {"N": str(int(time.time()) + 60)}})
    assert live.connect("refused=", address="203.0.113.9")["statusCode"] == 429
