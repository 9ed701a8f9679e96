"""A real local HTTP server that receives webhook POSTs, for the tests of webhook deliveries
(`core.outbox`): it records every request and answers with the next queued status."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """`with Receiver(statuses=(503, 200)) as server:` → POST to `server.url`; each request is
    recorded in `server.requests` as {"headers": {lower-case name: value}, "body": bytes}. With
    `location`, every answer carries that Location header (a redirect, with a 3xx status); a
    followed redirect would arrive as a GET, which is recorded too."""

    def __init__(self, statuses=(200,), location=""):
        self.requests: list[dict] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.requests.append({"headers": headers, "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pubcredit/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
