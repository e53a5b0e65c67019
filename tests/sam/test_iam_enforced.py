"""Lambda-path tests under IAM: every route runs in the function the expanded template routes it to, and every
DynamoDB call must be allowed by that function's role (tests/sam/iam.py), as on AWS.

Covers sign-up, sign-in, queries and mutations with a session, an expired session, a revoked one and the auth
rate limit; and proves the enforcement can fail: a call the role does not allow is refused with AWS's error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.sam.cfn_eval import Deployment
from tests.sam.fake_extension import fake_extension
from tests.sam.iam import RolePolicy, denied_in_chain, enforce
from tests.sam.lambda_stack import LambdaStack, expire_sessions, session_cookie, session_token

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.sam

PASSWORD = "correct horse battery staple"
QUERY = {"path": "myData:getMyData", "args": {}, "format": "json"}


@pytest.fixture
def deployment(expanded: dict[str, Any]) -> Deployment:
    return Deployment(expanded)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto in-process; the admin client (tests' own, unrestricted) creates tables and plays TTL or time."""
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def stack(deployment: Deployment, aws: Any) -> LambdaStack:
    from authlib_core.database.engines.dynamodb import create_tables

    stack = LambdaStack(deployment)
    create_tables(aws, stack.table_names())
    return stack


def sign_up(stack: LambdaStack, email: str = "ada@example.com") -> str:
    response = stack.invoke("POST", "/api/auth/sign-up/email", {"email": email, "password": PASSWORD, "name": "Ada"})
    assert response["statusCode"] == 200, response
    return session_cookie(response)


def no_denials(stack: LambdaStack) -> None:
    for function, policy in stack.policies.items():
        denied = [(action, resource) for action, resource, ok in policy.decisions if not ok]
        assert not denied, f"{function} was refused {denied}"


def test_sign_up_query_and_mutation_each_under_its_functions_policy(stack: LambdaStack) -> None:
    cookie = sign_up(stack)
    assert stack.call("POST", "/api/query", QUERY, cookies=[cookie]) == (200, {"status": "success", "value": []})
    status, body = stack.call(
        "POST", "/api/mutation", {"path": "myData:add", "args": {"text": "hello"}, "format": "json"}, cookies=[cookie]
    )
    assert (status, body["status"]) == (200, "success"), body
    status, body = stack.call("POST", "/api/query", QUERY, cookies=[cookie])
    assert [note["text"] for note in body["value"]] == ["hello"]
    status, body = stack.call("GET", "/api/auth/get-session", cookies=[cookie])
    assert body["user"]["email"] == "ada@example.com"
    assert {fn for _, _, fn in stack.served} == {"AuthFunction", "QueryFunction", "MutationFunction"}
    # Each function made DynamoDB calls, and each was checked against its own role.
    for function in ("AuthFunction", "QueryFunction", "MutationFunction"):
        assert stack.policies[function].decisions, f"{function} made no DynamoDB call"
    no_denials(stack)


def test_an_expired_session_is_anonymous_not_a_server_error(stack: LambdaStack, aws: Any) -> None:
    cookie = sign_up(stack)
    assert expire_sessions(aws, stack.table_names()["sessions"]) == 1
    # The query function may only GetItem on sessions: resolving the caller must not try to delete.
    status, body = stack.call("POST", "/api/query", QUERY, cookies=[cookie])
    assert (status, body["status"]) == (200, "error"), body
    assert "Not authenticated" in body["errorMessage"]
    assert "Server Error" not in body["errorMessage"].split("\n")[-1]
    status, body = stack.call(
        "POST", "/api/mutation", {"path": "myData:add", "args": {"text": "x"}, "format": "json"}, cookies=[cookie]
    )
    assert (status, body["errorData"]) == (200, {"code": "UNAUTHENTICATED"}), body
    status, body = stack.call("GET", "/api/auth/get-session", cookies=[cookie])
    assert (status, body) == (200, None)
    no_denials(stack)
    item_count = aws.scan(TableName=stack.table_names()["sessions"], Select="COUNT")["Count"]
    assert item_count >= 1  # the expired item is left for TTL: nothing on these paths may delete it


def test_a_revoked_session_is_anonymous(stack: LambdaStack) -> None:
    cookie = sign_up(stack)
    status, _ = stack.call("POST", "/api/auth/sign-out", {}, cookies=[cookie])
    assert status == 200
    status, body = stack.call("POST", "/api/query", QUERY, cookies=[cookie])
    assert (status, body["status"]) == (200, "error")
    assert "Not authenticated" in body["errorMessage"]
    no_denials(stack)


