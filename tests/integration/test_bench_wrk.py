"""The bench's paced wrk load: each connection's pauses are random, so sends are independent.

With equal pauses the connections stay in phase and the "fixed rate" arrives as bursts of
one request per connection (``docs/benchmarks/README.md``). Real wrk (Debian's) against a
local server that notes when each connection's requests arrive: the gaps between one
connection's requests must vary as exponential pauses do (coefficient of variation near 1),
not sit at one value. No speed is asserted.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kassa.bench.signed import Prepared
from kassa.bench.wrk import WrkOptions, run_wrk

ARRIVALS: dict[int, list[float]] = defaultdict(list)  # client port → arrival times


class _Noter(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one handler per wrk connection

    def do_POST(self) -> None:
        """Note the arrival, answer an empty 200."""
        ARRIVALS[self.client_address[1]].append(time.monotonic())
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        """Quiet."""


def test_paced_connections_pause_for_random_times() -> None:
    """Four connections at 80 req/s (mean pause 50 ms): gaps spread like exponential ones."""
    ARRIVALS.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Noter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        prepared = [Prepared("POST", "/noted", "p", b"{}", "sig", None)] * 10
        measured = run_wrk(f"http://127.0.0.1:{port}", prepared, WrkOptions(1, 4, 3, 80.0))
    finally:
        server.shutdown()
        server.server_close()
    assert measured.errors == 0
    spreads = []
    for times in ARRIVALS.values():
        gaps = [b - a for a, b in itertools.pairwise(times)]
        if len(gaps) >= 20:
            spreads.append(statistics.stdev(gaps) / statistics.mean(gaps))
    assert len(spreads) == 4, f"connections with 20+ requests: {len(spreads)}"
    # Exponential pauses: about 1.0; equal pauses: under 0.2 even on a loaded machine.
    assert min(spreads) > 0.5, spreads
