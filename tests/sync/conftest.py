"""Fixtures shared with other suites: the OIDC issuer stand-in and an app whose auth_config.py names it."""

from tests.http.test_external_jwt import app_dir, issuer

__all__ = ["app_dir", "issuer"]
