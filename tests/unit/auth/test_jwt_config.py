"""auth_config.py providers: parsing, URL policy, and telling JWTs from session tokens."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import RSAKey

from authlib_core.auth.cookies import sign
from authlib_core.auth.jwt_config import (
    CustomJWTProvider,
    OIDCProvider,
    check_provider_url,
    looks_like_jwt,
    parse_providers,
)
from authlib_core.auth.tokens import new_session_id, new_session_token

KEY = RSAKey.generate_key(2048, parameters={"kid": "k"}, private=True)


def test_a_signed_jwt_looks_like_one():
    token = jwt.encode({"alg": "RS256", "kid": "k"}, {"sub": "s"}, KEY)
    assert looks_like_jwt(token)


@given(st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=64))
def test_session_tokens_raw_or_signed_never_look_like_jwts(user_id):
    token = new_session_token(user_id, new_session_id())
    assert token.count(".") == 2  # the same number of dots as a JWT
    assert not looks_like_jwt(token)
    assert not looks_like_jwt(sign(token, "s" * 40))


@pytest.mark.parametrize("value", ["", "a.b", "a.b.c.d", "eyJ4IjoxfQ.e30.x", "bm90IGpzb24.e30.x", "!!!.e30.x"])
def test_other_shapes_are_not_jwts(value):
    # eyJ4IjoxfQ is {"x":1}: a JSON header without alg
    assert not looks_like_jwt(value)


def test_convex_style_dicts_and_dataclasses_parse_alike():
    parsed = parse_providers(
        [
            {"domain": "https://issuer.example/", "applicationID": "app"},
            {"type": "customJwt", "issuer": "iss-1", "jwks": "https://k.example/jwks", "algorithm": "ES256"},
            OIDCProvider("https://other.example", "app2"),
        ]
    )
    assert parsed == (
        OIDCProvider("https://issuer.example", "app"),
        CustomJWTProvider(issuer="iss-1", jwks="https://k.example/jwks", algorithm="ES256"),
        OIDCProvider("https://other.example", "app2"),
    )
    assert parsed[0].domain == "https://issuer.example"  # the trailing slash is ignored, as Convex does


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"domain": "https://a.example", "applicationID": "x", "extra": 1}, "unknown key(s) extra"),
        ({"type": "oidc", "domain": "https://a.example"}, "the only provider type is 'customJwt'"),
        ({"type": "customJwt", "issuer": "i", "jwks": "k", "algorithm": "RS256"}, "jwks is 'k'"),
        ({"type": "customJwt", "issuer": "i", "jwks": "https://k", "algorithm": "none"}, "'none' are refused"),
        ({"domain": " https://a.example", "applicationID": "x"}, "without surrounding spaces"),
        ({"domain": "https://a.example", "applicationID": ""}, "application_id must be a non-empty string"),
    ],
)
def test_malformed_entries_say_which_and_why(entry, words):
    with pytest.raises(ValueError, match="providers\\[1\\]") as info:
        parse_providers([{"domain": "https://ok.example", "applicationID": "ok"}, entry])
    assert words in str(info.value)


def test_custom_claims_must_be_strings():
    with pytest.raises(ValueError, match="claims must map"):
        CustomJWTProvider(issuer="i", jwks="https://k.example", algorithm="RS256", claims={"token_use": 1})


@pytest.mark.parametrize(
    ("url", "allow", "ok"),
    [
        ("https://issuer.example/jwks", False, True),
        ("http://127.0.0.1:9000/jwks", True, True),
        ("http://localhost:9000/jwks", True, True),
        ("http://127.0.0.1:9000/jwks", False, False),
        ("http://issuer.example/jwks", True, False),  # only loopback may be plain http
        ("ftp://issuer.example/jwks", True, False),
        ("https:///nohost", False, False),
    ],
)
def test_provider_urls_are_https_or_opted_in_loopback(url, allow, ok):
    assert (check_provider_url(url, allow_loopback_http=allow) is None) is ok
