"""Cold start of the BUILT Lambda handler vs a bare Powertools + boto3 baseline, in fresh processes.

Each run starts a fresh ``python3.13 -I -S`` (stdlib + the function's artifact and the dependencies layer only,
like /var/task and /opt/python), imports the
handler and answers one *authenticated* ``POST /api/query`` (``myData:getMyData`` with a signed session cookie;
a user and three notes were seeded beforehand) against DynamoDB served by moto's server mode on 127.0.0.1.
The baseline, in the same run and interpreter: a bare ``APIGatewayHttpResolver`` + ``boto3.client("dynamodb")``
whose one route makes the same DynamoDB calls with the same parameters (recorded from ours) and returns the same
JSON. Figures: import time, first response (import + first invocation), medians over ``--runs`` with the spread.
``--importtime`` adds the top ``-X importtime`` offenders of our handler.

Without a built artifact (a fresh clone that has not run ``sam build``) it falls back to the worktree's sources
and the current interpreter (``-I``, with site-packages), and says so.

Usage:  source scripts/lib/sam.sh && ensure_sam_venv
        AUTHLIB_BUILD_ARCH=x86_64 .venv-sam/bin/sam build --build-in-source --build-dir .aws-sam/ci/build-x86_64 \\
            --parameter-overrides Architecture=x86_64
        PYTHONPATH=. python -m bench.cold_start [--artifact .aws-sam/ci/build-x86_64/QueryFunction] [--runs 15]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import ROOT, SECRET, Recorder, Row, dynamodb_stack, fmt, median_spread, query_event

SECTION = "1 cold start"
DEFAULT_ARTIFACT = ROOT / ".aws-sam/ci/build-x86_64/QueryFunction"

PROBE = r"""
import json, os, sys, time
t0 = time.perf_counter()
sys.path[0:0] = sys.argv[1].split(os.pathsep)  # /var/task, then /opt/python, as on Lambda
mode = sys.argv[2]
event = json.loads(sys.argv[3])
if mode == "ours":
    from authlib_core.http.lambda_handler import handler
else:
    import os, pickle
    import boto3
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from botocore import xform_name
    with open(sys.argv[4], "rb") as f:
        calls = pickle.load(f)
    client = boto3.client("dynamodb", endpoint_url=os.environ["AUTHLIB_DYNAMODB_ENDPOINT_URL"], region_name="us-east-1")
    plan = [(getattr(client, xform_name(name)), params) for name, params in calls]
    app = APIGatewayHttpResolver()
    @app.post("/api/query")
    def q():
        body = json.loads(app.current_event.body or "{}")
        if not app.current_event.cookies or body.get("path") != "myData:getMyData":
            return Response(401, "application/json", "{}")
        items = []
        for method, params in plan:  # the documents: the last answer that carries some (TransactGetItems)
            got = method(**params)
            found = [r.get("Item", {}) for r in got.get("Responses", [])] + got.get("Items", [])
            items = [i for i in found if "doc" in i] or items
        value = [json.loads(item["doc"]["S"]) for item in items]
        return Response(200, "application/json",
                        json.dumps({"status": "success", "value": value}, separators=(",", ":"), sort_keys=True))
    def handler(e, c):
        return app.resolve(e, c)
t1 = time.perf_counter()
class Ctx:
    aws_request_id = "bench"; function_name = "bench"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
