"""The live-query part of the expanded template: WebSocket routes, the stream trigger's failure handling, the
fan-out function's role (read documents and subscriptions, post to connections, nothing else), and the CloudFront
function that lets Convex clients reach the WebSocket API (run in Node, as CloudFront's JavaScript runtime would).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from tests.sam.cfn_eval import Deployment
from tests.sam.iam import RolePolicy

pytestmark = pytest.mark.sam

DOCUMENT_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def _of_type(expanded: dict[str, Any], kind: str) -> list[str]:
    return [name for name, r in expanded["Resources"].items() if r["Type"] == kind]


def test_the_websocket_api_routes_connect_default_and_disconnect_to_the_sync_function(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded)
    api = deployment.resource("SyncApi")["Properties"]
    assert api["ProtocolType"] == "WEBSOCKET"
    routes = {
        deployment.resource(name)["Properties"]["RouteKey"] for name in _of_type(expanded, "AWS::ApiGatewayV2::Route")
    }
    assert routes == {"$connect", "$default", "$disconnect"}
    integration = deployment.resource("SyncIntegration")["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert deployment.get_att("SyncFunction", "Arn") in integration["IntegrationUri"]
    stage = deployment.resource("SyncStage")["Properties"]
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == "500"
    handler = deployment.resource("SyncFunction")["Properties"]["Handler"]
    assert handler == "authlib_core.live.handlers.sync_handler"


def test_the_stream_trigger_retries_bisects_and_keeps_what_fails(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded)
    table = deployment.resource("DocumentsTable")["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    # the stream's mapping (the scheduler's job queue has its own, docs/scheduler.md)
    (mapping,) = [
        name
        for name in _of_type(expanded, "AWS::Lambda::EventSourceMapping")
        if expanded["Resources"][name]["Properties"]["FunctionName"] == {"Ref": "FanoutFunction"}
    ]
    props = deployment.resource(mapping)["Properties"]
    assert props["EventSourceArn"] == deployment.get_att("DocumentsTable", "StreamArn")
    assert props["FunctionName"] == deployment.ref("FanoutFunction")
    assert props["StartingPosition"] == "LATEST"
    assert (props["BatchSize"], props["MaximumBatchingWindowInSeconds"]) == (100, 1)
    assert (props["MaximumRetryAttempts"], props["BisectBatchOnFunctionError"]) == (4, True)
    assert props["MaximumRecordAgeInSeconds"] == 600
    assert props["ParallelizationFactor"] == 1
    destination = props["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == deployment.get_att("FanoutFailures", "Arn")
    (pattern,) = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
    assert pattern == {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "d#"}]}}}}  # document items only


def test_the_fanout_role_reads_documents_and_subscriptions_and_posts_nothing_else(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded)
    policy = RolePolicy.of_function(deployment, "FanoutFunction")
    documents = deployment.get_att("DocumentsTable", "Arn")
    assert policy.actions_on(documents) == {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
    assert policy.actions_on(deployment.get_att("SessionsTable", "Arn")) == {"dynamodb:GetItem"}
    stream = deployment.get_att("DocumentsTable", "StreamArn")
    for action in ("GetRecords", "GetShardIterator", "DescribeStream", "ListStreams"):
        assert policy.allows(f"dynamodb:{action}", stream), action
        assert not policy.allows(f"dynamodb:{action}", documents.replace("documents", "sessions") + "/stream/x")
    sync = deployment.get_att("SyncTable", "Arn")
    assert "dynamodb:Scan" not in policy.actions_on(sync)
    assert "dynamodb:PutItem" not in policy.actions_on(sync)  # it never creates connections or mutation answers
    api = deployment.ref("SyncApi")
    connection = f"arn:aws:execute-api:us-east-1:123456789012:{api}/prod/POST/@connections/abc="
    assert policy.allows("execute-api:ManageConnections", connection)
    assert not policy.allows("execute-api:ManageConnections", connection.replace(f":{api}/", ":other/"))
    actions = {a for s in policy.statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert {a.split(":")[0] for a in actions} == {"dynamodb", "execute-api", "sqs", "ssm"}
    assert not actions & {"sqs:ReceiveMessage", "sqs:DeleteMessage", "dynamodb:TransactWriteItems"}


def test_the_sync_function_cannot_write_sessions(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded)
    policy = RolePolicy.of_function(deployment, "SyncFunction")
    assert policy.actions_on(deployment.get_att("SessionsTable", "Arn")) == {"dynamodb:GetItem"}
    assert "dynamodb:Scan" not in policy.actions_on(deployment.get_att("SyncTable", "Arn"))


def test_the_sync_function_keeps_mutation_answers_in_the_documents_table_only(expanded: dict[str, Any]) -> None:
    # the answers are part of each mutation's TransactWriteItems on the documents table (docs/realtime.md): the sync
    # table is never read item by item
    deployment = Deployment(expanded)
    policy = RolePolicy.of_function(deployment, "SyncFunction")
    assert policy.actions_on(deployment.get_att("SyncTable", "Arn")) == {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    }
    assert {"dynamodb:GetItem", "dynamodb:PutItem"} <= policy.actions_on(deployment.get_att("DocumentsTable", "Arn"))


def test_the_front_is_optional(expanded: dict[str, Any]) -> None:
    assert Deployment(expanded).condition("HasSyncFront")
    assert not Deployment(expanded, parameters={"SyncFront": "false"}).condition("HasSyncFront")


CASES = [
    ("/api/1.49.0/sync", "/prod", {"clientVersion": {"value": "1.49.0"}}),
    ("/api/1.28.0-alpha.1/sync", "/prod", {"clientVersion": {"value": "1.28.0-alpha.1"}}),
    ("/api/sync", "/prod", {}),
    ("/api/1.49.0/sync/extra", 404, None),
    ("/prod", 404, None),
]


@pytest.mark.node
def test_the_front_function_maps_client_paths_onto_the_stage(expanded: dict[str, Any]) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is needed to run the CloudFront function")
    code = Deployment(expanded).resource("SyncFrontFunction")["Properties"]["FunctionCode"]
    script = code + (
        "\nconst cases = JSON.parse(process.argv[1]);\n"
        "console.log(JSON.stringify(cases.map((uri) => "
        "handler({request: {uri, querystring: {evil: {value: '1'}}, headers: {}}}))));\n"
    )
    out = subprocess.run(
        [node, "-e", script, json.dumps([uri for uri, _, _ in CASES])],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    for (uri, expected_uri, expected_query), result in zip(CASES, json.loads(out), strict=True):
        if expected_uri == 404:
            assert result["statusCode"] == 404, uri
        else:
            assert (result["uri"], result["querystring"]) == (expected_uri, expected_query), uri