def test_the_auth_rate_limit_under_the_auth_policy(stack: LambdaStack) -> None:
    sign_up(stack)
    statuses = []
    for _ in range(6):
        response = stack.invoke(
            "POST", "/api/auth/sign-in/email", {"email": "ada@example.com", "password": "wrong password"}
        )
        statuses.append(response["statusCode"])
    assert 429 in statuses, statuses
    assert set(statuses) <= {401, 429}, statuses
    no_denials(stack)


def test_the_query_function_refuses_kinds_it_does_not_serve(stack: LambdaStack) -> None:
    cookie = sign_up(stack)
    # /api/run is routed to the mutation function; a query by path still runs under the mutation role.
    status, body = stack.call("POST", "/api/run/myData/getMyData", {"args": {}, "format": "json"}, cookies=[cookie])
    assert (status, body["status"]) == (200, "success"), body
    no_denials(stack)


# ------------------------------------------------------------------------------------ the check can fail


def test_a_call_the_role_does_not_allow_is_refused_with_awss_error(deployment: Deployment, aws: Any) -> None:
    from botocore.exceptions import ClientError

    from authlib_core.database.engines.dynamodb import create_client, create_tables
    from authlib_core.database.engines.dynamodb.sessions import DynamoDBSessionStore

    stack = LambdaStack(deployment)
    names = stack.table_names()
    create_tables(aws, names)
    policy = RolePolicy.of_function(deployment, "QueryFunction")
    client = enforce(create_client(region="us-east-1"), policy, deployment)
    store = DynamoDBSessionStore(client, names["sessions"])
    assert store.get("u1", "s" * 22) is None  # GetItem: allowed
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the engine may wrap it; the cause must be AWS's
        store.delete("u1", "s" * 22)  # DeleteItem: the query function's role does not allow it
    denied = denied_in_chain(caught.value)
    assert isinstance(denied, ClientError)
    assert denied.response["Error"]["Code"] == "AccessDeniedException"
    assert "dynamodb:DeleteItem" in denied.response["Error"]["Message"]
    assert (
        "dynamodb:DeleteItem",
        f"arn:aws:dynamodb:us-east-1:123456789012:table/{names['sessions']}",
        False,
    ) in policy.decisions


def test_transactions_are_authorised_per_item(deployment: Deployment) -> None:
    from tests.sam.iam import required

    def arn(name: str) -> str:
        return f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}"

    needs = required(
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "d"}},
                {"Update": {"TableName": "d"}},
                {"Delete": {"TableName": "d"}},
                {"ConditionCheck": {"TableName": "d"}},
            ]
        },
        arn,
    )
    assert [action for action, _ in needs] == [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    ]
    assert required("TransactGetItems", {"TransactItems": [{"Get": {"TableName": "d"}}]}, arn) == [
        ("dynamodb:GetItem", arn("d"))
    ]
    documents = Deployment(deployment.template).resource("DocumentsTable")["Properties"]["TableName"]
    query = RolePolicy.of_function(deployment, "QueryFunction")
    mutation = RolePolicy.of_function(deployment, "MutationFunction")
    write = required("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": documents}}]}, arn)
    assert not all(query.allows(*need) for need in write)
    assert all(mutation.allows(*need) for need in write)
    assert required("Scan", {"TableName": documents}, arn)[0][0] == "dynamodb:Scan"
    assert not mutation.allows("dynamodb:Scan", arn(documents))
    assert not mutation.allows("dynamodb:Query", arn(documents) + "/index/gsi1")  # no index grants


