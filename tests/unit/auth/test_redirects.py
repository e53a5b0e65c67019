"""callbackURL → redirect target: the attacks of issue 13 (items 1 and 2), and agreement with a WHATWG URL parser.

``ada_url`` is the WHATWG URL parser Node.js uses; whatever :func:`redirect_target` accepts must land, when a browser
follows it from the server's own page, on the server's origin or a trusted one.
"""

from __future__ import annotations

import ada_url
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authlib_core.auth.origin import OriginPolicy, origin_of
from authlib_core.auth.redirects import UnsafeHeaderValueError, header_value, redirect_target
from authlib_core.auth.transport import APIError, AuthHttpRequest

BASE = "https://api.example.com"
TRUSTED = "https://app.example.com"
POLICY = OriginPolicy((TRUSTED, "https://*.preview.example.com"))
REQUEST = AuthHttpRequest("POST", "/sign-in/email", base_url=BASE)


def refused(url: str) -> APIError:
    with pytest.raises(APIError) as caught:
        redirect_target(url, REQUEST, POLICY)
    return caught.value


@pytest.mark.parametrize(
    "url",
    [
        "/x\r\nSet-Cookie: injected=1",  # header injection
        "/x\nLocation: https://evil.example",
        "/\t/evil.example",  # WHATWG deletes tab and newline: //evil.example
        "/\n/evil.example",
        "/\r/evil.example",
        "\t//evil.example",
        " //evil.example",  # WHATWG strips leading spaces: protocol-relative
        "//evil.example ",
        "/\\evil.example",  # WHATWG reads \\ as /
        "/x\x00",
        "/x\x7f",
        "/" + "a" * 2048,
    ],
)
def test_malformed_callbacks_are_400(url: str) -> None:
    error = refused(url)
    assert (error.status, error.code) == (400, "INVALID_CALLBACK_URL")
    assert error.message.startswith("Invalid callbackURL: ")


def test_messages_name_the_problem() -> None:
    assert refused("/\t/evil.example").message == (
        "Invalid callbackURL: it contains a control character (U+0009); browsers delete or reject these, so the page "
        "reached would not be the one checked. Percent-encode it or remove it."
    )
    assert refused("/\\evil").message == (
        "Invalid callbackURL: it contains a backslash, which browsers read as '/'; use '/' or percent-encode it as %5C"
    )
    assert refused(" /x").message == "Invalid callbackURL: it starts or ends with a space; remove the spaces"


@pytest.mark.parametrize(
    "url",
    ["//evil.example/x", "https://evil.example/", "http://app.example.com/", "https:evil.example", "javascript:x"],
)
def test_other_sites_are_403(url: str) -> None:
    error = refused(url)
    assert (error.status, error.code, error.message) == (403, "INVALID_CALLBACK_URL", "Invalid callbackURL")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/dashboard?tab=1#top", "/dashboard?tab=1#top"),
        ("/€", "/%E2%82%AC"),  # non-Latin-1: percent-encoded as a browser sends it
        ("/caf\u00e9", "/caf%C3%A9"),
        ("/a b", "/a%20b"),
        ("/already%20encoded", "/already%20encoded"),
        (f"{TRUSTED}/after", f"{TRUSTED}/after"),
        ("https://pr-1.preview.example.com/x", "https://pr-1.preview.example.com/x"),
        (f"{BASE}/own", f"{BASE}/own"),
    ],
)
def test_accepted_callbacks_are_header_safe(url: str, expected: str) -> None:
    target = redirect_target(url, REQUEST, POLICY)
    assert target == expected
    assert header_value("Location", target) == target
    assert ada_url.URL(ada_url.join_url(BASE + "/login", target)).origin in (BASE, TRUSTED, origin_of(url))


def test_header_value_refuses_framing_characters() -> None:
    for value in ("a\r\nb", "a\nb", "a\x00", "\u20ac"):
        with pytest.raises(UnsafeHeaderValueError):
            header_value("Location", value)


_ALPHABET = st.sampled_from(
    ["/", "\\", "\t", "\n", "\r", " ", ".", ":", "@", "?", "#", "%", "2", "F", "e", "x", "€", "\x00", "\x0c", "\x1f"]
)
_PIECES = st.sampled_from(
    ["https:", "http:", "//", "evil.example", "app.example.com", "api.example.com", "%2F", "%5C", "javascript:"]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_ALPHABET, _PIECES), min_size=1, max_size=12).map("".join))
def test_whatever_is_accepted_lands_on_a_trusted_origin(url: str) -> None:
    try:
        target = redirect_target(url, REQUEST, POLICY)
    except APIError as error:
        status = error.status
        assert status in (400, 403)
        return
    header_value("Location", target)
    landed = ada_url.URL(ada_url.join_url(BASE + "/login", target)).origin
    assert landed in (BASE, TRUSTED) or landed.endswith(".preview.example.com"), (url, target, landed)
