"""Read the server secret from SSM Parameter Store at cold start, without boto3.

In Lambda the secret is never in the template or the function configuration: ``AUTHLIB_SECRETS_PARAMETER``
names an SSM SecureString parameter, and this module asks the AWS Parameters and Secrets Lambda
Extension (a layer, listening on ``localhost:2773``) for its decrypted value. That is one local
HTTP request with the standard library -- boto3 stays confined to the DynamoDB engine, and nothing
extra is imported on the cold path. (Why the extension and not a CloudFormation dynamic reference:
docs/deploy.md, "The server secret".)

Lambda starts the function's init right after the extension *registers*, not when it is ready, so
the first request may be refused for a few milliseconds; :func:`fetch_ssm_parameter` retries
until ``timeout_s``. The value never appears in an exception message or a log line.

Example:
    >>> fetch_ssm_parameter("/authlib-core/prod/secrets", {"AWS_SESSION_TOKEN": "t"}, timeout_s=0.05)
    Traceback (most recent call last):
    ...
    authlib_core.errors.ConfigError: Could not read the SSM parameter '/authlib-core/prod/secrets' ...
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from typing import TYPE_CHECKING

from authlib_core.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DEFAULT_EXTENSION_PORT", "fetch_ssm_parameter"]

#: The extension's default port (``PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`` overrides it).
DEFAULT_EXTENSION_PORT = 2773


def fetch_ssm_parameter(name: str, environ: Mapping[str, str], *, timeout_s: float = 3.0) -> str:
    """Return the decrypted value of the SSM parameter ``name`` via the Lambda extension.

    Raises:
        ConfigError: the extension is unreachable or refused (e.g. missing ``ssm:GetParameter``
            permission, no such parameter) for longer than ``timeout_s``; the message names the
            parameter and the last status, never the value.
    """
    port = int(environ.get("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT") or DEFAULT_EXTENSION_PORT)
    token = environ.get("AWS_SESSION_TOKEN", "")
    path = "/systemsmanager/parameters/get?" + urllib.parse.urlencode({"name": name, "withDecryption": "true"})
    deadline = time.monotonic() + timeout_s
    delay = 0.01
    last = "no answer"
    while True:
        try:
            connection = http.client.HTTPConnection("localhost", port, timeout=max(0.05, deadline - time.monotonic()))
            try:
                connection.request("GET", path, headers={"X-Aws-Parameters-Secrets-Token": token})
                response = connection.getresponse()
                body = response.read()
            finally:
                connection.close()
            if response.status == 200:
                try:
                    value = json.loads(body)["Parameter"]["Value"]
                except (ValueError, KeyError, TypeError):
                    raise ConfigError(
                        f"The Parameters and Secrets extension answered {name!r} without a value."
                    ) from None
                if not isinstance(value, str) or not value.strip():
                    raise ConfigError(f"The SSM parameter {name!r} is empty.")
                return value
            last = f"HTTP {response.status}"
            # 400 while the extension is still starting; 403/404 are final but cheap to retry briefly.
        except OSError as exc:
            last = type(exc).__name__
        if time.monotonic() + delay > deadline:
            raise ConfigError(
                f"Could not read the SSM parameter {name!r} through the AWS Parameters and Secrets Lambda "
                f"Extension on localhost:{port} ({last}). Check that the function has the extension layer, "
                f"ssm:GetParameter on the parameter (and kms:Decrypt on its key when that is a customer managed key: "
                f"the template's AppEnvironmentKmsKeyArn), and that the parameter exists (docs/deploy.md)."
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
