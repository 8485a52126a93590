"""A fake Serviceplatformen (stdlib HTTP server on 127.0.0.1) that records requests and answers as scripted.

Each scripted answer is `(status, body)`; status `DROP` closes the connection without answering, what a
broken network or a crashed proxy looks like to the client. Without a script every request gets 200.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from python_serviceplatformen.authentication import KombitAccess

DROP = 0
"""Scripted status: hang up without an answer."""


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class FakeServiceplatformen:
    """Records every request; answers with the next scripted (status, body), else 200."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    script: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, rec: Recorded) -> tuple[int, str]:
        with self.lock:
            self.requests.append(rec)
            return self.script.pop(0) if self.script else (200, "")


@contextmanager
def serve_fake() -> Iterator[FakeServiceplatformen]:
    state = FakeServiceplatformen()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8")
            status, reply = state.answer(Recorded("POST", self.path, dict(self.headers.items()), body))
            if status == DROP:
                self.close_connection = True
                return
            data = reply.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class StaticAccess(KombitAccess):  # type: ignore[misc]  # untyped library
    """No token service: a fixed token, and SF1601 calls go to the fake server."""

    def __init__(self, url: str, cert_path: str) -> None:
        super().__init__(cvr="12345678", cert_path=cert_path, test=True)
        self.environment = url

    def get_access_token(self, entity_id: str) -> str:
        return "Bearer test-token"
