"""Every shape check refuses a value with a trailing newline (a ``$`` in a pattern would let ``"x\\n"`` through)."""

from __future__ import annotations

import pytest

from authlib_core.auth.tokens import is_session_id, new_session_id, new_session_token, parse_token
from authlib_core.auth.validation import is_valid_email
from authlib_core.dev.websocket import sync_client_version
from authlib_core.schema import SchemaDefinitionError, validate_identifier


def test_tokens_and_handles():
    session_id = new_session_id()
    token = new_session_token("user1", session_id)
    assert parse_token(token) is not None
    assert parse_token(token + "\n") is None
    assert is_session_id(session_id)
    assert not is_session_id(session_id + "\n")
    with pytest.raises(ValueError, match="URL-safe base64"):
        new_session_token("user1", session_id + "\n")


def test_email_addresses():
    assert is_valid_email("ada@example.com")
    assert not is_valid_email("ada@example.com\n")


def test_identifiers():
    assert validate_identifier("notes", "table name") == "notes"
    with pytest.raises(SchemaDefinitionError, match="is not a valid identifier"):
        validate_identifier("notes\n", "table name")


def test_sync_paths():
    assert sync_client_version("/api/1.49.0/sync") == (True, "1.49.0")
    assert sync_client_version("/api/1.49.0/sync\n") == (False, None)
