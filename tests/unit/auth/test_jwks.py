"""The per-process cache of identity providers' documents: TTL, forced refresh limits, outages, redirects."""

from __future__ import annotations

import pytest

from authlib_core.auth import jwks
from authlib_core.errors import AuthProviderUnavailableError
from tests.support.local_http import LocalServer


class Server(LocalServer):
    """Serves a JSON document at /doc (with a Cache-Control header), a redirect at /away, a JSON list at /list."""

    def __init__(self) -> None:
        self.document: dict[str, object] = {"version": 1}
        self.cache_control = ""
        self.status = 200
        super().__init__(
            {
                "/doc": lambda: (
                    self.status,
                    {"Cache-Control": self.cache_control} if self.cache_control else {},
                    self.document,
                ),
                "/away": lambda: (302, {"Location": "http://idp.invalid/doc"}, b""),
                "/list": lambda: (200, {}, [1, 2]),
            }
        )

    @property
    def total(self) -> int:
        return sum(self.hits.values())


@pytest.fixture
def server():
    jwks.clear_cache()
    running = Server()
    yield running
    running.close()
    jwks.clear_cache()


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(jwks, "_clock", lambda: now[0])
    return now


def fetch(url: str, *, refresh: bool = False) -> dict[str, object]:
    return jwks.fetch_json(url, allow_loopback_http=True, refresh=refresh)


def test_documents_are_cached_for_their_max_age(server, clock):
    server.cache_control = "public, max-age=300"
    assert fetch(f"{server.url}/doc") == {"version": 1}
    server.document = {"version": 2}
    clock[0] += 299
    assert fetch(f"{server.url}/doc") == {"version": 1}
    assert server.total == 1
    clock[0] += 1
    assert fetch(f"{server.url}/doc") == {"version": 2}
    assert server.total == 2


def test_without_cache_control_the_default_ttl_applies_and_tiny_max_ages_are_raised(server, clock):
    fetch(f"{server.url}/doc")
    clock[0] += jwks.DEFAULT_TTL - 1
    fetch(f"{server.url}/doc")
    assert server.total == 1
    jwks.clear_cache()
    server.cache_control = "max-age=0"
    fetch(f"{server.url}/doc")
    clock[0] += jwks.MIN_TTL - 1
    fetch(f"{server.url}/doc")
    assert server.total == 2  # max-age=0 would mean a fetch per token; MIN_TTL bounds it


def test_forced_refreshes_are_limited_per_url(server, clock):
    fetch(f"{server.url}/doc")
    server.document = {"version": 2}
    for _ in range(20):
        assert fetch(f"{server.url}/doc", refresh=True) == {"version": 1}
    assert server.total == 1  # a flood of unknown kids right after a fetch costs the issuer nothing
    clock[0] += jwks.REFRESH_INTERVAL
    assert fetch(f"{server.url}/doc", refresh=True) == {"version": 2}
    assert fetch(f"{server.url}/doc", refresh=True) == {"version": 2}
    assert server.total == 2


def test_an_outage_keeps_the_keys_already_held(server, clock):
    server.cache_control = "max-age=60"
    fetch(f"{server.url}/doc")
    server.status = 500
    clock[0] += 61
    assert fetch(f"{server.url}/doc") == {"version": 1}
    assert server.total == 2


def test_an_outage_with_nothing_held_fails_fast_then_retries(server, clock):
    server.status = 503
    with pytest.raises(AuthProviderUnavailableError) as raised:
        fetch(f"{server.url}/doc")
    assert "retry" in raised.value.message
    assert server.url not in raised.value.message  # the URL is for the log only
    assert server.url in raised.value.detail
    with pytest.raises(AuthProviderUnavailableError):
        fetch(f"{server.url}/doc")
    assert server.total == 1  # within FAILURE_BACKOFF: no second request
    server.status = 200
    clock[0] += jwks.FAILURE_BACKOFF
    assert fetch(f"{server.url}/doc") == {"version": 1}


def test_a_body_that_is_not_a_json_object_is_refused(server, clock):
    with pytest.raises(AuthProviderUnavailableError) as raised:
        fetch(f"{server.url}/list")
    assert "not a JSON object" in raised.value.detail


def test_redirects_to_a_refused_url_are_not_followed(server, clock):
    with pytest.raises(AuthProviderUnavailableError) as raised:
        fetch(f"{server.url}/away")
    assert "http://idp.invalid/doc" in raised.value.detail
    assert "https" in raised.value.detail


def test_plain_http_needs_the_loopback_switch():
    with pytest.raises(AuthProviderUnavailableError) as raised:
        jwks.fetch_json("http://127.0.0.1:9/doc", allow_loopback_http=False)
    assert "AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP" in raised.value.detail