def test_every_auth_endpoint_under_the_auth_policy(stack: LambdaStack, aws: Any) -> None:
    cookie = sign_up(stack)
    other = session_cookie(
        stack.invoke("POST", "/api/auth/sign-in/email", {"email": "ada@example.com", "password": PASSWORD})
    )
    status, sessions = stack.call("GET", "/api/auth/list-sessions", cookies=[cookie])
    assert (status, len(sessions)) == (200, 2), sessions
    assert stack.call("POST", "/api/auth/update-user", {"name": "Ada L."}, cookies=[cookie])[0] == 200
    status, body = stack.call("GET", "/api/auth/get-session", cookies=[other])
    assert body["user"]["name"] == "Ada L."  # the session snapshot was rewritten (UpdateItem on sessions)
    new_password = PASSWORD + "!"
    change = {"currentPassword": PASSWORD, "newPassword": new_password, "revokeOtherSessions": True}
    response = stack.invoke("POST", "/api/auth/change-password", change, cookies=[cookie])
    assert response["statusCode"] == 200, response
    cookie = session_cookie(response) if any("session_token=" in c for c in response["cookies"]) else cookie
    assert stack.call("GET", "/api/auth/get-session", cookies=[other]) == (200, None)  # revoked
    assert stack.call("POST", "/api/auth/revoke-other-sessions", {}, cookies=[cookie])[0] == 200
    assert stack.call("POST", "/api/auth/revoke-sessions", {}, cookies=[cookie])[0] == 200
    cookie = session_cookie(
        stack.invoke("POST", "/api/auth/sign-in/email", {"email": "ada@example.com", "password": new_password})
    )
    status, body = stack.call(
        "POST", "/api/mutation", {"path": "myData:add", "args": {"text": "bye"}, "format": "json"}, cookies=[cookie]
    )
    assert body["status"] == "success", body
    documents = stack.table_names()["documents"]
    assert "bye" in repr(aws.scan(TableName=documents)["Items"])
    response = stack.invoke("POST", "/api/auth/delete-user", {"password": new_password}, cookies=[cookie])
    assert response["statusCode"] == 200, response
    # auth_config.on_user_deleted deleted the note in the same transaction, under the auth function's role
    assert "bye" not in repr(aws.scan(TableName=documents)["Items"])
    assert stack.call("POST", "/api/query", QUERY, cookies=[cookie])[1]["status"] == "error"
    assert {fn for _, _, fn in stack.served} == {"AuthFunction", "MutationFunction", "QueryFunction"}
    no_denials(stack)


