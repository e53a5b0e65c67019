"""The Lambda layer keeps botocore's models only for the services authlib-core creates clients of (infra/Makefile).

botocore loads ``data/<service>/`` when a client of that service is created; the build deletes every other model
(31 of its 32 MB). A client of a service left out fails on Lambda with ``UnknownServiceError``, so every service
name the library passes to ``create_client`` must be in the Makefile's ``BOTOCORE_SERVICES``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def kept_services() -> set[str]:
    makefile = (ROOT / "infra" / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^BOTOCORE_SERVICES := (.*)$", makefile, re.MULTILINE)
    assert match, "infra/Makefile has no BOTOCORE_SERVICES line"
    return {name for name in match.group(1).split() if not name.startswith("$(")}


#: Packages that never run in a function: the command line (``authlib-core env`` calls SSM from the operator's
#: machine; it imports the dev server, which the artifact leaves out) and what the Makefile removes.
NOT_ON_LAMBDA = ("cli", "dev", "scaffold", "testing")


def created_services() -> dict[str, list[str]]:
    """Service names given as a literal to ``create_client(...)`` / ``client(...)`` in authlib_core's Lambda code."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "authlib_core").rglob("*.py")):
        if path.relative_to(ROOT / "authlib_core").parts[0] in NOT_ON_LAMBDA:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if node.func.attr not in ("create_client", "client"):
                continue
            keywords = (k.value for k in node.keywords if k.arg == "service_name")
            name = node.args[0] if node.args else next(keywords, None)
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found.setdefault(name.value, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_service_the_library_calls_keeps_its_botocore_model() -> None:
    created = created_services()
    assert {"dynamodb", "sesv2"} <= created.keys(), created  # the scan finds the clients it must find
    missing = {name: where for name, where in created.items() if name not in kept_services()}
    assert not missing, f"add these services to BOTOCORE_SERVICES in infra/Makefile: {missing}"


def test_the_makefile_keeps_no_model_nothing_uses() -> None:
    assert kept_services() <= set(created_services()), "BOTOCORE_SERVICES lists a service no code creates a client of"
