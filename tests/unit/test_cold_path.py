"""What importing the Lambda entry point loads: nothing that only the dev server, tests or optional features need."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Modules a deployed function without optional features never needs at import time.
DEV_ONLY = (
    "authlib_core.dev",
    "authlib_core.sync",
    "authlib_core.testing",
    "authlib_core.scaffold",
    "authlib_core.mail.ses",
    "websockets",
    "joserfc",
    "cronsim",
    "boto3",
    "difflib",
)


#: The live-query functions speak the sync protocol, so they need authlib_core.sync, and nothing else of the list.
LIVE_ENTRY_POINTS = ("authlib_core.live.handlers",)


@pytest.mark.parametrize("entry_point", ["authlib_core.http.lambda_handler", *LIVE_ENTRY_POINTS])
def test_the_lambda_entry_point_imports_no_dev_only_module(entry_point: str) -> None:
    forbidden = tuple(m for m in DEV_ONLY if not (entry_point in LIVE_ENTRY_POINTS and m == "authlib_core.sync"))
    roots = sorted({m.split(".")[0] for m in forbidden})
    script = (
        "import json, sys\n"
        f"import {entry_point}\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {roots!r})))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "AUTHLIB_ENGINE": "dynamodb"}
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{script}"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=ROOT,
        timeout=60,
    ).stdout
    loaded = json.loads(out.strip().splitlines()[-1])
    offending = [m for m in loaded if any(m == d or m.startswith(d + ".") for d in forbidden)]
    assert offending == []


#: Modules only an app with social sign-in providers (``functions/auth_config.py``) loads.
SOCIAL_ONLY = ("authlib_core.auth.oauth_client", "authlib_core.auth.jwks", "urllib.request", "joserfc")


@pytest.mark.parametrize("with_providers", [False, True])
def test_building_the_auth_service_loads_no_oauth_client(tmp_path: Path, with_providers: bool) -> None:
    """Neither for an app without providers, nor for one with them until a sign-in starts (the query Lambda)."""
    functions, secrets = ROOT / "functions", ()
    if with_providers:
        secrets = (("github", "s"),)
        functions = tmp_path / "coldsocial"
        functions.mkdir()
        for name in ("schema.py", "myData.py"):
            shutil.copy(ROOT / "functions" / name, functions / name)
        (functions / "auth_config.py").write_text(
            "from authlib_core.auth import GitHubSignIn, OIDCSignIn\n"
            "social_providers = [GitHubSignIn(client_id='c'), "
            "OIDCSignIn(id='okta', issuer='https://example.okta.com', client_id='c')]\n"
        )
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from authlib_core.config import Settings\n"
        "from authlib_core.runtime import build_runtime\n"
        f"runtime = build_runtime(Settings(functions_dir=Path({str(functions)!r}), "
        f"sqlite_path=Path({str(tmp_path / 'cold.sqlite3')!r}), oauth_client_secrets={secrets!r}))\n"
        "assert runtime.auth is not None\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m in {SOCIAL_ONLY!r} or m.startswith('joserfc'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{script}"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        check=True,
        cwd=tmp_path,
        timeout=60,
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


def _fresh_process_answer(script: str, cwd: Path, **env: str) -> Any:
    """The JSON on the last line ``script`` prints, run in a fresh interpreter (``-I``) over the worktree's sources."""
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{script}"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        check=True,
        cwd=cwd,
        timeout=60,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_the_mail_package_loads_the_email_package_only_to_build_a_message(tmp_path: Path) -> None:
    """A function module importing ``send_email`` (the example app's onboarding) costs a cold start no ``email``
    parsing machinery (~9 ms on Lambda): it is imported when the first message is built, and the message is whole."""
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from authlib_core.config import Settings\n"
        "from authlib_core.runtime import build_runtime\n"
        f"runtime = build_runtime(Settings(functions_dir=Path({str(ROOT / 'functions')!r}), "
        f"sqlite_path=Path({str(tmp_path / 'cold.sqlite3')!r})))\n"
        "assert 'functions.onboarding' in sys.modules and 'authlib_core.mail' in sys.modules\n"
        "before = sorted(m for m in ('email.policy', 'email.headerregistry') if m in sys.modules)\n"
        "from authlib_core.mail import MailMessage, build_email\n"
        "message = MailMessage(to='ada@example.com', subject='Hi', text='Hello', html='<p>Hello</p>')\n"
        "built = build_email(message, sender='App <no-reply@example.com>')\n"
        "print(json.dumps([before, built['To'], built.get_content_type(), 'email.policy' in sys.modules]))\n"
    )
    assert _fresh_process_answer(script, tmp_path) == [[], "ada@example.com", "multipart/alternative", True]


