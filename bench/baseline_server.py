"""The throughput baseline: a minimal stdlib HTTP server doing the dev server's SQLite read for ``myData:getMyData``.

``ThreadingHTTPServer`` with HTTP/1.1 keep-alive (as the dev server), per-thread SQLite connections (WAL, as the
engine opens them). Per request: read the JSON body, take the session cookie, check its HMAC-SHA256 signature,
read the session row by (user, session id), compare the token's SHA-256 and the expiry, read the user's notes with
the same index-range join the SQLite engine uses (``SCAN_SQL``), and answer ``{"status":"success","value":[...]}``.
No auth library, no router, no value codec, no logging: the floor a Python server on this machine can reach.

Run: python -m bench.baseline_server DB SECRET LOWER_HEX UPPER_HEX  (prints the port, then serves)
"""

from __future__ import annotations

import base64
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


def serve(db: str, secret: str, lower: bytes, upper: bytes) -> None:
    local = threading.local()
    key = secret.encode()

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        return conn

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # as the dev server: no delayed-ACK stall between headers and body

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
            status, out = 401, {"code": "Unauthenticated"}
            cookies = dict(
                part.strip().split("=", 1) for part in (self.headers.get("cookie") or "").split(";") if "=" in part
            )
            raw = unquote(cookies.get(COOKIE) or cookies.get("__Secure-" + COOKIE) or "")
            value, _, signature = raw.rpartition(".")
            expected = base64.b64encode(hmac.new(key, value.encode(), hashlib.sha256).digest()).decode()
            if body.get("path") == "myData:getMyData" and hmac.compare_digest(expected, signature):
                user_id, session_id, _ = value.split(".")
                conn = connection()
                row = conn.execute(SESSION, (user_id, session_id)).fetchone()
                token_hash = hashlib.sha256(value.encode()).hexdigest()
                if row and hmac.compare_digest(row[0], token_hash) and row[1] > time.time() * 1000:
                    conn.execute("BEGIN")
                    rows = conn.execute(SCAN, ("myData", "by_user", lower, upper, 1000)).fetchall()
                    conn.execute("COMMIT")
                    status, out = 200, {"status": "success", "value": [json.loads(r[0]) for r in rows]}
            data = json.dumps(out, separators=(",", ":"), sort_keys=True).encode()
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


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), bytes.fromhex(sys.argv[4]))
