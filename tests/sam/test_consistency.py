"""template.yaml and the code must agree; these tests fail when they drift apart.

Plain pytest: reads template.yaml with a YAML loader that knows CloudFormation's tags; no SAM CLI.
- handler paths resolve to callables in the code;
- the DynamoDB tables equal the one description in code (authlib_core/database/engines/dynamodb/tables.py):
  key schema, attribute types, TTL attribute, billing mode;
- every environment variable the template sets is one the code reads (config.ENV_VARS), and what
  production needs is set -- but never the secret itself;
- the API routes cover every route the Lambda app serves, and every API route reaches a served one;
- least privilege: explicit statements only, no Scan anywhere, the query function cannot write documents;
- the Lambda lock file pins every runtime dependency of pyproject.toml at a version it allows.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
import tomllib
from typing import TYPE_CHECKING, Any

import pytest
from packaging.requirements import Requirement

from authlib_core.config import ENV_VARS, Settings
from tests.sam.cfn_yaml import ROOT, load_template, ref_name, resources_of_type, walk
from tests.sam.fake_extension import fake_extension

if TYPE_CHECKING:
    from pathlib import Path

TEMPLATE = load_template()
FUNCTIONS = resources_of_type(TEMPLATE, "AWS::Serverless::Function")
#: The functions behind the HTTP API (one handler module); the live-query functions have their own entry points.
HTTP_FUNCTIONS = {
    name: function
    for name, function in FUNCTIONS.items()
    if any(event["Type"] == "HttpApi" for event in function["Properties"].get("Events", {}).values())
}
LIVE_FUNCTIONS = {
    "SyncFunction": "sync_handler",
    "FanoutFunction": "fanout_handler",
    "KeepaliveFunction": "keepalive_handler",
}
LIVE_HANDLER_MODULE = "authlib_core.live.handlers"
#: Live-query connections (authlib_core/live/store.py describes it; not an engine table).
SYNC_TABLE = "SyncTable"
TABLES_IN_TEMPLATE = resources_of_type(TEMPLATE, "AWS::DynamoDB::Table")
GLOBAL_FN: dict[str, Any] = TEMPLATE.get("Globals", {}).get("Function", {})

#: Which environment variable names each table role's physical name (see authlib_core/config.py).
TABLE_ENV_VAR = {"documents": "AUTHLIB_DOCUMENTS_TABLE", "sessions": "AUTHLIB_SESSIONS_TABLE"}
HANDLER_MODULE_FILE = ROOT / "authlib_core" / "http" / "lambda_handler.py"
TABLES_MODULE_FILE = ROOT / "authlib_core" / "database" / "engines" / "dynamodb" / "tables.py"

DOCUMENT_WRITES = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
}


def needs(path: Path, branch: str) -> None:
    # The template is written before some of the code it describes lands; once the file exists,
    # every check runs (and fails on any import error).
    if not path.exists():
        pytest.skip(f"{path.relative_to(ROOT)} is not merged yet (branch {branch!r})")


def function_prop(name: str, prop: str) -> Any:
    return FUNCTIONS[name]["Properties"].get(prop, GLOBAL_FN.get(prop))


def environment(name: str) -> dict[str, Any]:
    merged = dict(GLOBAL_FN.get("Environment", {}).get("Variables", {}))
    merged.update(FUNCTIONS[name]["Properties"].get("Environment", {}).get("Variables", {}))
    return merged


def statements(name: str) -> list[dict[str, Any]]:
    """Every statement of the function's policies; a conditional one (``!If [cond, statement, NoValue]``) counts."""
    found: list[dict[str, Any]] = []
    for policy in FUNCTIONS[name]["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            for statement in policy["Statement"]:
                if "Fn::If" in statement:
                    found.extend(branch for branch in statement["Fn::If"][1:] if "Action" in branch)
                else:
                    found.append(statement)
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statement_tables(statement: dict[str, Any]) -> set[str]:
    return {r for r in (ref_name(x) for x in as_list(statement["Resource"])) if r in TABLES_IN_TEMPLATE}


def table_actions(name: str, table: str) -> set[str]:
    actions: set[str] = set()
    for statement in statements(name):
        if statement.get("Effect") == "Allow" and table in statement_tables(statement):
            actions |= set(as_list(statement["Action"]))
    return actions


def table_for_role(role: str) -> str:
    ref = environment(next(iter(FUNCTIONS)))[TABLE_ENV_VAR[role]]
    name = ref_name(ref)
    assert name in TABLES_IN_TEMPLATE, f"{TABLE_ENV_VAR[role]} must !Ref a table of the template, not {ref!r}"
    return name


#: Deployed values of variables whose value has a shape the code checks (the rest get a placeholder).
PLAUSIBLE = {
    "AUTHLIB_MAIL": "ses",
    "AUTHLIB_MAIL_FROM": "no-reply@example.com",
    "AUTHLIB_BASE_URL": "https://api.example.com",
    "AUTHLIB_OAUTH_CLIENT_SECRETS_PARAMETER": "/authlib-core/prod/oauth-clients",
    "AUTHLIB_APP_ENV_PARAMETER": "/authlib-core/prod/env",
}


def resolved_env(name: str) -> dict[str, str]:
    """The function's environment with intrinsics replaced by plausible deployed values."""
    values: dict[str, str] = {}
    for key, value in environment(name).items():
        values[key] = value if isinstance(value, str) else PLAUSIBLE.get(key, f"resolved-{key.lower()}")
    return values


# ---------------------------------------------------------------------------------------- handlers


def introspect_handler(module: str, attribute: str, tmp_path: Path) -> dict[str, Any]:
    """Import the handler module in a fresh interpreter (its cold-start code runs there, not here)."""
    script = f"""
import importlib, json, sys
mod = importlib.import_module({module!r})
fn = getattr(mod, {attribute!r}, None)
routes = []
seen = set()
for value in list(vars(mod).values()):
    for attr in ("_static_routes", "_dynamic_routes"):
        for route in getattr(value, attr, None) or []:
            if isinstance(getattr(route, "method", None), str) and id(route) not in seen:
                seen.add(id(route))
                routes.append([route.method, route.path, route.rule.pattern])
if not routes:
    # HttpApp builds its Powertools router per thread, on first use; build one to list the routes.
    from authlib_core.http.app import HttpApp
    resolver = HttpApp(lambda: None)._build_resolver()
    for route in resolver._static_routes + resolver._dynamic_routes:
        routes.append([route.method, route.path, route.rule.pattern])
print(json.dumps({{"callable": callable(fn), "routes": routes}}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHLIB_", "AWS_"))}
    env.update(
        AUTHLIB_ENGINE="sqlite",
        AUTHLIB_SQLITE_PATH=str(tmp_path / "handler.sqlite3"),
        AUTHLIB_FUNCTIONS_DIR=str(ROOT / "functions"),
        AUTHLIB_SECRETS="consistency-test-secret-0123456789abcdef",
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_TRACE_DISABLED="true",
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"importing {module} failed:\n{result.stderr[-3000:]}"
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


@pytest.fixture(scope="module")
def handler_info(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    needs(HANDLER_MODULE_FILE, "http")
    assert set(FUNCTIONS) == set(HTTP_FUNCTIONS) | set(LIVE_FUNCTIONS) | set(SCHEDULER_HANDLERS), (
        "a function that is neither HTTP, live nor the scheduler's"
    )
    handlers = {function_prop(name, "Handler") for name in HTTP_FUNCTIONS}
    assert len(handlers) == 1, f"one handler module for every HTTP function, got {handlers}"
    module, _, attribute = handlers.pop().rpartition(".")
    return introspect_handler(module, attribute, tmp_path_factory.mktemp("handler"))


def test_every_function_uses_the_python313_arm64_defaults() -> None:
    for name in FUNCTIONS:
        assert function_prop(name, "Runtime") == "python3.13", name
        assert function_prop(name, "Architectures") == [{"Ref": "Architecture"}], name
    assert TEMPLATE["Parameters"]["Architecture"]["Default"] == "arm64"


def test_handler_path_resolves_to_a_callable(handler_info: dict[str, Any]) -> None:
    assert handler_info["callable"], f"{GLOBAL_FN.get('Handler')} is not a callable"


#: The scheduler's functions (SQS runner, one-minute tick) have their own entry points (docs/scheduler.md).
SCHEDULER_HANDLERS = {
    "SchedulerRunFunction": "authlib_core.scheduler.aws.run_handler",
    "SchedulerTickFunction": "authlib_core.scheduler.aws.tick_handler",
}


def test_handler_module_file_matches_handler_path() -> None:
    for name in HTTP_FUNCTIONS:
        module = function_prop(name, "Handler").rpartition(".")[0]
        assert module.replace(".", "/") + ".py" == HANDLER_MODULE_FILE.relative_to(ROOT).as_posix(), name


def test_scheduler_handlers_resolve_to_callables() -> None:
    import importlib

    for name, handler in SCHEDULER_HANDLERS.items():
        assert function_prop(name, "Handler") == handler, name
        module, _, attribute = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attribute)), handler


def test_live_handlers_resolve_to_callables(tmp_path: Path) -> None:
    for name, attribute in LIVE_FUNCTIONS.items():
        assert function_prop(name, "Handler") == f"{LIVE_HANDLER_MODULE}.{attribute}", name
        assert introspect_handler(LIVE_HANDLER_MODULE, attribute, tmp_path)["callable"], name


# -------------------------------------------------------------------------------------------- routes

API_PATH_PARAM = re.compile(r"\{([^}]+)\}")


def template_routes() -> list[tuple[str, str, str]]:
    """The explicit routes; the $default route (an HttpApi event without Path and Method) is default_route()'s."""
    routes = []
    for name, function in FUNCTIONS.items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi" and "Path" in event["Properties"]:
                routes.append((event["Properties"]["Method"].upper(), event["Properties"]["Path"], name))
    return routes


def default_route() -> list[str]:
    """The functions behind the API's $default route (SAM: an HttpApi event with neither Path nor Method)."""
    return [
        name
        for name, function in FUNCTIONS.items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "HttpApi" and "Path" not in event["Properties"] and "Method" not in event["Properties"]
    ]


def api_gateway_regex(path: str) -> re.Pattern[str]:
    """How API Gateway matches a route path: {x} is one segment, {x+} the greedy rest."""
    pattern = ""
    for literal, param in re.findall(r"([^{]*)(?:\{([^}]+)\})?", path):
        pattern += re.escape(literal)
        if param:
            pattern += ".+" if param.endswith("+") else "[^/]+"
    return re.compile(f"^{pattern}$")


def sample_path(path: str) -> str:
    """A concrete request path for a route path, in either Powertools or API Gateway syntax."""
    path = re.sub(r"<\w+>", "sample", path)
    path = re.sub(r"\(([^()]*)\)\?", r"\1", path).replace("(", "").replace(")", "")
    path = re.sub(r"\{[^}]+\+\}", "mod/sub:fn", path)
    path = re.sub(r"\{[^}]+\}", "sample", path)
    return path.replace(".+", "mod/sub:fn").replace(".*", "mod/sub:fn").replace("\\", "")


def covered_by_template(method: str, path: str) -> list[str]:
    return [fn for m, p, fn in template_routes() if m in (method, "ANY") and api_gateway_regex(p).match(path)]


#: Methods the router accepts under /api/auth that no Better Auth endpoint uses: API Gateway answers
#: them 404 itself rather than waking the auth function.
UNROUTED_AUTH_METHODS = {"PUT", "PATCH", "DELETE"}


def test_template_routes_cover_every_served_route(handler_info: dict[str, Any]) -> None:
    assert handler_info["routes"], "found no Powertools routes on the handler module"
    missing = []
    for method, path, rule in handler_info["routes"]:
        if method in UNROUTED_AUTH_METHODS and path.startswith("/api/auth"):
            continue
        sample = sample_path(path)
        assert re.match(rule, sample), f"cannot build a sample request for {method} {path} ({rule})"
        if not covered_by_template(method, sample):
            missing.append(f"{method} {path}")
    assert not missing, f"served by the app but not routed by template.yaml: {missing}"


def test_every_template_route_reaches_a_served_route(handler_info: dict[str, Any]) -> None:
    dead = []
    for method, path, _ in template_routes():
        sample = sample_path(path)
        if not any(m in (method, "ANY") and re.match(rule, sample) for m, _, rule in handler_info["routes"]):
            dead.append(f"{method} {path}")
    assert not dead, f"routed by template.yaml but served by no app route: {dead}"


def test_routes_are_split_by_privilege() -> None:
    by_route = {(m, p): fn for m, p, fn in template_routes()}
    assert by_route[("POST", "/api/query")] == "QueryFunction"
    assert by_route[("GET", "/api/query")] == "QueryFunction"
    assert by_route[("GET", "/api/ok")] == "QueryFunction"
    for path in ("/api/mutation", "/api/action", "/api/run/{proxy+}", "/api/function"):
        assert by_route[("POST", path)] == "MutationFunction", path
    assert by_route[("POST", "/api/auth/{proxy+}")] == "AuthFunction"
    assert by_route[("GET", "/api/auth/{proxy+}")] == "AuthFunction"
    assert len(by_route) == len(template_routes()), "a route is declared twice"


# -------------------------------------------------------------------------------------------- tables


def test_tables_equal_the_engine_description() -> None:
    needs(TABLES_MODULE_FILE, "dynamodb")
    from authlib_core.database.engines.dynamodb.tables import TABLES

    assert set(TABLES) == set(TABLE_ENV_VAR), "a table role without an environment variable in TABLE_ENV_VAR"
    seen = set()
    for role, description in TABLES.items():
        logical = table_for_role(role)
        seen.add(logical)
        props = TABLES_IN_TEMPLATE[logical]["Properties"]
        assert props["KeySchema"] == description.key_schema, role
        assert sorted(props["AttributeDefinitions"], key=str) == sorted(description.attribute_definitions, key=str), (
            role
        )
        assert props["BillingMode"] == description.billing_mode, role
        ttl = props.get("TimeToLiveSpecification")
        if description.ttl_attribute is None:
            assert ttl is None, f"{logical} has TTL but the engine expects none"
        else:
            assert ttl == {"AttributeName": description.ttl_attribute, "Enabled": True}, logical
        assert "GlobalSecondaryIndexes" not in props or props["GlobalSecondaryIndexes"] == getattr(
            description, "global_secondary_indexes", None
        ), logical
    assert seen | {SYNC_TABLE} == set(TABLES_IN_TEMPLATE), (
        f"tables in template.yaml the code does not know: {set(TABLES_IN_TEMPLATE) - seen - {SYNC_TABLE}}"
    )


def test_the_sync_table_equals_the_store_description() -> None:
    from authlib_core.live.store import SYNC

    props = TABLES_IN_TEMPLATE[SYNC_TABLE]["Properties"]
    assert props["KeySchema"] == SYNC.key_schema
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(SYNC.attribute_definitions, key=str)
    assert props["BillingMode"] == SYNC.billing_mode
    assert props["TimeToLiveSpecification"] == {"AttributeName": SYNC.ttl_attribute, "Enabled": True}
    for name in LIVE_FUNCTIONS:
        assert ref_name(environment(name)["AUTHLIB_SYNC_TABLE"]) == SYNC_TABLE, name


def test_tables_are_protected_and_encrypted() -> None:
    for name, table in TABLES_IN_TEMPLATE.items():
        props = table["Properties"]
        if name == SYNC_TABLE:
            # Connections live two hours at most: nothing to keep on delete, nothing to restore.
            assert table.get("DeletionPolicy") == "Delete", name
            assert "PointInTimeRecoverySpecification" not in props, name
            assert props["SSESpecification"] == {"SSEEnabled": False}, name
            continue
        # Kept on delete and on updates, removed when the operation that created it rolls back (a first deploy
        # that fails can be retried; with Retain the kept table would make every retry fail "already exists").
        assert table.get("DeletionPolicy") == "RetainExceptOnCreate", name
        assert table.get("UpdateReplacePolicy") == "Retain", name  # RetainExceptOnCreate is not valid here
        assert props["DeletionProtectionEnabled"] == {"Ref": "DeletionProtection"}, name
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        # Encrypted at rest with the AWS owned key: SSEEnabled true would switch to the KMS-charged AWS managed key.
        assert props["SSESpecification"] == {"SSEEnabled": False}, name


# ----------------------------------------------------------------------------------------- environment


def test_every_variable_the_template_sets_is_read_by_the_code() -> None:
    for name in FUNCTIONS:
        unknown = set(environment(name)) - set(ENV_VARS)
        assert not unknown, f"{name} sets variables the code never reads (config.ENV_VARS): {sorted(unknown)}"


def test_production_settings_resolve_from_the_template_environment() -> None:
    for name in FUNCTIONS:
        env = resolved_env(name)
        served = {env["AUTHLIB_SECRETS_PARAMETER"]: "from-ssm-" + "x" * 32}
        oauth = env.get("AUTHLIB_OAUTH_CLIENT_SECRETS_PARAMETER")
        if oauth:  # the auth function's social sign-in client secrets, from their own parameter
            served[oauth] = "github=from-ssm-github"
        app_env = env.get("AUTHLIB_APP_ENV_PARAMETER")
        if app_env:  # the app's own variables (template parameter AppEnvironmentParameterName)
            served[app_env] = '{"WEBHOOK_SECRET": "from-ssm-webhook"}'
        with fake_extension(served) as extension:
            settings = Settings.from_env(
                {
                    **env,
                    "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(extension.port),
                    "AWS_SESSION_TOKEN": "session-token",
                }
            )
        assert settings.secrets == ("from-ssm-" + "x" * 32,), name
        assert settings.oauth_client_secrets == ((("github", "from-ssm-github"),) if oauth else ()), name
        assert settings.app_environment == ((("WEBHOOK_SECRET", "from-ssm-webhook"),) if app_env else ()), name
        assert settings.engine == "dynamodb", name
        for role, var in TABLE_ENV_VAR.items():
            assert var in env, f"{name} lacks {var}"
            assert table_for_role(role) in TABLES_IN_TEMPLATE
        assert settings.secure_cookies is True, name
        assert env.get("AUTHLIB_TRUSTED_ORIGINS") == {"Ref": "AllowedOrigins"} or "AUTHLIB_TRUSTED_ORIGINS" in env
        assert env["AUTHLIB_SECRETS_PARAMETER"], f"{name} has no secret source"


def test_the_secret_never_appears_in_the_template() -> None:
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert "AUTHLIB_SECRETS:" not in text, "the secret comes from SSM at cold start, never from the template"
    for name in FUNCTIONS:
        assert "AUTHLIB_SECRETS" not in environment(name)
        for value in walk(environment(name)):
            assert not (isinstance(value, str) and value.startswith("{{resolve:")), "no dynamic references to secrets"
    param = TEMPLATE["Parameters"]["SecretParameterName"]
    assert param["Type"] == "String"
    assert param["Default"].startswith("/")


def test_query_function_refuses_other_kinds() -> None:
    assert environment("QueryFunction").get("AUTHLIB_ALLOWED_KINDS") == "query"


def test_http_actions_take_the_default_route_and_serve_only_http_actions() -> None:
    """HTTP actions answer at user-chosen paths: the $default route brings them every request no route takes."""
    assert default_route() == ["HttpActionFunction"]
    assert environment("HttpActionFunction").get("AUTHLIB_ALLOWED_KINDS") == "http"
    assert all(path.startswith("/api/") for _, path, _ in template_routes()), "explicit routes are the API's"


# --------------------------------------------------------------------------------------------- IAM


def test_only_explicit_statements_no_broad_policy_templates() -> None:
    for name in FUNCTIONS:
        for policy in FUNCTIONS[name]["Properties"].get("Policies", []):
            explicit = isinstance(policy, dict) and "Statement" in policy
            assert explicit, f"{name}: explicit IAM statements, not {policy!r} (SAM's DynamoDB templates allow Scan)"


def test_no_scan_anywhere() -> None:
    for name in FUNCTIONS:
        for statement in statements(name):
            for action in as_list(statement["Action"]):
                assert not fnmatch.fnmatch("dynamodb:Scan", action), f"{name} allows Scan via {action!r}"
                assert "*" not in action, f"{name}: no wildcard actions ({action!r})"
    assert "Scan" not in (ROOT / "template.yaml").read_text(encoding="utf-8").replace("no Scan", "")


def test_statements_are_scoped_to_table_arns() -> None:
    for name in FUNCTIONS:
        for statement in statements(name):
            for resource in as_list(statement["Resource"]):
                assert resource != "*", f"{name}: a statement on every resource"


def test_query_function_cannot_write_documents() -> None:
    documents, sessions = table_for_role("documents"), table_for_role("sessions")
    actions = table_actions("QueryFunction", documents)
    assert actions, "the query function must read documents"
    assert not actions & DOCUMENT_WRITES, f"query function may write documents: {sorted(actions & DOCUMENT_WRITES)}"
    assert table_actions("QueryFunction", sessions) == {"dynamodb:GetItem"}


def test_only_the_auth_function_writes_sessions() -> None:
    sessions = table_for_role("sessions")
    for name in FUNCTIONS:
        writes = table_actions(name, sessions) & DOCUMENT_WRITES
        assert bool(writes) == (name == "AuthFunction"), f"{name}: session writes {sorted(writes)}"


def test_mutation_function_can_commit_a_transaction() -> None:
    # TransactWriteItems is authorised through Put/Update/Delete/ConditionCheckItem.
    needed = {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    }
    for name in ("MutationFunction", "AuthFunction", "HttpActionFunction"):
        assert needed <= table_actions(name, table_for_role("documents")), name


# --------------------------------------------------------------------------------------- packaging


def _pins(lock: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "infra" / lock).read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"unpinned requirement in infra/{lock}: {line!r}"
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


@pytest.mark.parametrize(
    ("lock", "group"), [("requirements-lambda.txt", "dependencies"), ("requirements-jwt.txt", "jwt")]
)
def test_lambda_locks_pin_every_runtime_dependency(lock: str, group: str) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] if group == "dependencies" else project["optional-dependencies"][group]
    pins = _pins(lock)
    for spec in specs:
        requirement = Requirement(spec)
        key = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert key in pins, f"{requirement.name} (pyproject.toml) is not pinned in infra/{lock}"
        assert requirement.specifier.contains(pins[key]), f"{key}=={pins[key]} violates {spec!r}"


def test_the_jwt_lock_adds_to_the_lambda_lock_without_repinning() -> None:
    assert not (_pins("requirements-jwt.txt").keys() & _pins("requirements-lambda.txt").keys())
