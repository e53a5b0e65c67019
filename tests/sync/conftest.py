"""Fixtures shared with other suites: the OIDC issuer stand-in and an app whose auth_config.py names it; the dev
server over the example app (functions/, with the auth tables)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest

from authlib_core.config import Settings
from authlib_core.dev.server import DevServer
from authlib_core.runtime import build_runtime
from tests.http.test_external_jwt import app_dir, issuer
from tests.support.node_clients import EXAMPLE_FUNCTIONS

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["app_dir", "example_server", "issuer"]


@pytest.fixture
def example_server(tmp_path: Path) -> Iterator[DevServer]:
    """The real dev server, in-process, over the example app; its terminal output in ``server.out``."""
    settings = Settings(functions_dir=EXAMPLE_FUNCTIONS, sqlite_path=tmp_path / "db.sqlite3")
    dev = DevServer(lambda: build_runtime(settings), EXAMPLE_FUNCTIONS, port=0, out=io.StringIO())
    dev.start_background()
    yield dev
    dev.shutdown()
