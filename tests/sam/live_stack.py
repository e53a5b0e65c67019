"""Live queries on the deployed stack, in process: the real sync and fan-out handlers under their IAM roles.

* The WebSocket API is played by :class:`LiveStack`: ``$connect``/``$default``/``$disconnect`` events as API Gateway
  sends them, to ``authlib_core.live.handlers.sync_handler``, with the environment the expanded template gives
  ``SyncFunction``.
* The documents table's stream is moto's DynamoDB Streams: :meth:`LiveStack.pump` reads the new records, applies
  the event source mapping's filter from the template, turns them into the Lambda event (binary attributes in
  base64) and calls ``fanout_handler`` with ``FanoutFunction``'s environment.
* ``PostToConnection``/``DeleteConnection`` are captured at the boto3 boundary: a ``before-call`` hook on the real
  Management API clients the handlers create answers instead of the network, after checking the function's role
  allows ``execute-api:ManageConnections`` on that connection; a connection marked gone answers 410.
* Every DynamoDB call of both functions goes through :func:`tests.sam.iam.enforce` with the function's role.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from authlib_core.live import handlers
from authlib_core.live.handlers import LiveEnvironment, ManagementApiPoster
from tests.http.conftest import Context
from tests.sam.iam import RolePolicy, decide, enforce

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pytest

    from tests.sam.lambda_stack import LambdaStack

ORIGIN = "https://app.example.com"
#: The client address API Gateway reports (``requestContext.identity.sourceIp``) unless a test picks another.
ADDRESS = "198.51.100.7"


class _Response:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}


@contextlib.contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class LiveStack:
    """The live-query part of the stack (see the module docstring)."""

    def __init__(self, http: LambdaStack, admin: Any, streams: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.http = http
        self.deployment = http.deployment
        self.admin = admin
        self.streams = streams
        self.monkeypatch = monkeypatch
        self.stage = self.deployment.parameter("Stage")
        self.api_id = str(self.deployment.ref("SyncApi"))
        self.domain = f"{self.api_id}.execute-api.{self.deployment.region}.amazonaws.com"
        #: connection id -> the texts posted to it, in order
        self.posted: dict[str, list[str]] = {}
        self.closed: list[str] = []
        self.gone: set[str] = set()
        #: Where a local front delivers posts and closes (tests/support/aws_front.py); tests read `posted`.
        self.on_post: Callable[[str, str], None] | None = None
        self.on_close: Callable[[str], None] | None = None
        #: API Gateway's limit on one message (128 KB); tests lower it
        self.max_message_bytes = 128 * 1024
        functions = ("SyncFunction", "FanoutFunction", "KeepaliveFunction")
        self.policies = {name: RolePolicy.of_function(self.deployment, name) for name in functions}
        self.environments = {name: self._live(name, handles_messages=name == "SyncFunction") for name in functions}
        self._enforced: set[int] = set()
        self.documents_table = http.table_names()["documents"]
        self.sync_table = http.environment("SyncFunction")["AUTHLIB_SYNC_TABLE"]
        self._iterators: dict[str, str] = {}
        self.fanout_results: list[dict[str, Any]] = []
        #: connection id -> its client's address, where a test picked one
        self.addresses: dict[str, str] = {}

    # -- the functions -----------------------------------------------------------------------------------------
    def _live(self, function: str, *, handles_messages: bool) -> LiveEnvironment:
        policy_name = function

        def hook(client: Any) -> None:
            client.meta.events.register(
                "before-call.apigatewaymanagementapi.*",
                lambda model, params, **_: self._management_call(policy_name, client, model.name, params),
            )

        return LiveEnvironment(handles_messages=handles_messages, poster=ManagementApiPoster(on_client=hook))

    def _invoke(self, function: str, entry: str, event: dict[str, Any]) -> Any:
        live = self.environments[function]
        with _environment(self.http.environment(function)):
            # as on AWS: every DynamoDB call of the function under its role (the keep-alive function builds no
            # runtime: its store is all it has)
            clients = [live.store().client]
            if function != "KeepaliveFunction":
                clients.append(live.runtime().database.engine.client)  # type: ignore[attr-defined]
            for client in clients:
                if id(client) not in self._enforced:
                    enforce(client, self.policies[function], self.deployment)
                    self._enforced.add(id(client))
            self.monkeypatch.setattr(handlers, "_sync" if function == "SyncFunction" else "_fanout", live)
            return getattr(handlers, entry)(event, Context())

    def keepalive(self) -> dict[str, Any]:
        """One scheduled invocation of the keep-alive function (its 30 s wait is the test's to shorten)."""
        result: dict[str, Any] = self._invoke("KeepaliveFunction", "keepalive_handler", {"source": "aws.scheduler"})
        return result

    def _management_call(self, function: str, client: Any, operation: str, params: dict[str, Any]) -> Any:
        endpoint = urlparse(client.meta.endpoint_url)
        assert endpoint.netloc == self.domain, endpoint
        assert endpoint.path == f"/{self.stage}", endpoint
        # before-call sees the serialized request: /@connections/<id> (URL-quoted), the Data as the body
        prefix = "/@connections/"
        assert params["url_path"].startswith(prefix), params["url_path"]
        connection = unquote(params["url_path"][len(prefix) :])
        method = {"PostToConnection": "POST", "DeleteConnection": "DELETE"}[operation]
        resource = (
            f"arn:{self.deployment.partition}:execute-api:{self.deployment.region}:{self.deployment.account}:"
            f"{self.api_id}/{self.stage}/{method}/@connections/{connection}"
        )
        decide(self.policies[function], [("execute-api:ManageConnections", resource)], operation)
        if connection in self.gone:
            error = {"Error": {"Code": "GoneException", "Message": ""}, "ResponseMetadata": {"HTTPStatusCode": 410}}
            return _Response(410), error
        if operation == "PostToConnection" and len(params["body"]) > self.max_message_bytes:
            code = "PayloadTooLargeException"
            return _Response(413), {"Error": {"Code": code, "Message": ""}, "ResponseMetadata": {"HTTPStatusCode": 413}}
        if operation == "PostToConnection":
            body = params["body"]
            text = body.decode("utf-8") if isinstance(body, bytes) else body
            self.posted.setdefault(connection, []).append(text)
            if self.on_post is not None:
                self.on_post(connection, text)
        else:
            self.closed.append(connection)
            if self.on_close is not None:
                self.on_close(connection)
        return _Response(200), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    # -- API Gateway -----------------------------------------------------------------------------------------
    def _context(self, route: str, connection: str) -> dict[str, Any]:
        return {
            "routeKey": route,
            "connectionId": connection,
            "domainName": self.domain,
            "stage": self.stage,
            "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE"),
            "apiId": self.api_id,
            "identity": {"sourceIp": self.addresses.get(connection, ADDRESS)},
        }

    def connect(
        self,
        connection: str,
        *,
        origin: str | None = ORIGIN,
        client_version: str | None = None,
        address: str = ADDRESS,
    ) -> dict[str, Any]:
        self.addresses[connection] = address
        headers = {"Host": self.domain, **({"Origin": origin} if origin else {})}
        event: dict[str, Any] = {
            "requestContext": self._context("$connect", connection),
            "headers": headers,
            "isBase64Encoded": False,
        }
        if client_version is not None:  # what the CloudFront front passes on
            event["queryStringParameters"] = {"clientVersion": client_version}
        result: dict[str, Any] = self._invoke("SyncFunction", "sync_handler", event)
        return result

    def send(self, connection: str, message: dict[str, Any]) -> list[dict[str, Any]]:
        """One client message; returns what was posted to this connection meanwhile."""
        before = len(self.posted.get(connection, []))
        event = {
            "requestContext": self._context("$default", connection),
            "body": json.dumps(message),
            "isBase64Encoded": False,
        }
        assert self._invoke("SyncFunction", "sync_handler", event) == {"statusCode": 200}
        return [json.loads(text) for text in self.posted.get(connection, [])[before:]]

    def disconnect(self, connection: str) -> None:
        event = {"requestContext": self._context("$disconnect", connection), "isBase64Encoded": False}
        assert self._invoke("SyncFunction", "sync_handler", event) == {"statusCode": 200}

    # -- the documents stream ----------------------------------------------------------------------------------
    def _stream_records(self) -> list[dict[str, Any]]:
        streams = self.streams
        arn = self.admin.describe_table(TableName=self.documents_table)["Table"]["LatestStreamArn"]
        records: list[dict[str, Any]] = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            iterator = (
                self._iterators.get(shard_id)
                or streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")[
                    "ShardIterator"
                ]
            )
            response = streams.get_records(ShardIterator=iterator)
            records.extend(response["Records"])
            self._iterators[shard_id] = response["NextShardIterator"]
        return records

    def _passes_filter(self, record: dict[str, Any]) -> bool:
        """The event source mapping's FilterCriteria of template.yaml (prefix rules on the partition key)."""
        (mapping,) = [
            name
            for name, r in self.deployment.template["Resources"].items()
            if r["Type"] == "AWS::Lambda::EventSourceMapping"
            and r["Properties"]["FunctionName"] == {"Ref": "FanoutFunction"}  # not the scheduler's job queue
        ]
        criteria = self.deployment.resource(mapping)["Properties"]["FilterCriteria"]
        (pattern,) = [json.loads(f["Pattern"]) for f in criteria["Filters"]]
        rules = pattern["dynamodb"]["Keys"]["pk"]["S"]
        pk = record["dynamodb"]["Keys"]["pk"]["S"]
        return any(pk.startswith(rule["prefix"]) for rule in rules)

    def pump(self) -> dict[str, Any] | None:
        """Deliver the stream's new records (filtered) to the fan-out function as one batch; its result, or None."""
        records = [_lambda_record(r) for r in self._stream_records() if self._passes_filter(r)]
        if not records:
            return None
        result: dict[str, Any] = self._invoke("FanoutFunction", "fanout_handler", {"Records": records})
        self.fanout_results.append(result)
        return result

    def items(self, prefix: str) -> list[dict[str, Any]]:
        """Sync-table items whose partition key starts with ``prefix`` (the tests' own look, unrestricted)."""
        return [i for i in self.admin.scan(TableName=self.sync_table)["Items"] if i["pk"]["S"].startswith(prefix)]


def _lambda_record(record: dict[str, Any]) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it to the function: JSON, binary attributes in base64."""

    def convert(value: Any) -> Any:
        if isinstance(value, bytes | bytearray):
            return base64.b64encode(value).decode("ascii")
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        if hasattr(value, "isoformat"):
            return value.timestamp()
        return value

    change = dict(record["dynamodb"])
    # moto 5's GetRecords encodes the binary attributes of ``Keys`` twice (its images are right): take the key
    # from the image, which is what the real ``Keys`` holds.
    image = change.get("NewImage") or change.get("OldImage")
    change["Keys"] = {name: image[name] for name in change["Keys"]}
    converted: dict[str, Any] = convert({**record, "dynamodb": change})
    converted["eventSource"] = "aws:dynamodb"
    return converted
