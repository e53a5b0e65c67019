"""The example app's functions (functions/myData.py), tested the way a user tests theirs: authlib_core.testing."""

from __future__ import annotations

from pathlib import Path

import pytest

from authlib_core import ConvexError
from authlib_core.errors import ArgumentValidationError
from authlib_core.testing import TestBackend

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


@pytest.fixture
def t():
    with TestBackend(FUNCTIONS) as backend:
        yield backend


def test_notes_are_added_listed_and_removed(t: TestBackend) -> None:
    alice = t.create_user(email="alice@example.com")
    first = alice.mutation("myData:add", text="one")
    alice.mutation("myData:add", text="two")
    assert [note["text"] for note in alice.query("myData:getMyData")] == ["one", "two"]
    alice.mutation("myData:remove", id=first)
    assert [note["text"] for note in alice.query("myData:getMyData")] == ["two"]


def test_notes_are_private_to_their_owner(t: TestBackend) -> None:
    alice, bob = t.create_user(email="alice@example.com"), t.create_user(email="bob@example.com")
    note = alice.mutation("myData:add", text="mine")
    assert bob.query("myData:getMyData") == []
    with pytest.raises(ConvexError) as raised:
        bob.mutation("myData:remove", id=note)
    assert raised.value.data == {"code": "NOT_FOUND"}
    assert [n["userId"] for n in t.table("myData")] == [alice.user_id]


def test_signed_out_callers_get_the_errors_the_page_shows(t: TestBackend) -> None:
    with pytest.raises(ConvexError, match="Not authenticated"):
        t.query("myData:getMyData")
    with pytest.raises(ConvexError) as raised:
        t.mutation("myData:add", text="x")
    assert raised.value.data == {"code": "UNAUTHENTICATED"}


def test_arguments_are_validated(t: TestBackend) -> None:
    alice = t.create_user()
    with pytest.raises(ArgumentValidationError, match="text"):
        alice.mutation("myData:add", text=5)
    with pytest.raises(ArgumentValidationError):
        alice.mutation("myData:remove", id="not-an-id")
