"""Identity from external JWTs (functions/auth_config.py) on the Lambda handler and the dev server.

A real OIDC issuer stand-in runs on 127.0.0.1 (discovery document and JWKS over http, allowed for loopback by
``jwt_allow_loopback_http``); tokens are signed with joserfc keys the test generates.
"""

from __future__ import annotations

import base64
import io
import json
import pathlib
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from authlib_core.auth import jwks
from authlib_core.config import Settings
from authlib_core.dev.server import DevServer
from authlib_core.errors import ConfigError, FunctionLoadError
from authlib_core.functions import load_functions
from authlib_core.http.app import HttpApp
from authlib_core.runtime import build_runtime
from tests.http.conftest import Context, captured_logger, make_event
from tests.support.local_http import LocalServer
from tests.support.node_clients import dev_server, ensure_node_modules, run_node

ROOT_DIR = pathlib.Path(__file__).resolve().parents[2]

APP_ID = "client-123"

WHO = textwrap.dedent(
    """
    from authlib_core import get_auth_user_id, query

    @query
    def me(ctx):
        identity = ctx.auth.get_user_identity()
        return {"identity": None if identity is None else identity.to_json(), "userId": get_auth_user_id(ctx)}
    """
)


class Issuer(LocalServer):
    """An OIDC issuer on 127.0.0.1: discovery, JWKS (keys replaceable), request counts per path."""

    def __init__(self) -> None:
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)]
        super().__init__(
            {
                "/.well-known/openid-configuration": lambda: (
                    200,
                    {"Content-Type": "application/json"},
                    {"issuer": self.url, "jwks_uri": f"{self.url}/jwks.json"},
                ),
                "/jwks.json": lambda: (
                    200,
                    {"Content-Type": "application/json"},
                    {"keys": [key.as_dict(private=False) for key in self.keys]},
                ),
            }
        )

    def token(self, key=None, *, alg="RS256", **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": "user-42",
            "aud": APP_ID,
            "iat": now,
            "exp": now + 300,
            "email": "ada@example.com",
            "email_verified": True,
            "name": "Ada",
            "given_name": "Ada",
            "picture": "https://img.example/ada.png",
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        key = key or self.keys[0]
        return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


@pytest.fixture
def issuer():
    jwks.clear_cache()
    server = Issuer()
    yield server
    server.close()
    jwks.clear_cache()


@pytest.fixture
def app_dir(tmp_path, issuer):
    folder = tmp_path / "jwtfns"
    folder.mkdir()
    (folder / "who.py").write_text(WHO)
    (folder / "auth_config.py").write_text(
        "from authlib_core.auth import OIDCProvider\n\n"
        f"providers = [OIDCProvider(domain={issuer.url!r}, application_id={APP_ID!r})]\n"
    )
    yield folder
    for module in list(sys.modules):
        if module.split(".")[0] == "jwtfns":
            del sys.modules[module]


def settings(folder, tmp_path, **overrides):
    return Settings(
        functions_dir=folder, sqlite_path=tmp_path / "jwt.sqlite3", jwt_allow_loopback_http=True, **overrides
    )


@pytest.fixture
def lambda_call(app_dir, tmp_path):
    runtime = build_runtime(settings(app_dir, tmp_path))
    app = HttpApp(lambda: runtime)

    def call(token: str | None):
        headers = {} if token is None else {"authorization": f"Bearer {token}"}
        event = make_event("POST", "/api/query", json.dumps({"path": "who:me", "args": {}}), headers=headers)
        response = app(event, Context())
        return response["statusCode"], json.loads(response["body"])

    yield call
    runtime.database.close()


def test_valid_token_becomes_the_identity_with_convex_claim_names(lambda_call, issuer):
    status, body = lambda_call(issuer.token())
    assert status == 200, body
    identity = body["value"]["identity"]
    assert identity["tokenIdentifier"] == f"{issuer.url}|user-42"
    assert (identity["subject"], identity["issuer"]) == ("user-42", issuer.url)
    assert (identity["email"], identity["emailVerified"], identity["name"]) == ("ada@example.com", True, "Ada")
    assert (identity["givenName"], identity["pictureUrl"]) == ("Ada", "https://img.example/ada.png")
    assert not {"aud", "exp", "iat", "iss", "sub", "given_name", "picture"} & set(identity)
    assert body["value"]["userId"] is None  # get_auth_user_id names this app's own users only


def test_no_header_is_anonymous(lambda_call):
    assert lambda_call(None) == (200, {"status": "success", "value": {"identity": None, "userId": None}})


@pytest.mark.parametrize(
    ("overrides", "code", "words"),
    [
        ({"exp": -60, "iat": -400}, "InvalidAuthHeader", "expired"),
        ({"aud": "someone-else"}, "InvalidAuthHeader", "audience"),
        ({"iss": "https://evil.example"}, "NoAuthProvider", "No auth provider"),
        ({"nbf": +600}, "InvalidAuthHeader", "not valid yet"),
        ({"sub": None}, "InvalidAuthHeader", "sub"),
    ],
)
def test_bad_claims_are_a_401_that_says_why(lambda_call, issuer, overrides, code, words):
    now = int(time.time())  # time claims are given as offsets from the moment the test runs, not when it is collected
    claims = {k: now + v if k in ("exp", "iat", "nbf") else v for k, v in overrides.items()}
    status, body = lambda_call(issuer.token(**claims))
    assert status == 401
    assert body["code"] == code
    assert words in body["message"]


def test_bad_signature_and_foreign_key_are_refused(lambda_call, issuer):
    token = issuer.token()
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    assert lambda_call(tampered)[0] == 401
    assert "signature is invalid" in lambda_call(tampered)[1]["message"]
    impostor = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)  # same kid, other key
    status, body = lambda_call(issuer.token(impostor))
    assert (status, body["code"]) == (401, "InvalidAuthHeader")
    assert "signature is invalid" in body["message"]


