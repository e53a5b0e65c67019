"""Cold start of the BUILT Lambda handler vs a bare Powertools + boto3 baseline, in fresh processes.

Each run starts a fresh ``python3.13 -I -S`` (stdlib + the artifact only, like /var/task), imports the
handler and answers one ``POST /api/query`` (``myData:getMyData``) against DynamoDB served by moto's
server mode on 127.0.0.1 (no network). The baseline, in the same run and interpreter: a bare
``APIGatewayHttpResolver`` with one route that does one ``GetItem`` through a boto3 client.
Figures: import time, first response (import + first invocation), medians over ``--runs`` with the
spread (min-max). Prints a table (target: ours <= 1.25x baseline) and writes JSON to bench/results/.
Never fails on timing. ``--importtime`` adds the top ``-X importtime`` offenders of our handler.

Usage:  AUTHLIB_BUILD_ARCH=x86_64 .venv-sam/bin/sam build --build-in-source --build-dir .aws-sam/ci/build-x86_64 \\
            --parameter-overrides Architecture=x86_64
        .venv/bin/python bench/cold_start.py [--artifact .aws-sam/ci/build-x86_64/QueryFunction] [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
mode = sys.argv[2]
event = json.loads(sys.argv[3])
if mode == "ours":
    from authlib_core.http.lambda_handler import handler
else:
    import boto3, os
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    client = boto3.client("dynamodb", endpoint_url=os.environ["AUTHLIB_DYNAMODB_ENDPOINT_URL"])
    app = APIGatewayHttpResolver()
    @app.post("/api/query")
    def q():
        client.get_item(TableName=os.environ["AUTHLIB_DOCUMENTS_TABLE"], Key={"pk": {"S": "x"}, "sk": {"B": b"x"}})
        return {"status": "success", "value": []}
    def handler(e, c):
        return app.resolve(e, c)
t1 = time.perf_counter()
class Ctx:
    aws_request_id = "bench"; function_name = "bench"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
response = handler(event, Ctx())
t2 = time.perf_counter()
result = {"import_ms": (t1 - t0) * 1e3, "first_response_ms": (t2 - t0) * 1e3}
print(json.dumps({**result, "status": response["statusCode"]}))
"""


def event() -> dict[str, object]:
    body = json.dumps({"path": "myData:getMyData", "args": {}, "format": "json"})
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/api/query",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "bench.local"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.local",
            "http": {
                "method": "POST",
                "path": "/api/query",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "bench",
            },
            "requestId": "bench",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 0,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--artifact", default=str(ROOT / ".aws-sam/ci/build-x86_64/QueryFunction"))
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--python", default=os.environ.get("AUTHLIB_LAMBDA_PYTHON", "python3.13"))
    parser.add_argument("--importtime", action="store_true")
    args = parser.parse_args()
    artifact = Path(args.artifact)
    if not (artifact / "authlib_core" / "http" / "lambda_handler.py").exists():
        print(f"no built handler in {artifact}; build the x86_64 artifact first (see --help)")
        return 0

    from moto.server import ThreadedMotoServer

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
        "AUTHLIB_FUNCTIONS_DIR": str(artifact / "functions"),
        "AUTHLIB_SECRETS": "bench-secret-" + "x" * 40,
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AUTHLIB_ALLOWED_KINDS": "query",
    }
    try:
        from authlib_core.database.engines.dynamodb import create_client, create_tables

        create_tables(
            create_client(endpoint_url=endpoint, region="us-east-1"),
            {"documents": "bench-documents", "sessions": "bench-sessions"},
        )
        samples: dict[str, list[dict[str, float]]] = {"ours": [], "baseline": []}
        for _ in range(args.runs):
            for mode in ("ours", "baseline"):
                out = subprocess.run(
                    [args.python, "-I", "-S", "-c", PROBE, str(artifact), mode, json.dumps(event())],
                    cwd=artifact,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if out.returncode != 0:
                    print(f"{mode} failed:\n{out.stderr[-2000:]}")
                    return 0
                samples[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        server.stop()

    rows = []
    print(f"\ncold start, {args.runs} fresh python3.13 processes each ({platform.machine()}, moto server)")
    print(f"{'figure':<22}{'ours ms':>22}{'baseline ms':>22}{'ratio':>8}  target <= 1.25x")
    for figure in ("import_ms", "first_response_ms"):
        ours = [s[figure] for s in samples["ours"]]
        base = [s[figure] for s in samples["baseline"]]
        mo, mb = statistics.median(ours), statistics.median(base)
        rows.append(
            {
                "figure": figure,
                "ours_median": mo,
                "ours_min": min(ours),
                "ours_max": max(ours),
                "baseline_median": mb,
                "baseline_min": min(base),
                "baseline_max": max(base),
                "ratio": mo / mb,
            }
        )
        print(
            f"{figure:<22}{f'{mo:.1f} ({min(ours):.0f}-{max(ours):.0f})':>22}"
            f"{f'{mb:.1f} ({min(base):.0f}-{max(base):.0f})':>22}{mo / mb:>7.2f}x"
        )
    offenders: list[tuple[int, str]] = []
    if args.importtime:
        out = subprocess.run(
            [
                args.python,
                "-I",
                "-S",
                "-X",
                "importtime",
                "-c",
                f"import sys; sys.path.insert(0, {str(artifact)!r}); import authlib_core.http.lambda_handler",
            ],
            cwd=artifact,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        for line in out.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[1].strip().isdigit():
                offenders.append((int(parts[1]), parts[2].rstrip()))
        offenders.sort(reverse=True)
        print("\n-X importtime, top cumulative (us):")
        for cumulative, name in offenders[:15]:
            print(f"{cumulative:>10}  {name}")
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"cold_start-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(
        json.dumps({"runs": args.runs, "rows": rows, "samples": samples, "importtime_top": offenders[:15]}, indent=1),
        encoding="utf-8",
    )
    print(f"\nwrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
