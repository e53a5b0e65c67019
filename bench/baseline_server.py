"""The throughput baseline: a minimal stdlib HTTP server doing the dev server's SQLite read for ``myData:getMyData``.

``ThreadingHTTPServer`` with HTTP/1.1 keep-alive (as the dev server), per-thread SQLite connections (WAL, as the
engine opens them). Per request: read the JSON body, take the session cookie, check its HMAC-SHA256 signature,
read the session row by (user, session id), compare the token's SHA-256 and the expiry, read the user's notes with
the same index-range join the SQLite engine uses (``SCAN_SQL``), and answer ``{"status":"success","value":[...]}``.
No auth library, no router, no value codec, no logging: the floor a Python server on this machine can reach.

Run: python -m bench.baseline_server DB SECRET LOWER_HEX UPPER_HEX [threaded|locked|asyncio]  (prints the port,
then serves; ``locked`` and ``asyncio`` serve the same work another way, for bench/serving_models.py)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

SCAN = (
    "SELECT d.value FROM index_entries AS e CROSS JOIN documents AS d ON d.id = e.id"
    " WHERE e.tbl = ? AND e.idx = ? AND e.key >= ? AND e.key < ? ORDER BY e.key ASC LIMIT ?"
)
SESSION = "SELECT token_hash, expires_at FROM sessions WHERE user_id = ? AND session_id = ?"
COOKIE = "better-auth.session_token"


def answer(
    key: bytes, conn: sqlite3.Connection, body: dict[str, object], cookie: str | None, lower: bytes, upper: bytes
) -> tuple[int, bytes]:
    """The status and JSON body of one ``myData:getMyData`` request: the whole of the baseline's own work."""
    status, out = 401, {"code": "Unauthenticated"}
    cookies = dict(part.strip().split("=", 1) for part in (cookie or "").split(";") if "=" in part)
    raw = unquote(cookies.get(COOKIE) or cookies.get("__Secure-" + COOKIE) or "")
    value, _, signature = raw.rpartition(".")
    expected = base64.b64encode(hmac.new(key, value.encode(), hashlib.sha256).digest()).decode()
    if body.get("path") == "myData:getMyData" and hmac.compare_digest(expected, signature):
        user_id, session_id, _ = value.split(".")
        row = conn.execute(SESSION, (user_id, session_id)).fetchone()
        token_hash = hashlib.sha256(value.encode()).hexdigest()
        if row and hmac.compare_digest(row[0], token_hash) and row[1] > time.time() * 1000:
            conn.execute("BEGIN")
            rows = conn.execute(SCAN, ("myData", "by_user", lower, upper, 1000)).fetchall()
            conn.execute("COMMIT")
            status, out = 200, {"status": "success", "value": [json.loads(r[0]) for r in rows]}
    return status, json.dumps(out, separators=(",", ":"), sort_keys=True).encode()


def serve(db: str, secret: str, lower: bytes, upper: bytes, lock: threading.Lock | None = None) -> None:
    """The baseline; with ``lock``, each request's handling holds it (bench/serving_models.py)."""
    local = threading.local()
    key = secret.encode()
    held = lock or contextlib.nullcontext()

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        return conn

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # as the dev server: no delayed-ACK stall between headers and body

        def do_POST(self) -> None:
            with held:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                status, data = answer(key, connection(), body, self.headers.get("cookie"), lower, upper)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # as the dev server

    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


def serve_asyncio(db: str, secret: str, lower: bytes, upper: bytes) -> None:
    """The baseline's work on one ``asyncio`` thread (bench/serving_models.py). Its head parsing is the minimum
    wrk's requests need (no validation at all): a measurement of the serving model, not a server to use."""
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    key = secret.encode()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                headers = {}
                for line in head[1:]:
                    name, colon, value = line.partition(":")
                    if colon:
                        headers[name.strip().lower()] = value.strip()
                data = await reader.readexactly(int(headers.get("content-length") or 0))
                status, out = answer(key, conn, json.loads(data or b"{}"), headers.get("cookie"), lower, upper)
                writer.write(
                    b"HTTP/1.1 %d OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                    % (status, len(out), out)
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=128)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())


if __name__ == "__main__":
    args = (sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), bytes.fromhex(sys.argv[4]))
    mode = sys.argv[5] if len(sys.argv) > 5 else "threaded"
    if mode == "asyncio":
        serve_asyncio(*args)
    else:
        serve(*args, lock=threading.Lock() if mode == "locked" else None)