def test_a_key_of_another_type_under_the_tokens_kid_is_refused(lambda_call, issuer):
    token = issuer.token()
    issuer.keys = [ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)]
    status, body = lambda_call(token)
    assert (status, body["code"]) == (401, "InvalidAuthHeader")
    assert "could not be checked" in body["message"]


def test_alg_none_and_hs256_are_refused(lambda_call, issuer):
    claims = jwt.decode(issuer.token(), issuer.keys[0]).claims

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none', 'kid': 'k1'})}.{b64(claims)}."
    status, body = lambda_call(unsigned)
    assert (status, body["code"]) == (401, "InvalidAuthHeader")
    assert "'none'" in body["message"]
    secret = OctKey.generate_key(256, parameters={"kid": "k1"})
    status, body = lambda_call(issuer.token(secret, alg="HS256"))
    assert status == 401
    assert "'HS256'" in body["message"]


def test_unknown_kid_refreshes_the_jwks_once_and_picks_up_a_rotated_key(lambda_call, issuer, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(jwks, "_clock", lambda: now[0])
    assert lambda_call(issuer.token())[0] == 200
    assert issuer.hits["/jwks.json"] == 1
    assert lambda_call(issuer.token())[0] == 200
    assert issuer.hits["/jwks.json"] == 1  # cached across requests
    rotated = RSAKey.generate_key(2048, parameters={"kid": "k2"}, private=True)
    issuer.keys = [rotated]  # the issuer rotates: k1 is gone, k2 signs
    now[0] += jwks.REFRESH_INTERVAL  # the last fetch is one refresh interval old
    status, body = lambda_call(issuer.token(rotated))
    assert status == 200, body
    assert issuer.hits["/jwks.json"] == 2  # one refresh found k2
    # a flood of unknown kids costs the issuer nothing more within the refresh interval
    for n in range(5):
        stranger = RSAKey.generate_key(2048, parameters={"kid": f"x{n}"}, private=True)
        status, body = lambda_call(issuer.token(stranger))
        assert (status, body["code"]) == (401, "InvalidAuthHeader")
        assert "does not publish" in body["message"]
    assert issuer.hits["/jwks.json"] == 2
    assert issuer.hits["/.well-known/openid-configuration"] == 1


def test_session_shaped_bearer_tokens_are_not_taken_for_jwts(lambda_call):
    # our own session tokens have two dots too: <userId>.<sessionId>.<secret>
    fake_session = "user1." + "a" * 22 + "." + "b" * 43
    assert lambda_call(fake_session) == (200, {"status": "success", "value": {"identity": None, "userId": None}})


def test_unreachable_issuer_is_a_503_without_internals(tmp_path, app_dir):
    jwks.clear_cache()
    (app_dir / "auth_config.py").write_text(
        "from authlib_core.auth import CustomJWTProvider\n"
        "providers = [CustomJWTProvider(issuer='https://iss.example', jwks='http://127.0.0.1:9/keys', "
        "algorithm='ES256')]\n"
    )
    runtime = build_runtime(settings(app_dir, tmp_path))
    key = ECKey.generate_key("P-256", parameters={"kid": "e1"}, private=True)
    now = int(time.time())
    token = jwt.encode({"alg": "ES256", "kid": "e1"}, {"iss": "https://iss.example", "sub": "s", "exp": now + 60}, key)
    event = make_event(
        "POST", "/api/query", json.dumps({"path": "who:me", "args": {}}), headers={"authorization": f"Bearer {token}"}
    )
    logger, log = captured_logger()
    response = HttpApp(lambda: runtime, logger=logger)(event, Context())
    body = json.loads(response["body"])
    assert (response["statusCode"], body["code"]) == (503, "AuthProviderUnavailable")
    assert "127.0.0.1" not in body["message"]
    assert "GET http://127.0.0.1:9/keys failed" in log.getvalue()  # the operator learns why, from the log
    assert token not in log.getvalue()
    runtime.database.close()


def test_jwt_without_auth_config_is_refused_with_no_auth_provider(tmp_path, issuer):
    folder = tmp_path / "plainfns"
    folder.mkdir()
    (folder / "who.py").write_text(WHO)
    runtime = build_runtime(settings(folder, tmp_path))
    event = make_event(
        "POST",
        "/api/query",
        json.dumps({"path": "who:me", "args": {}}),
        headers={"authorization": f"Bearer {issuer.token()}"},
    )
    response = HttpApp(lambda: runtime)(event, Context())
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["code"] == "NoAuthProvider"
    runtime.database.close()


def test_dev_server_accepts_and_refuses_jwts(app_dir, tmp_path, issuer):
    server = DevServer(lambda: build_runtime(settings(app_dir, tmp_path)), app_dir, port=0, out=io.StringIO())
    server.start_background()
    try:

        def call(token):
            request = urllib.request.Request(
                f"{server.url}/api/query",
                data=json.dumps({"path": "who:me", "args": {}}).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read())

        status, body = call(issuer.token())
        assert status == 200
        assert body["value"]["identity"]["tokenIdentifier"] == f"{issuer.url}|user-42"
        status, body = call(issuer.token(exp=int(time.time()) - 60, iat=int(time.time()) - 400))
        assert (status, body["code"]) == (401, "InvalidAuthHeader")
    finally:
        server.shutdown()


def test_production_refuses_plain_http_issuers(app_dir, tmp_path):
    production = Settings(functions_dir=app_dir, sqlite_path=tmp_path / "x.sqlite3")  # no loopback-http switch
    with pytest.raises(ConfigError, match="AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP"):
        build_runtime(production)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("x = 1\n", "defines neither `providers` nor `social_providers`"),
        ("providers = {'domain': 'https://a.example'}\n", "write a list"),
        ("providers = [{'domain': 'https://a.example'}]\n", "providers[0]: missing key(s) applicationID"),
        (
            "providers = [{'type': 'customJwt', 'issuer': 'https://a', 'jwks': 'https://a/k', 'algorithm': 'HS256'}]\n",
            "HS*",
        ),
        ("providers = [{'domain': 'ftp://a.example', 'applicationID': 'x'}]\n", "https://"),
        ("providers = ['https://a.example']\n", "providers[0]: is a str"),
    ],
)
def test_loader_refuses_a_malformed_auth_config(tmp_path, text, words):
    folder = tmp_path / "badcfg"
    folder.mkdir()
    (folder / "auth_config.py").write_text(text)
    try:
        with pytest.raises(FunctionLoadError) as info:
            load_functions(folder)
        assert "auth_config.py" in str(info.value)
        assert words in str(info.value)
    finally:
        for module in list(sys.modules):
            if module.split(".")[0] == "badcfg":
                del sys.modules[module]


