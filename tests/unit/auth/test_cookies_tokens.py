"""Cookie signing (Better Auth's exact format), secret rotation, tampering, and the session token format."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

import pytest

from authlib_core.auth import cookies as cookies_module
from authlib_core.auth.cookies import (
    VERIFIED_CACHE_SIZE,
    CookieNames,
    encode_uri_component,
    expire_cookie,
    parse_cookie_header,
    serialize_cookie,
    sign,
    sign_cookie_value,
    unsign,
)
from authlib_core.auth.tokens import (
    hash_token,
    is_session_id,
    new_session_id,
    new_session_token,
    parse_token,
    token_matches,
)

VECTOR_TOKEN = "7ayOvHkI4X792sdED5mmJKENl66NsUjq"
VECTOR_SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
VECTOR_SIGNATURE = "YkDfaqQCkea+u+YErw1CphaS5ChlB3wpMHGNiVFUYCY="


def test_reference_signature_vector() -> None:
    assert sign(VECTOR_TOKEN, VECTOR_SECRET) == f"{VECTOR_TOKEN}.{VECTOR_SIGNATURE}"
    assert sign_cookie_value(VECTOR_TOKEN, VECTOR_SECRET) == (
        "7ayOvHkI4X792sdED5mmJKENl66NsUjq.YkDfaqQCkea%2Bu%2BYErw1CphaS5ChlB3wpMHGNiVFUYCY%3D"
    )
    assert unsign(sign_cookie_value(VECTOR_TOKEN, VECTOR_SECRET), [VECTOR_SECRET]) == VECTOR_TOKEN
    assert unsign(sign(VECTOR_TOKEN, VECTOR_SECRET), [VECTOR_SECRET]) == VECTOR_TOKEN  # decoded form (bearer)


def test_reference_python_equivalent() -> None:
    token = new_session_token("user1", new_session_id())
    sig = base64.b64encode(hmac.new(b"k" * 32, token.encode(), hashlib.sha256).digest()).decode()
    assert sign_cookie_value(token, "k" * 32) == urllib.parse.quote(f"{token}.{sig}", safe="!~*'()")


def test_encode_uri_component_matches_javascript() -> None:
    assert encode_uri_component("a+b/c=d e.f-g_h~i!j*k'l(m)") == "a%2Bb%2Fc%3Dd%20e.f-g_h~i!j*k'l(m)"


def test_rotation_first_signs_any_verifies() -> None:
    old, new = "old-secret-" + "x" * 30, "new-secret-" + "y" * 30
    cookie = sign_cookie_value("tok.en", old)
    assert unsign(cookie, [new, old]) == "tok.en"
    assert unsign(cookie, [new]) is None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c[:-4],  # truncated signature
        lambda c: c.replace("%3D", ""),  # padding removed
        lambda c: "X" + c[1:],  # token changed
        lambda c: c.split(".")[0],  # no signature
        lambda c: c[: c.rindex(".")] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D",  # forged signature
        lambda c: "",
        lambda c: "%ZZ%",
        lambda c: "%C3%28." + c.split(".", 1)[1],  # invalid UTF-8
    ],
)
def test_tampered_values_are_rejected(mutate: object) -> None:
    cookie = sign_cookie_value(VECTOR_TOKEN, VECTOR_SECRET)
    assert unsign(mutate(cookie), [VECTOR_SECRET]) is None  # type: ignore[operator]


def test_foreign_secret_is_rejected() -> None:
    assert unsign(sign_cookie_value(VECTOR_TOKEN, "another-secret-" + "z" * 30), [VECTOR_SECRET]) is None


def test_remembered_answers_depend_on_the_secrets_as_well_as_the_text() -> None:
    old, new = "old-secret-" + "r" * 30, "new-secret-" + "s" * 30
    cookie = sign_cookie_value("remembered.token", old)
    for _ in range(2):  # the second round is answered from what the first remembered
        assert unsign(cookie, [old]) == "remembered.token"
        assert unsign(cookie, (new, old)) == "remembered.token"
        assert unsign(cookie, [new]) is None  # a secret removed: the cookie no longer verifies
        assert unsign(cookie[:-4], [old]) is None


def test_a_repeated_cookie_is_verified_once() -> None:
    cookie = sign_cookie_value("once.verified", VECTOR_SECRET)
    computed: list[str] = []
    original = cookies_module._signature

    def counting(value: str, secret: str) -> str:
        computed.append(value)
        return original(value, secret)

    cookies_module._signature = counting  # type: ignore[assignment]
    try:
        assert [unsign(cookie, (VECTOR_SECRET,)) for _ in range(3)] == ["once.verified"] * 3
        forged = cookie[: cookie.rindex(".")] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D"
        assert unsign(forged, (VECTOR_SECRET,)) is None
    finally:
        cookies_module._signature = original  # type: ignore[assignment]
    assert computed == ["once.verified", "once.verified"]  # the valid cookie once, the forged one once


def test_text_too_long_to_remember_is_still_verified() -> None:
    value = "v" * 500
    signed = sign_cookie_value(value, VECTOR_SECRET)
    assert unsign(signed, [VECTOR_SECRET]) == value
    assert unsign(signed[:-4], [VECTOR_SECRET]) is None
    cache_size = cookies_module._unsign_cached.cache_info().currsize
    assert unsign(signed, [VECTOR_SECRET]) == value
    assert cookies_module._unsign_cached.cache_info().currsize == cache_size  # not kept
    assert cache_size <= VERIFIED_CACHE_SIZE


def test_set_cookie_strings_match_better_auth() -> None:
    http = CookieNames("better-auth", secure=False)
    https = CookieNames("better-auth", secure=True)
    assert http.session_token == "better-auth.session_token"
    assert https.session_token == "__Secure-better-auth.session_token"
    assert serialize_cookie(http.session_token, "v", max_age=604800, secure=False) == (
        "better-auth.session_token=v; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
    )
    assert serialize_cookie(https.session_token, "v", max_age=604800, secure=True) == (
        "__Secure-better-auth.session_token=v; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax"
    )
    assert serialize_cookie(http.dont_remember, "v", max_age=None, secure=False) == (
        "better-auth.dont_remember=v; Path=/; HttpOnly; SameSite=Lax"
    )
    assert (
        expire_cookie(http.session_data, secure=False)
        == "better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    )


def test_cookie_header_first_occurrence_wins() -> None:
    assert parse_cookie_header("a=1; b=2; a=3;  c = x=y ") == {"a": "1", "b": "2", "c": "x=y"}


def test_tokens_carry_256_bits_and_locate_the_session() -> None:
    session_id = new_session_id()
    token = new_session_token("k57abc_DEF-9", session_id)
    user_id, sid, secret = token.split(".")
    assert (user_id, sid) == ("k57abc_DEF-9", session_id)
    assert len(base64.urlsafe_b64decode(secret + "=")) == 32
    parsed = parse_token(token)
    assert parsed is not None
    assert (parsed.user_id, parsed.session_id) == ("k57abc_DEF-9", session_id)
    assert is_session_id(session_id)
    assert token_matches(token, hash_token(token))
    assert not token_matches(token[:-1] + ("A" if token[-1] != "A" else "B"), hash_token(token))
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert len({new_session_token("u", session_id) for _ in range(100)}) == 100


@pytest.mark.parametrize(
    "bad", ["", "a.b", "a.b.c", "u." + "s" * 22 + "." + "x" * 42, "u/1." + "s" * 22 + "." + "x" * 43]
)
def test_malformed_tokens_do_not_parse(bad: str) -> None:
    assert parse_token(bad) is None
