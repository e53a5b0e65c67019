"""The deployed stack, in process: each route answered by the function the expanded template routes it to,
configured with that function's environment and restricted to that function's IAM policy.

* Routes come from the HTTP API's OpenAPI body in the expanded template (the integration URI names the function).
* Each function gets its own handler (``HttpApp`` over a lazily built runtime, as ``lambda_handler`` builds it)
  with the environment the template gives it (``AUTHLIB_ALLOWED_KINDS`` included); only the secret is passed
  directly (in AWS it comes from SSM through the extension) and the functions folder is the repository's.
* DynamoDB is moto in-process; tables are created with the names the template gives them. Every call of a
  function's client goes through :func:`tests.sam.iam.enforce` with that function's role.
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any

from authlib_core.config import Settings
from authlib_core.http.app import HttpApp
from authlib_core.http.lambda_handler import LazyRuntime
from authlib_core.runtime import build_runtime
from authlib_core.scheduler.aws import QUEUE_URL_ENV, JobQueue, attach_job_queue
from tests.dynamodb.harness import allow_100_item_transactions
from tests.http.conftest import Context, make_event
from tests.sam.cfn_eval import api_routes, route_function
from tests.sam.conftest import ROOT
from tests.sam.iam import RolePolicy, enforce, enforce_ses, enforce_sqs

if TYPE_CHECKING:
    from authlib_core.runtime import Runtime
    from tests.sam.cfn_eval import Deployment

# The stack's moto runs in this process: DynamoDB's 100-item TransactGetItems limit, whichever test module ran first.
allow_100_item_transactions()

SECRET = "lambda-path-secret-" + "k" * 40
ORIGIN = "https://app.example.com"


class LambdaStack:
    """Invoke the stack like API Gateway would: the route picks the function, the function's role limits it."""

    def __init__(
        self, deployment: Deployment, *, overrides: dict[str, str] | None = None, job_queues: bool = False
    ) -> None:
        self.deployment = deployment
        self.routes = api_routes(deployment)
        self.overrides = overrides or {}
        self.policies: dict[str, RolePolicy] = {}
        self.apps: dict[str, HttpApp] = {}
        self.runtimes: dict[str, Runtime] = {}
        self.served: list[tuple[str, str, str]] = []
        #: Opt in (``job_queues=True``): functions whose template environment names the job queue hand jobs to it.
        self.job_queues = job_queues
        self.job_queues_by_function: dict[str, JobQueue] = {}

    def environment(self, function: str) -> dict[str, str]:
        variables = self.deployment.resource(function)["Properties"]["Environment"]["Variables"]
        env = {key: str(value) for key, value in variables.items()}
        env.update({"AUTHLIB_SECRETS": SECRET, "AUTHLIB_FUNCTIONS_DIR": str(ROOT / "functions")})
        env.update({"AWS_SESSION_TOKEN": session_token(function), **self.overrides})  # each function its own
        return env

    def table_names(self) -> dict[str, str]:
        env = self.environment("QueryFunction")
        return {"documents": env["AUTHLIB_DOCUMENTS_TABLE"], "sessions": env["AUTHLIB_SESSIONS_TABLE"]}

    def _build(self, function: str) -> Runtime:
        runtime = build_runtime(Settings.from_env(self.environment(function)))
        enforce(runtime.database.engine.client, self.policies[function], self.deployment)  # type: ignore[attr-defined]
        if self.job_queues and env_has_queue(self.environment(function)):  # jobs due soon go to SQS at commit
            attach_job_queue(runtime, self.job_queue(function))
        mail_client = getattr(runtime.auth and runtime.auth.mailer, "_client", None)
        if mail_client is not None:  # SES: ses:SendEmail on the identity and configuration set
            enforce_ses(mail_client, self.policies[function], self.deployment)
        self.runtimes[function] = runtime
        return runtime

    def job_queue(self, function: str) -> JobQueue:
        """The job queue as ``function`` reaches it: its URL from the template, its SQS calls under its role."""
        if function not in self.job_queues_by_function:
            import boto3

            self.policies.setdefault(function, RolePolicy.of_function(self.deployment, function))
            client = enforce_sqs(boto3.client("sqs", region_name="us-east-1"), self.policies[function], self.deployment)
            url = self.environment(function)["AUTHLIB_JOB_QUEUE_URL"]
            self.job_queues_by_function[function] = JobQueue(url, client=client)
        return self.job_queues_by_function[function]

    def runtime(self, function: str) -> Runtime:
        """The runtime of a function that no route reaches (the scheduler's), built as Lambda builds it."""
        if function not in self.runtimes:
            self.policies.setdefault(function, RolePolicy.of_function(self.deployment, function))
            self._build(function)
        return self.runtimes[function]

    def function_for(self, method: str, path: str) -> str:
        function = route_function(self.routes, method, path)
        assert function is not None, f"API Gateway routes {method} {path} to nothing (404)"
        return function

    def app(self, function: str) -> HttpApp:
        if function not in self.apps:
            self.policies[function] = RolePolicy.of_function(self.deployment, function)
            self.apps[function] = HttpApp(LazyRuntime(lambda: self._build(function)))
        return self.apps[function]

    def invoke(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        cookies: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        path, _, query = path.partition("?")
        function = self.function_for(method, path)
        raw = None if body is None else json.dumps(body)
        event = make_event(
            method, path, raw, headers={"origin": ORIGIN, **(headers or {})}, cookies=cookies, query=query
        )
        response = self.app(function)(event, Context())
        self.served.append((method, path, function))
        return response

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        response = self.invoke(method, path, body, **kw)
        text = response.get("body") or ""
        if response.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        return response["statusCode"], (json.loads(text) if text else None)


def session_token(function: str) -> str:
    """The session token Lambda gives ``function`` (tests' stand-in: it names the function)."""
    return f"session-token-of-{function}"


def env_has_queue(env: dict[str, str]) -> bool:
    """Whether a function's environment names the job queue (the template sets it where jobs are scheduled)."""
    return bool(env.get(QUEUE_URL_ENV))


def session_cookie(response: dict[str, Any]) -> str:
    """The ``name=value`` of the session cookie a sign-in/sign-up response sets."""
    return next(c for c in response["cookies"] if "session_token=" in c).split(";")[0]


def expire_sessions(admin: Any, table: str) -> int:
    """Move every stored session's expiry into the past, as time would; TTL has not removed them yet."""
    now_ms = int(time.time() * 1000)
    count = 0
    for item in admin.scan(TableName=table)["Items"]:
        if item["sk"]["S"].startswith("session#"):
            admin.update_item(
                TableName=table,
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="SET sessionExpiresAt = :past, expiresAt = :ttl",
                ExpressionAttributeValues={":past": {"N": str(now_ms - 1000)}, ":ttl": {"N": str(now_ms // 1000 - 1)}},
            )
            count += 1
    return count
