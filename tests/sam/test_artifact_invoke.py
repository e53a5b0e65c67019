"""The BUILT handler, imported from the artifact directory, answering real API Gateway v2 events.

An x86_64 build of the artifact (same Makefile, same pins) runs under python3.13 with ``-I -S``:
stdlib + the function's artifact and the dependencies layer only, as in /var/task and /opt/python.
DynamoDB is moto's server mode on 127.0.0.1, tables created from the engine's table description; the secret
comes through a fake Parameters and Secrets extension, as in production. Flow: sign-up, sign-in (cookie),
authenticated query, mutation.

IAM is enforced as on AWS: each event runs under the role of the function the expanded template routes
it to (tests/sam/iam.py, a botocore hook on every DynamoDB client the artifact creates), and every
response reports the calls that role refused -- there must be none.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.sam.conftest import ROOT, Build, lambda_python
from tests.sam.fake_extension import fake_extension

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.sam

NEEDED = [
    ROOT / "authlib_core" / "http" / "lambda_handler.py",
    ROOT / "authlib_core" / "database" / "engines" / "dynamodb" / "tables.py",
    ROOT / "authlib_core" / "auth" / "service.py",
    ROOT / "functions" / "myData.py",
]
ORIGIN = "https://app.example.com"
SECRET_PARAMETER = "/authlib-core/test/secrets"
STACK = "it"
WEBHOOK_SECRET = "artifact-webhook-" + "h" * 24

DRIVER = r"""
import json, os, sys
code, layer = sys.argv[1].split(os.pathsep)
sys.path[0:0] = [code, layer]            # like /var/task, then /opt/python (the dependencies layer)
sys.path.append(sys.argv[2])             # the repository, last: only for the IAM check (tests/sam)
from authlib_core.http.lambda_handler import handler
import authlib_core, botocore, botocore.session
assert authlib_core.__file__.startswith(code), authlib_core.__file__  # the function's own code
assert botocore.__file__.startswith(layer), botocore.__file__         # the layer's botocore
from tests.sam.cfn_eval import Deployment, api_routes, route_function
from tests.sam.iam import RolePolicy, enforce
deployment = Deployment(json.load(open(sys.argv[3])), stack_name=sys.argv[4])
routes = api_routes(deployment)
policies = {fn: RolePolicy.of_function(deployment, fn) for _, _, fn in routes}
current = []
create_client = botocore.session.Session.create_client
def enforcing_create_client(self, service_name, *args, **kwargs):
    client = create_client(self, service_name, *args, **kwargs)
    return enforce(client, lambda: current[-1], deployment) if service_name == "dynamodb" else client
botocore.session.Session.create_client = enforcing_create_client
class Ctx:
    aws_request_id = "req"; function_name = "fn"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
for line in sys.stdin:
    event = json.loads(line)
    method, path = event["requestContext"]["http"]["method"], event["rawPath"]
    function = route_function(routes, method, path)
    current.append(policies[function])
    before = len(current[-1].decisions)
    response = handler(event, Ctx())
    decisions = current[-1].decisions[before:]
    denied = [d for d in decisions if not d[2]]
    out = {"response": response, "function": function, "calls": len(decisions), "denied": denied}
    print("RESPONSE " + json.dumps(out), flush=True)
