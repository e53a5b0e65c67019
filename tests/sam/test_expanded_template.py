"""Assertions on the EXPANDED template -- what CloudFormation receives after the SAM transform, resolved for a
deployment (tests/sam/cfn_eval.py) -- rather than on template.yaml's text: the SAM translator rewrites things
(an intrinsic AllowOrigins once replaced the whole CORS object), so only its output shows what AWS gets.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.sam.cfn_eval import Deployment, api_routes, route_function
from tests.sam.cfn_yaml import function_names, load_template, resources_of_type
from tests.sam.iam import RolePolicy

pytestmark = pytest.mark.sam

FUNCTIONS = function_names()
#: Not behind the API: the job runner (SQS) and the one-minute tick (EventBridge Scheduler); docs/scheduler.md.
SCHEDULER_FUNCTIONS = tuple(
    name
    for name, function in resources_of_type(load_template(), "AWS::Serverless::Function").items()
    if function["Properties"].get("Handler", "").startswith("authlib_core.scheduler.")
)
LAYER = "AWS-Parameters-and-Secrets-Lambda-Extension"


#: The live-query WebSocket API and its stage (asserted in test_live_template.py); `only` finds the HTTP API's.
LIVE_RESOURCES = {"SyncApi", "SyncStage"}
#: Live-query connections: hours of data, deleted with the stack (test_live_template.py).
EPHEMERAL_TABLES = {"SyncTable"}


def only(template: dict[str, Any], kind: str) -> str:
    (logical_id,) = [
        name for name, r in template["Resources"].items() if r["Type"] == kind and name not in LIVE_RESOURCES
    ]
    return logical_id


def test_the_templates_functions_are_the_lambda_functions_aws_gets(expanded: dict[str, Any]) -> None:
    lambdas = {name for name, r in expanded["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    assert lambdas == set(FUNCTIONS)
    assert SCHEDULER_FUNCTIONS
    assert set(SCHEDULER_FUNCTIONS) < lambdas


# ------------------------------------------------------------------------------------------------ CORS


def test_the_http_api_has_a_cors_object_with_credentials(expanded: dict[str, Any]) -> None:
    origins = "https://app.example.com,https://admin.example.com"
    deployment = Deployment(expanded, parameters={"AllowedOrigins": origins})
    api = deployment.resource(only(expanded, "AWS::ApiGatewayV2::Api"))["Properties"]
    assert "CorsConfiguration" not in api  # one source of CORS: the OpenAPI body
    cors = api["Body"]["x-amazon-apigateway-cors"]
    assert isinstance(cors, dict), f"x-amazon-apigateway-cors must be an object, got {cors!r}"
    assert cors["allowOrigins"] == ["https://app.example.com", "https://admin.example.com"]
    assert cors["allowCredentials"] is True
    # GET/POST for the Convex API and /api/auth; PUT, PATCH and DELETE for HTTP actions (functions/http.py).
    assert set(cors["allowMethods"]) == {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    # What the official clients send: JSON bodies, bearer tokens, Convex's client header.
    assert {"content-type", "authorization", "convex-client"} <= {h.lower() for h in cors["allowHeaders"]}
    assert "*" not in cors["allowOrigins"]
    assert "*" not in cors["allowHeaders"]
    assert cors["exposeHeaders"] == ["set-auth-token"]  # the bearer token a cross-site client keeps
    assert cors["maxAge"] == 600


def test_the_cors_origins_are_the_origins_the_code_trusts(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded, parameters={"AllowedOrigins": "https://a.example,https://b.example"})
    cors = deployment.resource(only(expanded, "AWS::ApiGatewayV2::Api"))["Properties"]["Body"]
    for function in FUNCTIONS:
        env = deployment.resource(function)["Properties"]["Environment"]["Variables"]
        assert env["AUTHLIB_TRUSTED_ORIGINS"].split(",") == cors["x-amazon-apigateway-cors"]["allowOrigins"]


def test_http_actions_get_every_request_no_api_route_takes(expanded: dict[str, Any]) -> None:
    routes = api_routes(Deployment(expanded))
    expected = {
        ("POST", "/webhooks/github"): "HttpActionFunction",
        ("GET", "/"): "HttpActionFunction",
        ("DELETE", "/files/a"): "HttpActionFunction",
        ("PUT", "/api/auth/sign-out"): "HttpActionFunction",  # it answers 404 (AUTHLIB_ALLOWED_KINDS=http)
        ("POST", "/api/mutation"): "MutationFunction",  # explicit routes win over $default
        ("POST", "/api/run/a/b:c"): "MutationFunction",
        ("GET", "/api/query"): "QueryFunction",
        ("POST", "/api/auth/sign-in/email"): "AuthFunction",
    }
    assert {key: route_function(routes, *key) for key in expected} == expected


# ----------------------------------------------------------------------------------------- extension layer

#: Publishing accounts from the Systems Manager user guide's ARN table (a sample across partitions).
KNOWN_ACCOUNTS = {
    "us-east-1": "177933569100",
    "eu-west-1": "015030872274",
    "ap-northeast-1": "133490724326",
    "sa-east-1": "933737806257",
    "cn-north-1": "287114880934",
    "us-gov-west-1": "127562683043",
}


@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
@pytest.mark.parametrize("region", sorted(KNOWN_ACCOUNTS))
def test_the_extension_layer_follows_region_and_architecture(
    expanded: dict[str, Any], region: str, architecture: str
) -> None:
    deployment = Deployment(expanded, region=region, parameters={"Architecture": architecture})
    suffix = "-Arm64" if architecture == "arm64" else ""
    version = expanded["Parameters"]["SecretsExtensionLayerVersion"]["Default"]
    expected = f"arn:{deployment.partition}:lambda:{region}:{KNOWN_ACCOUNTS[region]}:layer:{LAYER}{suffix}:{version}"
    (dependencies,) = [
        name for name, r in expanded["Resources"].items() if r["Type"] == "AWS::Lambda::LayerVersion"
    ]  # the DependenciesLayer (SAM adds a content hash to its logical id)
    assert dependencies.startswith("DependenciesLayer")
    layer = deployment.resource(dependencies)["Properties"]
    assert layer["CompatibleRuntimes"] == ["python3.13"]
    for function in FUNCTIONS:
        props = deployment.resource(function)["Properties"]
        assert props["Layers"] == [deployment.ref(dependencies), expected], function
        assert props["Architectures"] == [architecture], function


def test_every_mapped_region_has_both_architectures_and_a_plausible_account(expanded: dict[str, Any]) -> None:
    mapping = expanded["Mappings"]["SecretsExtension"]
    assert len(mapping) >= 20
    for region, accounts in mapping.items():
        assert re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", region), region
        assert set(accounts) == {"arm64", "x8664"}, region
        assert all(re.fullmatch(r"\d{12}", a) for a in accounts.values()), region


def test_a_region_without_a_published_layer_fails_the_lookup(expanded: dict[str, Any]) -> None:
    with pytest.raises(LookupError, match="SecretsExtension"):
        Deployment(expanded, region="xx-nowhere-1").resource("QueryFunction")


def test_the_layer_version_can_be_chosen(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded, parameters={"SecretsExtensionLayerVersion": "18"})
    assert deployment.resource("AuthFunction")["Properties"]["Layers"][1].endswith(f"{LAYER}-Arm64:18")


# --------------------------------------------------------------------------------------------- tables


def test_tables_survive_deletes_and_updates_but_not_a_failed_first_create(expanded: dict[str, Any]) -> None:
    tables = [
        r
        for name, r in expanded["Resources"].items()
        if r["Type"] == "AWS::DynamoDB::Table" and name not in EPHEMERAL_TABLES
    ]
    assert len(tables) == 2
    for table in tables:
        assert table["DeletionPolicy"] == "RetainExceptOnCreate"
        assert table["UpdateReplacePolicy"] == "Retain"
        assert table["Properties"]["SSESpecification"] == {"SSEEnabled": False}  # AWS owned key: no KMS charges


# ------------------------------------------------------------------------------------------ throttling


def test_the_stage_and_the_auth_routes_are_throttled(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded)
    stage = deployment.resource(only(expanded, "AWS::ApiGatewayV2::Stage"))["Properties"]
    default = stage["DefaultRouteSettings"]
    assert (default["ThrottlingRateLimit"], default["ThrottlingBurstLimit"]) == ("1000", "2000")
    routes = stage["RouteSettings"]
    assert set(routes) == {"POST /api/auth/{proxy+}", "GET /api/auth/{proxy+}"}
    post = routes["POST /api/auth/{proxy+}"]
    assert int(post["ThrottlingRateLimit"]) < int(default["ThrottlingRateLimit"])
    assert int(post["ThrottlingRateLimit"]) <= int(routes["GET /api/auth/{proxy+}"]["ThrottlingRateLimit"])
    # A route setting must name a route of the API, or the stage update fails.
    body = deployment.resource(only(expanded, "AWS::ApiGatewayV2::Api"))["Properties"]["Body"]
    declared = {f"{method.upper()} {path}" for path, methods in body["paths"].items() for method in methods}
    assert set(routes) <= declared


def test_throttles_are_parameters(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded, parameters={"ApiThrottlingRateLimit": "50", "AuthPostThrottlingRateLimit": "2"})
    stage = deployment.resource(only(expanded, "AWS::ApiGatewayV2::Stage"))["Properties"]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == "50"
    assert stage["RouteSettings"]["POST /api/auth/{proxy+}"]["ThrottlingRateLimit"] == "2"


def test_auth_reserved_concurrency_is_off_by_default_and_settable(expanded: dict[str, Any]) -> None:
    assert "ReservedConcurrentExecutions" not in Deployment(expanded).resource("AuthFunction")["Properties"]
    reserved = Deployment(expanded, parameters={"AuthReservedConcurrency": "25"}).resource("AuthFunction")
    assert reserved["Properties"]["ReservedConcurrentExecutions"] == "25"


# ------------------------------------------------------------------------------------------------ logs


def test_log_groups(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded, stack_name="s1")
    groups = {
        name: deployment.resource(name)["Properties"]
        for name, r in expanded["Resources"].items()
        if r["Type"] == "AWS::Logs::LogGroup"
    }
    for function in FUNCTIONS:
        log_group = deployment.resource(function)["Properties"]["LoggingConfig"]["LogGroup"]
        owner = next(name for name, props in groups.items() if props["LogGroupName"] == log_group)
        assert log_group.startswith("/aws/lambda/s1-"), log_group
        assert groups[owner]["RetentionInDays"] == "30"
    stage = deployment.resource(only(expanded, "AWS::ApiGatewayV2::Stage"))["Properties"]
    destination = stage["AccessLogSettings"]["DestinationArn"]
    access = next(
        props
        for props in groups.values()
        if destination.startswith(f"arn:aws:logs:us-east-1:123456789012:log-group:{props['LogGroupName']}:")
    )
    assert access["LogGroupName"] == "/aws/vendedlogs/apigateway/s1-access"
    assert access["RetentionInDays"] == "30"
    assert len(groups) == len(FUNCTIONS) + 1  # nothing logs into a group the stack does not manage


# ------------------------------------------------------------------------------------------------- IAM


def test_roles_carry_no_tracing_grant_and_no_index_grants(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded)
    for function in FUNCTIONS:
        props = deployment.resource(function)["Properties"]
        assert "TracingConfig" not in props, function
        role = deployment.resource(expanded["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0])
        assert role["Properties"]["ManagedPolicyArns"] == [
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        ], function
        policy = RolePolicy.of_function(deployment, function)
        resources = [
            r
            for s in policy.statements
            for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
        ]
        assert not [r for r in resources if "/index/" in r], f"{function}: the tables have no secondary indexes"


def test_only_the_auth_function_may_write_sessions(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded)
    sessions = deployment.get_att("SessionsTable", "Arn")
    for function in FUNCTIONS:
        actions = RolePolicy.of_function(deployment, function).actions_on(sessions)
        writes = actions & {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
        assert bool(writes) == (function == "AuthFunction"), (function, sorted(actions))
        if function == "KeepaliveFunction":
            assert actions == set(), function  # it pings connections and never resolves a caller
        elif function in SCHEDULER_FUNCTIONS:
            assert actions == set(), function  # scheduled functions run without an identity
        elif function != "AuthFunction":
            assert actions == {"dynamodb:GetItem"}, function


# ------------------------------------------------------------------------------------------------ mail (SES)


def _mail_statements(deployment: Deployment, function: str) -> list[dict[str, Any]]:
    return [s for s in RolePolicy.of_function(deployment, function).statements if "ses:SendEmail" in s["Action"]]


def test_no_mail_and_no_ses_grant_by_default(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded)
    env = deployment.resource("AuthFunction")["Properties"]["Environment"]["Variables"]
    assert env["AUTHLIB_MAIL"] == "off"
    for function in FUNCTIONS:
        assert _mail_statements(deployment, function) == [], function


def test_ses_parameters_reach_the_auth_function_and_its_grant_names_only_that_identity(
    expanded: dict[str, Any],
) -> None:
    parameters = {
        "MailIdentity": "example.com",
        "MailFrom": "hello@example.com",
        "SesConfigurationSet": "auth-mail",
        "PublicBaseUrl": "https://api.example.com",
    }
    deployment = Deployment(expanded, region="eu-west-1", parameters=parameters)
    env = deployment.resource("AuthFunction")["Properties"]["Environment"]["Variables"]
    assert env["AUTHLIB_MAIL"] == "ses"
    assert env["AUTHLIB_MAIL_FROM"] == "hello@example.com"
    assert env["AUTHLIB_SES_CONFIGURATION_SET"] == "auth-mail"
    assert env["AUTHLIB_BASE_URL"] == "https://api.example.com"
    (statement,) = _mail_statements(deployment, "AuthFunction")
    assert statement["Action"] == ["ses:SendEmail"]
    assert statement["Resource"] == [
        "arn:aws:ses:eu-west-1:123456789012:identity/example.com",
        "arn:aws:ses:eu-west-1:123456789012:configuration-set/auth-mail",
    ]
    for function in ("QueryFunction", "MutationFunction", "HttpActionFunction"):
        assert _mail_statements(deployment, function) == [], function
        assert "AUTHLIB_MAIL" not in deployment.resource(function)["Properties"]["Environment"]["Variables"]


def test_mail_from_defaults_to_the_identity(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded, parameters={"MailIdentity": "no-reply@example.com"})
    env = deployment.resource("AuthFunction")["Properties"]["Environment"]["Variables"]
    assert env["AUTHLIB_MAIL_FROM"] == "no-reply@example.com"
    (statement,) = _mail_statements(deployment, "AuthFunction")
    assert statement["Resource"] == ["arn:aws:ses:us-east-1:123456789012:identity/no-reply@example.com"]


# ------------------------------------------------------------------------------------------------ scheduler


def test_the_tick_is_a_one_minute_schedule_that_only_invokes_the_tick_function(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded)
    tick = deployment.get_att("SchedulerTickFunction", "Arn")
    schedules = [name for name, r in expanded["Resources"].items() if r["Type"] == "AWS::Scheduler::Schedule"]
    (schedule_id,) = [name for name in schedules if deployment.resource(name)["Properties"]["Target"]["Arn"] == tick]
    schedule = deployment.resource(schedule_id)["Properties"]
    assert schedule["ScheduleExpression"] == "rate(1 minute)"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    role = deployment.resource(expanded["Resources"][schedule_id]["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0])
    statements = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert [(s["Action"], s["Resource"]) for s in statements] == [("lambda:InvokeFunction", tick)]


def job_queue_mapping(expanded: dict[str, Any], deployment: Deployment) -> dict[str, Any]:
    """The one event source mapping that reads the job queue (the live-query fan-out has its own, on the stream)."""
    queue = deployment.get_att("JobQueue", "Arn")
    mappings = [n for n, r in expanded["Resources"].items() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    (mapping,) = [
        deployment.resource(n)["Properties"]
        for n in mappings
        if deployment.resource(n)["Properties"].get("EventSourceArn") == queue
    ]
    return mapping


def test_the_job_queue_feeds_only_the_runner_with_partial_batch_failures(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded, stack_name="s1")
    mapping = job_queue_mapping(expanded, deployment)
    assert mapping["FunctionName"] == deployment.resource_name("SchedulerRunFunction")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = deployment.resource("JobQueue")["Properties"]
    runner_timeout = int(expanded["Parameters"]["SchedulerRunnerTimeout"]["MaxValue"])
    assert int(queue["VisibilityTimeout"]) >= 6 * runner_timeout  # Lambda's advice for SQS event sources
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == "arn:aws:sqs:us-east-1:123456789012:s1-jobs-dead"


def test_sqs_grants_are_scoped_to_the_job_queue_and_to_what_each_function_does(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded, stack_name="s1")
    queue = "arn:aws:sqs:us-east-1:123456789012:s1-jobs"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/s1-jobs"
    expected = {
        "QueryFunction": set(),
        "MutationFunction": {"sqs:SendMessage"},
        "AuthFunction": {"sqs:SendMessage"},
        "HttpActionFunction": {"sqs:SendMessage"},
        "SchedulerTickFunction": {"sqs:SendMessage"},
        "SchedulerRunFunction": {
            "sqs:SendMessage",
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
        },
    }
    for function, actions in expected.items():
        policy = RolePolicy.of_function(deployment, function)
        granted = {a for s in policy.statements for a in s["Action"] if a.startswith("sqs:")}
        assert granted == actions, function
        for action in actions:
            assert policy.allows(action, queue), (function, action)
            assert not policy.allows(action, queue + "-dead"), (function, action)
        env = deployment.resource(function)["Properties"]["Environment"]["Variables"]
        assert env.get("AUTHLIB_JOB_QUEUE_URL") == (url if actions else None), function


def test_the_runner_takes_one_job_per_invocation_with_bounded_concurrency(expanded: dict[str, Any]) -> None:
    deployment = Deployment(expanded, parameters={"SchedulerConcurrency": "25"})
    mapping = job_queue_mapping(expanded, deployment)
    assert mapping["BatchSize"] == 1  # a slow action never holds up another job
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": "25"}
    runner = deployment.resource("SchedulerRunFunction")["Properties"]
    assert runner["Timeout"] == str(expanded["Parameters"]["SchedulerRunnerTimeout"]["Default"])
    assert runner["Environment"]["Variables"]["AUTHLIB_JOB_RUNNER_TIMEOUT"] == runner["Timeout"]


# ------------------------------------------------------------------------------------------------ social sign-in


def _ssm_resources(deployment: Deployment, function: str) -> list[str]:
    statements = RolePolicy.of_function(deployment, function).statements
    return [s["Resource"] for s in statements if "ssm:GetParameter" in s["Action"]]


def test_oauth_client_secrets_reach_only_the_auth_function(expanded: dict[str, Any]) -> None:
    default = Deployment(expanded)
    env = default.resource("AuthFunction")["Properties"]["Environment"]["Variables"]
    assert env["AUTHLIB_OAUTH_CLIENT_SECRETS_PARAMETER"] == ""  # empty: read as unset, no social sign-in
    for function in FUNCTIONS:
        assert not any("oauth" in str(r) for r in _ssm_resources(default, function)), function
    deployment = Deployment(expanded, parameters={"OAuthClientSecretsParameterName": "/app/oauth-clients"})
    env = deployment.resource("AuthFunction")["Properties"]["Environment"]["Variables"]
    assert env["AUTHLIB_OAUTH_CLIENT_SECRETS_PARAMETER"] == "/app/oauth-clients"
    assert "arn:aws:ssm:us-east-1:123456789012:parameter/app/oauth-clients" in _ssm_resources(
        deployment, "AuthFunction"
    )
    for function in ("QueryFunction", "MutationFunction"):
        assert "arn:aws:ssm:us-east-1:123456789012:parameter/app/oauth-clients" not in _ssm_resources(
            deployment, function
        )
        assert (
            "AUTHLIB_OAUTH_CLIENT_SECRETS_PARAMETER"
            not in (deployment.resource(function)["Properties"]["Environment"]["Variables"])
        )


# ------------------------------------------------------------------------------------------ app environment

APP_ENV_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/app/prod/env"


def _grants(deployment: Deployment, function: str, sid: str) -> list[dict[str, Any]]:
    return [s for s in RolePolicy.of_function(deployment, function).statements if s.get("Sid") == sid]


def test_the_app_environment_is_read_only_where_named_and_only_by_functions_that_run_app_code(
    expanded: dict[str, Any],
) -> None:
    default = Deployment(expanded)
    for function in FUNCTIONS:
        env = default.resource(function)["Properties"]["Environment"]["Variables"]
        assert env["AUTHLIB_APP_ENV_PARAMETER"] == "", function  # empty: read as unset, no app variables
        assert not _grants(default, function, "AppEnvironment"), function
        assert not any("/env" in str(r) for r in _ssm_resources(default, function)), function
    deployment = Deployment(expanded, parameters={"AppEnvironmentParameterName": "/app/prod/env"})
    # The functions that build a runtime (and so import the functions folder) are those that read the server secret.
    builds_runtime = {f for f in FUNCTIONS if _grants(deployment, f, "ServerSecret")}
    assert {"QueryFunction", "SchedulerRunFunction", "FanoutFunction", "AuthFunction"} <= builds_runtime
    for function in FUNCTIONS:
        env = deployment.resource(function)["Properties"]["Environment"]["Variables"]
        assert env["AUTHLIB_APP_ENV_PARAMETER"] == "/app/prod/env", function
        policy = RolePolicy.of_function(deployment, function)
        grants = _grants(deployment, function, "AppEnvironment")
        if function in builds_runtime:
            assert grants == [
                {"Sid": "AppEnvironment", "Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": APP_ENV_ARN}
            ], function
            assert policy.allows("ssm:GetParameter", APP_ENV_ARN), function
        else:
            assert not grants, function
            assert not policy.allows("ssm:GetParameter", APP_ENV_ARN), function
        # Exactly that parameter: not its neighbours, not a prefix of it.
        for other in (APP_ENV_ARN + "-other", APP_ENV_ARN.rsplit("/", 1)[0], APP_ENV_ARN + "/x"):
            assert not policy.allows("ssm:GetParameter", other), (function, other)
        assert not policy.allows("ssm:PutParameter", APP_ENV_ARN), function
    assert "KeepaliveFunction" not in builds_runtime


APP_ENV_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
#: What SSM's GetParameter (WithDecryption) of the app environment sends to KMS on the function's behalf.
SSM_DECRYPTS_APP_ENV = {
    "kms:ViaService": "ssm.us-east-1.amazonaws.com",
    "kms:EncryptionContext:PARAMETER_ARN": APP_ENV_ARN,
}


def test_a_customer_key_of_the_app_environment_is_decryptable_only_through_ssm_for_that_parameter(
    expanded: dict[str, Any],
) -> None:
    both = {"AppEnvironmentParameterName": "/app/prod/env", "AppEnvironmentKmsKeyArn": APP_ENV_KEY}
    deployment = Deployment(expanded, parameters=both)
    reads_app_env = {f for f in FUNCTIONS if _grants(deployment, f, "AppEnvironment")}
    assert {"QueryFunction", "SchedulerRunFunction", "FanoutFunction", "AuthFunction"} <= reads_app_env
    for function in FUNCTIONS:
        policy = RolePolicy.of_function(deployment, function)
        grants = _grants(deployment, function, "AppEnvironmentKey")
        if function not in reads_app_env:
            assert not grants, function
            assert not policy.allows("kms:Decrypt", APP_ENV_KEY, SSM_DECRYPTS_APP_ENV), function
            continue
        assert grants == [
            {
                "Sid": "AppEnvironmentKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": APP_ENV_KEY,
                "Condition": {"StringEquals": SSM_DECRYPTS_APP_ENV},
            }
        ], function
        assert policy.allows("kms:Decrypt", APP_ENV_KEY, SSM_DECRYPTS_APP_ENV), function
        # Only through SSM, only for that parameter, only that key, only Decrypt.
        assert not policy.allows("kms:Decrypt", APP_ENV_KEY), function  # a direct kms:Decrypt call
        assert not policy.allows(
            "kms:Decrypt", APP_ENV_KEY, {**SSM_DECRYPTS_APP_ENV, "kms:ViaService": "s3.us-east-1.amazonaws.com"}
        )
        other = APP_ENV_ARN.replace("/env", "/other")
        assert not policy.allows(
            "kms:Decrypt", APP_ENV_KEY, {**SSM_DECRYPTS_APP_ENV, "kms:EncryptionContext:PARAMETER_ARN": other}
        ), function
        assert not policy.allows("kms:Decrypt", APP_ENV_KEY.replace("1234abcd", "9999abcd"), SSM_DECRYPTS_APP_ENV)
        for action in ("kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant"):
            assert not policy.allows(action, APP_ENV_KEY, SSM_DECRYPTS_APP_ENV), (function, action)
    # No key named, or a key without the parameter it would decrypt: no KMS grant at all.
    for parameters in ({}, {"AppEnvironmentParameterName": "/app/prod/env"}, {"AppEnvironmentKmsKeyArn": APP_ENV_KEY}):
        without = Deployment(expanded, parameters=parameters)
        for function in FUNCTIONS:
            assert not _grants(without, function, "AppEnvironmentKey"), (parameters, function)
            statements = RolePolicy.of_function(without, function).statements
            assert not [s for s in statements if any(str(a).startswith("kms:") for a in s["Action"])], function


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        (APP_ENV_KEY, True),
        ("arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab", True),
        ("arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", True),
        ("arn:aws:kms:us-east-1:123456789012:alias/my-app", False),  # IAM authorises Decrypt on the key, not an alias
        ("1234abcd-12ab-34cd-56ef-1234567890ab", False),  # a bare key id: the grant needs the ARN
        ("arn:aws:kms:us-east-1:12345:key/1234abcd", False),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/app/prod/env", False),
        ("arn:aws:kms:us-east-1:123456789012:key/*", False),  # a wildcard would grant every key
        (APP_ENV_KEY + " ", False),
        (APP_ENV_KEY + "\narn:aws:kms:us-east-1:123456789012:key/other", False),
    ],
)
def test_the_app_environment_key_parameter_takes_a_key_arn_only(
    expanded: dict[str, Any], value: str, accepted: bool
) -> None:
    # CloudFormation matches AllowedPattern against the whole value (java.util.regex, same syntax for this pattern).
    pattern = expanded["Parameters"]["AppEnvironmentKmsKeyArn"]["AllowedPattern"]
    assert (re.fullmatch(pattern, value) is not None) is accepted, value