LAMBDA_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    if os.environ.get("HIDE_MODULE"):
        sys.modules[os.environ["HIDE_MODULE"]] = None  # as if not installed: importing it raises ModuleNotFoundError
    from tests.http.conftest import Context, make_event
    from authlib_core.http import lambda_handler
    body = json.dumps({"path": os.environ["CALL_PATH"], "args": {}})
    headers = {"authorization": "Bearer " + os.environ["TOKEN"]} if os.environ.get("TOKEN") else {}
    r = lambda_handler.handler(make_event("POST", "/api/query", body, headers=headers), Context())
    print("RESULT " + json.dumps({"status": r["statusCode"], "body": json.loads(r["body"]),
                                  "joserfc": sys.modules.get("joserfc") is not None}))
    """
)


def run_lambda_handler(tmp_path, functions, call_path, token=None, **env_vars):
    """The module-level Lambda entry point in a fresh interpreter, configured from the environment as on AWS."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT_DIR),
        "AUTHLIB_FUNCTIONS_DIR": str(functions),
        "AUTHLIB_SQLITE_PATH": str(tmp_path / "l.sqlite3"),
        "CALL_PATH": call_path,
        "TOKEN": token or "",
        **env_vars,
    }
    proc = subprocess.run(
        [sys.executable, "-c", LAMBDA_SCRIPT],
        cwd=ROOT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
    return {**result, "stdout": proc.stdout, "stderr": proc.stderr}


def test_apps_without_auth_config_never_import_joserfc(tmp_path):
    result = run_lambda_handler(tmp_path, ROOT_DIR / "tests" / "http" / "apps" / "wireapp", "calls:echo")
    assert (result["status"], result["joserfc"]) == (200, False)


def test_the_lambda_entry_point_reads_the_providers_and_the_loopback_switch_from_the_environment(
    tmp_path, app_dir, issuer
):
    switch = {"AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP": "true"}
    result = run_lambda_handler(tmp_path, app_dir, "who:me", issuer.token(), **switch)
    assert result["status"] == 200, result
    assert result["body"]["value"]["identity"]["tokenIdentifier"] == f"{issuer.url}|user-42"
    assert result["joserfc"] is True
    expired = issuer.token(exp=int(time.time()) - 60, iat=int(time.time()) - 400)
    result = run_lambda_handler(tmp_path, app_dir, "who:me", expired, **switch)
    assert (result["status"], result["body"]["code"]) == (401, "InvalidAuthHeader")


PEOPLE_SCHEMA = textwrap.dedent(
    """
    from authlib_core import define_schema, define_table, v

    schema = define_schema({
        "people": define_table({"tokenIdentifier": v.string(), "name": v.optional(v.string())})
            .index("by_token", ["tokenIdentifier"]),
    })
    """
)

# the "store user" example of docs/auth.md, verbatim
PEOPLE = textwrap.dedent(
    """
    from authlib_core import ConvexError, mutation

    def current_person(ctx):
        identity = ctx.auth.get_user_identity()
        if identity is None:
            return None
        return ctx.db.query("people").with_index(
            "by_token", lambda q: q.eq("tokenIdentifier", identity.token_identifier)).unique()

    @mutation
    def store(ctx):
        identity = ctx.auth.get_user_identity()
        if identity is None:
            raise ConvexError("Not signed in")
        person = current_person(ctx)
        if person is not None:
            return person["_id"]
        return ctx.db.insert("people", {"tokenIdentifier": identity.token_identifier, "name": identity.name})
    """
)


def test_external_identities_map_to_the_apps_own_rows_by_token_identifier(app_dir, tmp_path, issuer):
    (app_dir / "schema.py").write_text(PEOPLE_SCHEMA)
    (app_dir / "people.py").write_text(PEOPLE)
    runtime = build_runtime(settings(app_dir, tmp_path))
    app = HttpApp(lambda: runtime)

    def store(token):
        event = make_event(
            "POST",
            "/api/mutation",
            json.dumps({"path": "people:store", "args": {}}),
            headers={"authorization": f"Bearer {token}"},
        )
        return json.loads(app(event, Context())["body"])["value"]

    first = store(issuer.token())
    assert store(issuer.token()) == first  # the same person on the next sign-in
    assert store(issuer.token(sub="user-43")) != first
    runtime.database.close()


def test_cognito_access_tokens_via_a_custom_provider_with_pinned_claims(app_dir, tmp_path, issuer):
    (app_dir / "auth_config.py").write_text(
        "from authlib_core.auth import CustomJWTProvider\n"
        f"providers = [CustomJWTProvider(issuer={issuer.url!r}, jwks={issuer.url + '/jwks.json'!r}, "
        "algorithm='RS256', claims={'client_id': 'client-123', 'token_use': 'access'})]\n"
    )
    runtime = build_runtime(settings(app_dir, tmp_path))
    app = HttpApp(lambda: runtime)

    def call(token):
        event = make_event(
            "POST",
            "/api/query",
            json.dumps({"path": "who:me", "args": {}}),
            headers={"authorization": f"Bearer {token}"},
        )
        response = app(event, Context())
        return response["statusCode"], json.loads(response["body"])

    access = {"aud": None, "client_id": APP_ID, "token_use": "access", "custom": {"plan": "pro", "seats": 3}}
    status, body = call(issuer.token(**access))
    assert status == 200, body
    identity = body["value"]["identity"]
    assert identity["client_id"] == APP_ID
    assert (identity["custom.plan"], identity["custom.seats"]) == ("pro", 3.0)  # flattened, as Convex does
    assert identity["email_verified"] is True  # custom providers keep claim names as sent
    assert "picture" in identity
    status, body = call(issuer.token(**{**access, "token_use": "id"}))
    assert (status, body["code"]) == (401, "InvalidAuthHeader")
    assert "token_use" in body["message"]
    runtime.database.close()


@pytest.mark.node
def test_the_published_convex_client_sends_the_jwt_with_set_auth(app_dir, tmp_path, issuer):
    ensure_node_modules()
    with dev_server(tmp_path / "node", app_dir, {"AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP": "true"}) as server:
        now = int(time.time())
        proc = run_node(
            "convex-jwt.mjs",
            {
                "CONVEX_URL": server.url,
                "GOOD_TOKEN": issuer.token(),
                "EXPIRED_TOKEN": issuer.token(exp=now - 60, iat=now - 400),
            },
        )
        assert proc.returncode == 0, proc.stderr + proc.stdout + server.output()
    result = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["anonymous"] == {"identity": None, "userId": None}
    assert result["signedIn"]["identity"]["tokenIdentifier"] == f"{issuer.url}|user-42"
    assert result["signedIn"]["userId"] is None
    assert "expired" in result["expired"]


def test_providers_without_the_jwt_extra_fail_naming_it(tmp_path, app_dir, issuer):
    # joserfc absent (None in sys.modules makes its import raise ModuleNotFoundError, as when not installed)
    switch = {"AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP": "true", "HIDE_MODULE": "joserfc"}
    result = run_lambda_handler(tmp_path, app_dir, "who:me", issuer.token(), **switch)
    assert result["body"]["status"] == "error", result  # a server error to the caller, the cause in the log
    assert "Server Error" in result["body"]["errorMessage"], result
    assert result["joserfc"] is False
    logged = result["stderr"] + result["stdout"]
    assert "authlib-core[jwt]" in logged, logged
    assert "functions/auth_config.py declares 1 identity provider" in logged, logged
    # the same app with joserfc present answers (the extra is all it lacked)
    switch.pop("HIDE_MODULE")
    assert run_lambda_handler(tmp_path, app_dir, "who:me", issuer.token(), **switch)["status"] == 200