"""


def make_event(
    base: dict[str, Any],
    method: str,
    path: str,
    body: Any = None,
    cookies: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    event = json.loads(json.dumps(base))
    event["rawPath"] = path
    event["rawQueryString"] = ""
    event.pop("queryStringParameters", None)
    event.pop("pathParameters", None)
    event["routeKey"] = "$default"
    event["requestContext"]["http"].update(method=method, path=path, sourceIp="203.0.113.7")
    event["headers"] = {
        "content-type": "application/json",
        "origin": ORIGIN,
        "host": "api.example.com",
        **(headers or {}),
    }
    event["cookies"] = cookies or []
    event["body"] = json.dumps(body) if body is not None else ""
    event["isBase64Encoded"] = False
    return event


@pytest.fixture(scope="module")
def lambda_process(
    x86_64_build: Build, expanded: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen[str]]:
    for path in NEEDED:
        if not path.exists():
            pytest.skip(f"{path.relative_to(ROOT)} is not merged yet")
    from moto.server import ThreadedMotoServer

    from authlib_core.database.engines.dynamodb import create_client, create_tables

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    names = {"documents": f"{STACK}-documents", "sessions": f"{STACK}-sessions"}  # as the template names them
    template_json = tmp_path_factory.mktemp("iam") / "cfn.json"
    template_json.write_text(json.dumps(expanded), encoding="utf-8")
    create_tables(create_client(endpoint_url=endpoint, region="us-east-1"), names)
    artifact = x86_64_build.function_dir("AuthFunction")
    with fake_extension({SECRET_PARAMETER: "artifact-test-secret-" + "s" * 32}, token="tok") as extension:
        env = {
            "PATH": "/usr/bin:/bin",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "tok",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AUTHLIB_ENGINE": "dynamodb",
            "AUTHLIB_DYNAMODB_ENDPOINT_URL": endpoint,
            "AUTHLIB_DOCUMENTS_TABLE": names["documents"],
            "AUTHLIB_SESSIONS_TABLE": names["sessions"],
            "AUTHLIB_FUNCTIONS_DIR": str(artifact / "functions"),
            "AUTHLIB_SECRETS_PARAMETER": SECRET_PARAMETER,
            "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(extension.port),
            "AUTHLIB_TRUSTED_ORIGINS": ORIGIN,
            "AUTHLIB_SECURE_COOKIES": "true",
            "POWERTOOLS_SERVICE_NAME": "it",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "WEBHOOK_SECRET": WEBHOOK_SECRET,  # the example's webhook (functions/http.py)
        }
        process = subprocess.Popen(
            [
                lambda_python(),
                "-I",
                "-S",
                "-c",
                DRIVER,
                os.pathsep.join(map(str, x86_64_build.sys_path("AuthFunction"))),
                str(ROOT),
                str(template_json),
                STACK,
            ],
            cwd=artifact,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            yield process
        finally:
            process.kill()
            process.communicate()  # reaps the process and closes its pipes
            server.stop()


#: DynamoDB calls made under each function's role, over the module.
CALLS: dict[str, int] = {}


def invoke(process: subprocess.Popen[str], event: dict[str, Any]) -> dict[str, Any]:
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(json.dumps(event) + "\n")
    process.stdin.flush()
    while True:  # the handler's structured log lines go to stdout too (as on Lambda); skip them
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"the built handler died:\n{process.stderr.read()[-4000:] if process.stderr else ''}")
        if line.startswith("RESPONSE "):
            out = json.loads(line[len("RESPONSE ") :])
            assert not out["denied"], f"{out['function']}'s role refused {out['denied']}"
            CALLS.setdefault(out["function"], 0)
            CALLS[out["function"]] += out["calls"]
            response: dict[str, Any] = out["response"]
            return response


def test_sign_up_sign_in_query_mutation(lambda_process: subprocess.Popen[str]) -> None:
    base = json.loads((Path(__file__).parents[1] / "events" / "http-api-post-query.json").read_text())
    email, password = "ada@example.com", "correct horse battery staple"
    up = invoke(
        lambda_process,
        make_event(base, "POST", "/api/auth/sign-up/email", {"email": email, "password": password, "name": "Ada"}),
    )
    assert up["statusCode"] == 200, up
    assert json.loads(up["body"])["user"]["email"] == email

    signed_in = invoke(
        lambda_process, make_event(base, "POST", "/api/auth/sign-in/email", {"email": email, "password": password})
    )
    assert signed_in["statusCode"] == 200, signed_in
    cookie = next(c for c in signed_in["cookies"] if "session_token=" in c).split(";")[0]
    assert cookie.startswith("__Secure-better-auth.session_token=")

    query = {"path": "myData:getMyData", "args": {}, "format": "json"}
    empty = invoke(lambda_process, make_event(base, "POST", "/api/query", query, cookies=[cookie]))
    assert empty["statusCode"] == 200, empty
    assert json.loads(empty["body"]) == {"status": "success", "value": []}

    added = invoke(
        lambda_process,
        make_event(
            base,
            "POST",
            "/api/mutation",
            {"path": "myData:add", "args": {"text": "hello"}, "format": "json"},
            cookies=[cookie],
        ),
    )
    assert added["statusCode"] == 200, added
    assert json.loads(added["body"])["status"] == "success", added

    listed = invoke(lambda_process, make_event(base, "POST", "/api/query", query, cookies=[cookie]))
    value = json.loads(listed["body"])["value"]
    assert [doc["text"] for doc in value] == ["hello"], listed

    anonymous = invoke(lambda_process, make_event(base, "POST", "/api/query", query))
    assert json.loads(anonymous["body"])["status"] == "error", anonymous

    # The example's signed webhook, through the $default route (HttpActionFunction's role).
    event = {"id": "evt_artifact", "email": email, "text": "from a webhook"}
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), json.dumps(event).encode(), hashlib.sha256).hexdigest()
    hook = invoke(
        lambda_process,
        make_event(base, "POST", "/webhooks/notes", event, headers={"x-webhook-signature": signature}),
    )
    assert hook["statusCode"] == 200, hook
    listed = invoke(lambda_process, make_event(base, "POST", "/api/query", query, cookies=[cookie]))
    assert [doc["text"] for doc in json.loads(listed["body"])["value"]] == ["hello", "from a webhook"], listed
    # Every function served at least one event, and its DynamoDB calls were checked against its role.
    assert set(CALLS) == {"AuthFunction", "QueryFunction", "MutationFunction", "HttpActionFunction"}, CALLS
    assert all(count > 0 for count in CALLS.values()), CALLS
