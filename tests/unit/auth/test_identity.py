from __future__ import annotations

import dataclasses

import pytest

from authlib_core.auth import NoAuth, StaticAuth, UserIdentity, get_auth_user_id


@dataclasses.dataclass
class Ctx:
    auth: object


def test_to_json_uses_convex_camel_case_and_omits_unset_fields() -> None:
    identity = UserIdentity(
        subject="users|1",
        token_identifier="https://issuer|users|1",
        issuer="https://issuer",
        email="a@example.com",
        email_verified=True,
        session_id="s1",
        extra={"role": "admin"},
    )
    assert identity.to_json() == {
        "role": "admin",
        "subject": "users|1",
        "tokenIdentifier": "https://issuer|users|1",
        "issuer": "https://issuer",
        "email": "a@example.com",
        "emailVerified": True,
        "sessionId": "s1",
    }
    assert UserIdentity("u", "i|u", "i").to_json() == {"subject": "u", "tokenIdentifier": "i|u", "issuer": "i"}


def test_extra_claims_cannot_override_the_standard_ones() -> None:
    identity = UserIdentity("u", "i|u", "i", extra={"subject": "forged"})
    assert identity.to_json()["subject"] == "u"


def test_get_auth_user_id() -> None:
    assert get_auth_user_id(Ctx(StaticAuth(UserIdentity("users|7", "i|users|7", "i")))) == "users|7"  # type: ignore[arg-type]
    assert get_auth_user_id(Ctx(NoAuth())) is None  # type: ignore[arg-type]
    assert get_auth_user_id(Ctx(StaticAuth(None))) is None  # type: ignore[arg-type]


def test_identity_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        UserIdentity("u", "i|u", "i").subject = "x"  # type: ignore[misc]