#: The ``/api/auth/*`` route modules: only the auth function's first request loads them.
AUTH_ROUTE_MODULES = (
    "authlib_core.auth.account",
    "authlib_core.auth.change_email",
    "authlib_core.auth.deletion",
    "authlib_core.auth.email_verification",
    "authlib_core.auth.password_reset",
    "authlib_core.auth.session_routes",
    "authlib_core.auth.sign_in",
    "authlib_core.auth.social",
)


def test_a_function_call_with_a_session_loads_no_auth_route_module(tmp_path: Path) -> None:
    """Query and mutation functions read sessions; the sign-in routes are loaded by the first /api/auth request."""
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from authlib_core.auth.transport import AuthHttpRequest\n"
        "from authlib_core.config import Settings\n"
        "from authlib_core.runtime import build_runtime\n"
        f"runtime = build_runtime(Settings(functions_dir=Path({str(ROOT / 'functions')!r}), "
        f"sqlite_path=Path({str(tmp_path / 'cold.sqlite3')!r})))\n"
        "auth = runtime.auth.auth_for(AuthHttpRequest('POST', '/api/query', base_url='http://127.0.0.1:8787'))\n"
        "assert auth.get_user_identity() is None\n"
        f"before = sorted(m for m in {AUTH_ROUTE_MODULES!r} if m in sys.modules)\n"
        "ok = runtime.auth.handle(AuthHttpRequest('GET', '/ok', base_url='http://127.0.0.1:8787'))\n"
        "missing = runtime.auth.handle(AuthHttpRequest('GET', '/no-such-route', base_url='http://127.0.0.1:8787'))\n"
        f"after = sorted(m for m in {AUTH_ROUTE_MODULES!r} if m in sys.modules)\n"
        "print(json.dumps([before, ok.status, ok.body, missing.status, after]))\n"
    )
    assert _fresh_process_answer(script, tmp_path) == [[], 200, {"ok": True}, 404, sorted(AUTH_ROUTE_MODULES)]


def test_the_parameter_routes_are_the_route_modules_own_prefixes() -> None:
    from authlib_core.auth import password_reset, service, social

    assert service._PARAM_ROUTES == (password_reset.LINK_PREFIX, social.CALLBACK_PREFIX)


def _http_app_script(functions: Path, database: Path) -> str:
    """A script that builds the runtime of ``functions`` and an ``HttpApp`` (the Lambda handler's), with ``event``
    (an API Gateway HTTP API event) and ``Ctx`` (a Lambda context) to call it with: ``app(event(...), Ctx())``."""
    return (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from authlib_core.config import Settings\n"
        "from authlib_core.http.app import HttpApp\n"
        "from authlib_core.runtime import build_runtime\n"
        f"settings = Settings(functions_dir=Path({str(functions)!r}), sqlite_path=Path({str(database)!r}))\n"
        "runtime = build_runtime(settings)\n"
        "app = HttpApp(lambda: runtime)\n"
        "def event(method, path, body=None):\n"
        "    return {'version': '2.0', 'routeKey': '$default', 'rawPath': path, 'rawQueryString': '',\n"
        "            'headers': {'content-type': 'application/json'}, 'isBase64Encoded': False,\n"
        "            'requestContext': {'stage': '$default', 'requestId': 'r1', 'http': {'method': method,\n"
        "                               'path': path, 'sourceIp': '127.0.0.1'}}, **({'body': body} if body else {})}\n"
        "class Ctx:\n"
        "    aws_request_id = 'r1'; function_name = 'f'; memory_limit_in_mb = 512\n"
        "    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:f'\n"
        "    def get_remaining_time_in_millis(self): return 30000\n"
        "def call(path):\n"
        "    body = json.dumps({'path': path, 'args': {}})\n"
        "    return app(event('POST', '/api/query', body), Ctx())\n"
    )


