"""A webhook receiver on loopback for the tests: a stdlib HTTP server that verifies
each request and answers as a script says (``ok``, ``500``, ``429:<retry-after>``,
``slow:<seconds>``, ``garbage``, ``400``), then ``ok`` once the script runs out."""

from __future__ import annotations

import json
import socketserver
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from promokit.webhooks import verify

SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGhlLXRlc3RzIQ=="


class Receiver:
    """``with Receiver(script) as r``: ``r.url``; ``r.keys`` the idempotency keys
    verified and answered 2xx, in order; ``r.requests`` every request seen."""

    def __init__(self, script: list[str] | None = None, *, log: str | None = None) -> None:
        self.script = deque(script or [])
        self.keys: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.log = log
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = dict(self.headers.items())
                with receiver.lock:
                    action = receiver.script.popleft() if receiver.script else "ok"
                    receiver.requests.append({"headers": headers, "action": action,
                                              "at": time.monotonic()})
                if action.startswith("slow:"):
                    time.sleep(float(action[5:]))
                    action = "ok"
                if action == "garbage":
                    self.wfile.write(b"this is not HTTP at all\r\n\r\n")
                    return
                if action.startswith("429"):
                    self.send_response(429)
                    self.send_header("retry-after", action.partition(":")[2] or "1")
                    self.end_headers()
                    return
                if action in ("500", "400", "503"):
                    self.send_response(int(action))
                    self.end_headers()
                    return
                verify(SECRET, headers, body)
                key = headers["idempotency-key"]
                assert key == headers["webhook-id"] == json.loads(body)["id"]
                with receiver.lock:
                    receiver.keys.append(key)
                    if receiver.log:
                        with open(receiver.log, "a") as out:
                            out.write(key + "\n")
                self.send_response(204)
                self.end_headers()

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server: socketserver.TCPServer = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":  # python receiver.py LOG SLOW: run until killed
    with Receiver(["slow:" + sys.argv[2]] * 100000, log=sys.argv[1]) as running:
        print(running.url, flush=True)
        threading.Event().wait()