def test_the_example_webhook_under_the_http_action_policy(stack: LambdaStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """functions/http.py's signed webhook through API Gateway's $default route, under HttpActionFunction's role."""
    monkeypatch.setenv("WEBHOOK_SECRET", "whsec-" + "w" * 32)
    cookie = sign_up(stack)
    event = {"id": "evt_1", "email": "ada@example.com", "text": "from the CRM"}
    raw = json.dumps(event).encode()
    signature = "sha256=" + hmac.new(b"whsec-" + b"w" * 32, raw, hashlib.sha256).hexdigest()
    assert stack.function_for("POST", "/webhooks/notes") == "HttpActionFunction"
    status, first = stack.call("POST", "/webhooks/notes", event, headers={"x-webhook-signature": signature})
    assert (status, first["duplicate"]) == (200, False), first
    status, again = stack.call("POST", "/webhooks/notes", event, headers={"x-webhook-signature": signature})
    assert (status, again) == (200, {"noteId": first["noteId"], "duplicate": True})  # a retried delivery
    forged = stack.call("POST", "/webhooks/notes", event, headers={"x-webhook-signature": "sha256=" + "0" * 64})
    assert forged[0] == 401
    assert forged[1]["code"] == "InvalidSignature"
    status, body = stack.call("POST", "/api/query", QUERY, cookies=[cookie])
    assert [note["text"] for note in body["value"]] == ["from the CRM"]
    # What else reaches the $default route is refused without touching what the role may not.
    status, body = stack.call("PUT", "/api/auth/sign-out", {}, cookies=[cookie])
    assert (status, body["code"]) == (404, "NotFound"), body
    assert stack.call("GET", "/nowhere")[0] == 404
    assert {fn for _, _, fn in stack.served} >= {"HttpActionFunction", "QueryFunction", "AuthFunction"}
    assert stack.policies["HttpActionFunction"].decisions, "the webhook's mutation ran under the function's role"
    no_denials(stack)


def _ssm_reader(deployment: Deployment) -> Any:
    """What the extension checks: the caller's token names its function, whose role must allow ssm:GetParameter."""
    tokens = {session_token(f): f for f in deployment.template["Resources"]}

    def authorize(token: str, name: str) -> bool:
        function = tokens.get(token)
        arn = f"arn:aws:ssm:us-east-1:123456789012:parameter{name}"
        return function is not None and RolePolicy.of_function(deployment, function).allows("ssm:GetParameter", arn)

    return authorize


def test_the_example_webhook_reads_its_secret_from_the_app_environment(
    expanded: dict[str, Any], aws: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`authlib-core env set` stores WEBHOOK_SECRET in SSM; each function reads it at cold start under its own role."""
    import boto3

    from authlib_core.cli.main import main
    from authlib_core.database.engines.dynamodb import create_tables

    secret = "whsec-from-ssm-" + "s" * 24
    monkeypatch.setenv("WEBHOOK_SECRET", "placeholder")
    monkeypatch.delenv("WEBHOOK_SECRET")  # absent, and restored to absent after the test
    assert main(["env", "set", "WEBHOOK_SECRET", secret, "--parameter", "/app/prod/env", "--region", "us-east-1"]) == 0
    stored = boto3.client("ssm", region_name="us-east-1").get_parameter(Name="/app/prod/env", WithDecryption=True)
    deployment = Deployment(expanded, parameters={"AppEnvironmentParameterName": "/app/prod/env"})
    with fake_extension({"/app/prod/env": stored["Parameter"]["Value"]}, authorize=_ssm_reader(deployment)) as ext:
        stack = LambdaStack(deployment, overrides={"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(ext.port)})
        create_tables(aws, stack.table_names())
        sign_up(stack)
        event = {"id": "evt_9", "email": "ada@example.com", "text": "signed with the stored secret"}
        signature = "sha256=" + hmac.new(secret.encode(), json.dumps(event).encode(), hashlib.sha256).hexdigest()
        status, body = stack.call("POST", "/webhooks/notes", event, headers={"x-webhook-signature": signature})
        assert (status, body["duplicate"]) == (200, False), body
        wrong = "sha256=" + hmac.new(b"placeholder", json.dumps(event).encode(), hashlib.sha256).hexdigest()
        assert stack.call("POST", "/webhooks/notes", event, headers={"x-webhook-signature": wrong})[0] == 401
    assert {(session_token(f), "/app/prod/env") for f in ("AuthFunction", "HttpActionFunction")} <= set(ext.reads)
    assert secret not in capsys.readouterr().err  # `env set` names the variable, never the value
    no_denials(stack)


def test_a_role_without_the_grant_cannot_read_the_app_environment(deployment: Deployment, aws: Any) -> None:
    """No AppEnvironmentParameterName, no grant: naming a parameter anyway fails the cold start, saying which."""
    from authlib_core.errors import ConfigError

    with fake_extension({"/app/prod/env": '{"WEBHOOK_SECRET": "x"}'}, authorize=_ssm_reader(deployment)) as ext:
        stack = LambdaStack(
            deployment,
            overrides={
                "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(ext.port),
                "AUTHLIB_APP_ENV_PARAMETER": "/app/prod/env",
            },
        )
        with pytest.raises(ConfigError, match=r"'/app/prod/env'.*HTTP 400"):
            stack.runtime("SchedulerRunFunction")
    assert ext.reads == []


MAIL_PARAMETERS = {
    "MailIdentity": "example.com",
    "MailFrom": "no-reply@example.com",
    "SesConfigurationSet": "auth-mail",
    "PublicBaseUrl": "https://api.example.com",
}


def _links(region: str = "us-east-1") -> list[str]:
    """The links of every message moto's SES accepted, in order."""
    import email
    import email.policy
    import re

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    links = []
    for sent in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages:
        raw = sent.raw_data.encode() if isinstance(sent.raw_data, str) else sent.raw_data
        text = email.message_from_bytes(raw, policy=email.policy.default).get_body(("plain",))
        assert text is not None
        links.append(re.findall(r"https://\S+", text.get_content())[0])
    return links


def _location(response: dict[str, Any]) -> str:
    assert response["statusCode"] == 302, response
    return str({k.lower(): v for k, v in response["headers"].items()}["location"])


def test_emailed_link_flows_under_the_auth_policy_with_ses(expanded: dict[str, Any], aws: Any) -> None:
    import boto3

    from authlib_core.database.engines.dynamodb import create_tables

    ses = boto3.client("sesv2", region_name="us-east-1")
    ses.create_email_identity(EmailIdentity="example.com")
    ses.create_configuration_set(ConfigurationSetName="auth-mail")
    stack = LambdaStack(Deployment(expanded, parameters=MAIL_PARAMETERS))
    create_tables(aws, stack.table_names())
    cookie = sign_up(stack)

    status, body = stack.call(
        "POST", "/api/auth/send-verification-email", {"email": "ada@example.com"}, cookies=[cookie]
    )
    assert (status, body) == (200, {"status": True})
    verify = _links()[-1]
    assert verify.startswith("https://api.example.com/api/auth/verify-email?token=")
    assert _location(stack.invoke("GET", verify.removeprefix("https://api.example.com"))) == "/"
    assert stack.call("GET", "/api/auth/get-session", cookies=[cookie])[1]["user"]["emailVerified"] is True

    status, body = stack.call("POST", "/api/auth/request-password-reset", {"email": "ada@example.com"})
    assert status == 200, body
    reset = _links()[-1]
    token = reset.split("/reset-password/")[1].split("?")[0]
    landed = stack.invoke("GET", f"/api/auth/reset-password/{token}?callbackURL=%2Freset")
    assert (landed["statusCode"], _location(landed)) == (302, f"/reset?token={token}")
    status, body = stack.call("POST", "/api/auth/reset-password", {"newPassword": PASSWORD + "?", "token": token})
    assert (status, body) == (200, {"status": True})
    assert stack.call("GET", "/api/auth/get-session", cookies=[cookie]) == (200, None)  # sessions revoked

    cookie = session_cookie(
        stack.invoke("POST", "/api/auth/sign-in/email", {"email": "ada@example.com", "password": PASSWORD + "?"})
    )
    assert stack.call("POST", "/api/auth/change-email", {"newEmail": "ada@new.example"}, cookies=[cookie])[0] == 200
    confirm = _links()[-1]
    assert _location(stack.invoke("GET", confirm.removeprefix("https://api.example.com"))) == "/"
    verify_new = _links()[-1]  # then the new address proves itself
    assert verify_new != confirm
    assert _location(stack.invoke("GET", verify_new.removeprefix("https://api.example.com"))) == "/"
    assert stack.call("GET", "/api/auth/get-session", cookies=[cookie])[1]["user"]["email"] == "ada@new.example"
    sends = [d for d in stack.policies["AuthFunction"].decisions if d[0] == "ses:SendEmail"]
    assert sends
    assert all(ok for _, _, ok in sends)
    no_denials(stack)


def test_mail_to_another_identity_is_refused_by_the_role(expanded: dict[str, Any], aws: Any) -> None:
    from authlib_core.database.engines.dynamodb import create_tables

    stack = LambdaStack(
        Deployment(expanded, parameters={**MAIL_PARAMETERS, "SesConfigurationSet": ""}),
        overrides={"AUTHLIB_SES_CONFIGURATION_SET": "someone-elses-set"},
    )
    create_tables(aws, stack.table_names())
    sign_up(stack)
    status, body = stack.call("POST", "/api/auth/request-password-reset", {"email": "ada@example.com"})
    assert (status, body["status"]) == (200, True)  # the caller learns nothing; the failure is logged
    refused = [d for d in stack.policies["AuthFunction"].decisions if not d[2]]
    assert refused == [
        ("ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:configuration-set/someone-elses-set", False)
    ]


def test_social_sign_in_under_the_auth_policy(deployment: Deployment, aws: Any, tmp_path: Path) -> None:
    from authlib_core.database.engines.dynamodb import create_tables
    from tests.support.fake_oauth import CLIENT_SECRETS_ENV, FakeProvider, write_social_app

    provider = FakeProvider()
    provider.redirect_uris = {"https://api.example.com/api/auth/callback/fake"}
    try:
        stack = LambdaStack(
            deployment,
            overrides={
                "AUTHLIB_FUNCTIONS_DIR": str(write_social_app(tmp_path / "iamsocial", provider.url)),
                "AUTHLIB_OAUTH_CLIENT_SECRETS": CLIENT_SECRETS_ENV,
                "AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP": "true",
                "AUTHLIB_BASE_URL": "https://api.example.com",
            },
        )
        create_tables(aws, stack.table_names())
        started = stack.invoke("POST", "/api/auth/sign-in/social", {"provider": "fake", "callbackURL": "/home"})
        assert started["statusCode"] == 200, started
        state = [c.split(";")[0] for c in started["cookies"] if "better-auth.state=" in c.split(";")[0]]
        back = provider.visit(json.loads(started["body"])["url"]).removeprefix("https://api.example.com")
        landed = stack.invoke("GET", back, cookies=state)
        assert _location(landed) == "/home"
        cookie = session_cookie(landed)
        status, accounts = stack.call("GET", "/api/auth/list-accounts", cookies=[cookie])
        assert (status, [a["providerId"] for a in accounts]) == (200, ["fake"])
        status, body = stack.call(
            "POST", "/api/auth/unlink-account", {"accountId": accounts[0]["id"]}, cookies=[cookie]
        )
        assert (status, body["code"]) == (400, "FAILED_TO_UNLINK_LAST_ACCOUNT")
        assert {fn for _, _, fn in stack.served} == {"AuthFunction"}
        no_denials(stack)
    finally:
        provider.close()