response = handler(event, Ctx())
t2 = time.perf_counter()
body = json.loads(response["body"])
result = {"import_ms": (t1 - t0) * 1e3, "first_response_ms": (t2 - t0) * 1e3}
print(json.dumps({**result, "status": response["statusCode"], "items": len(body.get("value") or [])}))
"""


def _lambda_python() -> str | None:
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(str(p) for p in pyenv.glob("3.13*/bin/python3.13"))
    for candidate in (os.environ.get("AUTHLIB_LAMBDA_PYTHON"), "python3.13", *found):
        if candidate and shutil.which(candidate):
            out = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.stdout.strip() == "True":
                return candidate
    return None


def run(
    quick: bool = False, *, runs: int | None = None, artifact: Path = DEFAULT_ARTIFACT, importtime: bool | None = None
) -> tuple[list[Row], dict[str, Any]]:
    runs = runs or (1 if quick else 11)
    importtime = not quick if importtime is None else importtime
    python = _lambda_python()
    layer = artifact.parent / "DependenciesLayer" / "python"
    built = (artifact / "authlib_core" / "http" / "lambda_handler.py").exists() and python is not None
    built = built and layer.is_dir()
    if built:
        code_dir, interpreter, flags, source = (
            artifact,
            python,
            ["-I", "-S"],
            f"SAM artifact ({artifact.name} + DependenciesLayer), python3.13 -I -S",
        )
        paths = {"ours": [artifact, layer], "baseline": [artifact, layer]}
    else:
        code_dir, interpreter, flags = ROOT, sys.executable, ["-I"]
        source = f"worktree sources, {Path(sys.executable).name} -I (no SAM artifact)"
        paths = {"ours": [ROOT], "baseline": [ROOT]}

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AUTHLIB_ENGINE": "dynamodb",
        "AUTHLIB_DYNAMODB_ENDPOINT_URL": endpoint,
        "AUTHLIB_DOCUMENTS_TABLE": "bench-documents",
        "AUTHLIB_SESSIONS_TABLE": "bench-sessions",
        "AUTHLIB_FUNCTIONS_DIR": str(code_dir / "functions"),
        "AUTHLIB_SECRETS": SECRET,
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AUTHLIB_ALLOWED_KINDS": "query",
    }
    samples: dict[str, list[dict[str, float]]] = {"ours": [], "baseline": []}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            # seed a user and three notes through our own stack, and record the calls of the query
            stack = dynamodb_stack(code_dir / "functions", endpoint_url=endpoint, tables="bench")
            cookie = stack.sign_up()
            for i in range(3):
                stack.run("mutation", "myData:add", {"text": f"note {i}"}, cookie)
            recorder = Recorder(stack.client)
            event = query_event("myData:getMyData", cookie=cookie)
            with recorder.recording() as calls:
                stack.call(event)
            calls_file = Path(tmp) / "calls.pickle"
            if built:  # the baseline imports boto3, which the layer leaves out (on Lambda the runtime has one)
                runtime_sdk = Path(tmp) / "runtime-sdk"
                runtime_sdk.mkdir()
                for package in ("boto3", "s3transfer"):
                    (runtime_sdk / package).symlink_to(Path(importlib.import_module(package).__file__).parent)
                paths["baseline"].append(runtime_sdk)
            calls_file.write_bytes(pickle.dumps([(name, params) for name, params, _ in calls]))
            for _ in range(runs + 1):  # the first pair warms the page cache and .pyc files; not counted
                for mode in ("ours", "baseline"):
                    out = subprocess.run(
                        [
                            interpreter,
                            *flags,
                            "-c",
                            PROBE,
                            os.pathsep.join(map(str, paths[mode])),
                            mode,
                            json.dumps(event),
                            str(calls_file),
                        ],
                        cwd=code_dir,
                        env=env,
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                    if out.returncode != 0:
                        raise RuntimeError(f"cold start probe ({mode}) failed:\n{out.stderr[-3000:]}")
                    sample = json.loads(out.stdout.strip().splitlines()[-1])
                    if sample["status"] != 200 or sample["items"] != 3:
                        raise RuntimeError(f"cold start probe ({mode}) answered {sample}")
                    samples[mode].append(sample)
        finally:
            server.stop()
    for mode in samples:
        samples[mode] = samples[mode][1:]

    rows = []
    for figure, label in (("import_ms", "import handler"), ("first_response_ms", "import + first authenticated query")):
        ours, ours_spread = median_spread([s[figure] for s in samples["ours"]])
        base, base_spread = median_spread([s[figure] for s in samples["baseline"]])
        rows.append(
            Row(SECTION, label, "ms", ours, base, ours_spread, base_spread, "<= 1.25x", "max", 1.25, note=source)
        )
    offenders: list[tuple[int, int, str]] = []
    if importtime:
        out = subprocess.run(
            [
                interpreter,
                *flags,
                "-X",
                "importtime",
                "-c",
                f"import sys; sys.path[0:0] = {[str(p) for p in paths['ours']]!r}; "
                "import authlib_core.http.lambda_handler",
            ],
            cwd=code_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        for line in out.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[1].strip().isdigit():
                offenders.append((int(parts[1]), int(parts[0].split(":")[-1]), parts[2].rstrip()))
        offenders.sort(reverse=True)
    return rows, {
        "source": source,
        "runs": runs,
        "samples": samples,
        "importtime_top_cumulative_us": [{"cumulative_us": c, "self_us": s, "module": m} for c, s, m in offenders[:15]],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--artifact", type=Path, default=DEFAULT_ARTIFACT)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--no-importtime", action="store_true")
    args = parser.parse_args()
    rows, extra = run(runs=args.runs, artifact=args.artifact, importtime=not args.no_importtime)
    print(f"cold start: {extra['source']}, {extra['runs']} fresh processes each ({platform.machine()}, moto server)")
    for row in rows:
        print(
            f"{row.figure:<38}{fmt(row.ours, row.ours_spread):>24}{fmt(row.baseline, row.baseline_spread):>24}"
            f"{row.ratio or 0:>7.2f}x  {row.target}"
        )
    for item in extra["importtime_top_cumulative_us"]:
        print(f"{item['cumulative_us']:>10}  {item['module']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
