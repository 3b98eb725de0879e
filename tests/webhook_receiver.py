"""A webhook receiver on 127.0.0.1 for end-to-end tests: records every POST, answers 200."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass(frozen=True)
class Received:
    """One webhook as it arrived."""

    path: str
    body: bytes
    signature: str | None

    @property
    def json(self) -> dict[str, Any]:
        """The parsed body."""
        data: dict[str, Any] = orjson.loads(self.body)
        return data


class Receiver:
    """A threaded HTTP server; ``url(tag)`` gives a per-project webhook URL."""

    def __init__(self) -> None:
        """Bind a free loopback port and start serving."""
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, body, self.headers.get("X-PARTNER-SIGN"))
                    )
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, tag: str) -> str:
        """A webhook URL whose path identifies one project."""
        return f"http://127.0.0.1:{self.port}/{tag}"

    def for_session(self, session_id: str) -> list[Received]:
        """Webhooks of one session, in arrival order."""
        with self._lock:
            items = list(self.received)
        return [r for r in items if r.json["session"]["id"] == session_id]

    def types(self, session_id: str) -> list[str]:
        """The webhook types of one session, in arrival order."""
        return [r.json["type"] for r in self.for_session(session_id)]

    def stop(self) -> None:
        """Shut the server down."""
        self.server.shutdown()
        self.server.server_close()