def test_a_function_call_answers_without_importing_the_powertools_resolver(tmp_path: Path) -> None:
    """The fixed function-call routes are answered without Powertools' event handler (its package imports every
    resolver, asyncio and the event data classes); the first request that needs the resolver imports it."""
    script = _http_app_script(ROOT / "functions", tmp_path / "cold.sqlite3") + (
        "query = call('myData:getMyData')\n"
        "before = 'aws_lambda_powertools.event_handler' in sys.modules\n"
        "ok = app(event('GET', '/api/ok'), Ctx())\n"
        "after = 'aws_lambda_powertools.event_handler' in sys.modules\n"
        "print(json.dumps([query['statusCode'], json.loads(query['body']), before, ok['statusCode'], after]))\n"
    )
    status, body, before, ok, after = _fresh_process_answer(script, tmp_path, POWERTOOLS_SERVICE_NAME="cold")
    assert (status, ok, before, after) == (200, 200, False, True)
    assert (body["status"], body["errorData"]) == ("error", "Not authenticated"), body  # the function ran


#: Modules of features some apps declare (``crons.py``, ``http.py``, ``auth_config.py``'s providers), with public
#: names exported lazily by ``authlib_core`` and ``authlib_core.auth``.
FEATURE_MODULES = (
    "authlib_core.auth.jwt_config",
    "authlib_core.auth.social_config",
    "authlib_core.functions.crons",
    "authlib_core.functions.http_router",
)


def test_an_app_without_crons_http_actions_or_providers_never_loads_their_modules(tmp_path: Path) -> None:
    """A query answered by the Lambda handler of an app without those features loads none of their modules (~9 ms
    of a cold start on Python 3.13); the public names still import, and load their module then."""
    functions = tmp_path / "plainapp"
    functions.mkdir()
    for name in ("schema.py", "myData.py"):
        shutil.copy(ROOT / "functions" / name, functions / name)
    script = _http_app_script(functions, tmp_path / "cold.sqlite3") + (
        "import authlib_core, authlib_core.auth\n"
        "query = call('myData:getMyData')\n"
        f"before = sorted(m for m in {FEATURE_MODULES!r} if m in sys.modules)\n"
        "from authlib_core import cron_jobs, http_action, http_router\n"
        "from authlib_core.auth import CustomJWTProvider, GitHubSignIn, OIDCProvider, OIDCSignIn\n"
        "names = [cron_jobs.__module__, http_action.__module__, http_router.__module__, CustomJWTProvider.__module__,\n"
        "         OIDCProvider.__module__, GitHubSignIn.__module__, OIDCSignIn.__module__]\n"
        f"after = sorted(m for m in {FEATURE_MODULES!r} if m in sys.modules)\n"
        "print(json.dumps([query['statusCode'], json.loads(query['body'])['errorData'], before, names, after]))\n"
    )
    status, error, before, names, after = _fresh_process_answer(script, tmp_path)
    assert (status, error) == (200, "Not authenticated")  # the function ran
    assert before == []
    assert names == [
        "authlib_core.functions.crons",
        "authlib_core.functions.http_router",
        "authlib_core.functions.http_router",
        "authlib_core.auth.jwt_config",
        "authlib_core.auth.jwt_config",
        "authlib_core.auth.social_config",
        "authlib_core.auth.social_config",
    ]
    assert after == sorted(FEATURE_MODULES)


def test_the_lazy_public_names_are_the_modules_own() -> None:
    import authlib_core
    import authlib_core.auth
    from authlib_core.auth import jwt_config, social_config
    from authlib_core.functions import crons, http_router

    assert authlib_core.cron_jobs is crons.cron_jobs
    assert (authlib_core.http_action, authlib_core.http_router) == (http_router.http_action, http_router.http_router)
    assert authlib_core.auth.OIDCProvider is jwt_config.OIDCProvider
    assert authlib_core.auth.GitHubSignIn is social_config.GitHubSignIn
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        authlib_core.no_such_name  # noqa: B018
