"""A merchant's web shop on its own origin (another port) that embeds kassa with ``kassa.js``.

Pages: ``/tokenize?token=…`` and ``/pay?token=…`` mount the widgets and write what the callbacks
receive into ``#out`` (and ``#err`` for ``onError``); ``/pay-redirect?token=…`` mounts the
payment widget without ``onResult`` (kassa.js then follows ``redirect_url``); ``/success`` and
``/failure`` are the return pages. The shop's inline script is its own business: kassa's
pages keep their strict CSP.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Corner Shop: {title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; background: #fff7e6; color: #222; }}
header {{ background: #5b3a00; color: #fff; padding: .75rem 1rem; }}
main {{ max-width: 34rem; margin: 0 auto; padding: 1rem; }}
pre {{ white-space: pre-wrap; word-break: break-all; }}
</style></head>
<body><header><strong>Corner Shop</strong> &middot; {title}</header>
<main><p>{intro}</p><div id="widget"></div><pre id="out"></pre><pre id="err"></pre></main>
{script}
</body></html>"""

_MOUNT = """<script src="{kassa}/widget/kassa.js"></script>
<script>
var token = new URLSearchParams(location.search).get("token");
function show(id) {{ return function (value) {{
  document.getElementById(id).textContent = JSON.stringify(value); }}; }}
{call}
</script>"""

_CALLS = {
    "/tokenize": (
        "Save a card for payouts",
        (
            'Kassa.mountTokenize("#widget", {publicToken: token, onToken: show("out"), '
            'onError: show("err")});'
        ),
    ),
    "/pay": (
        "Checkout",
        (
            'Kassa.mountPayment("#widget", {publicToken: token, onResult: show("out"), '
            'onError: show("err")});'
        ),
    ),
    "/pay-redirect": (
        "Checkout",
        'Kassa.mountPayment("#widget", {publicToken: token, onError: show("err")});',
    ),
}


class MerchantSite:
    """A threaded HTTP server on 127.0.0.1 (its own port: its own origin)."""

    def __init__(self, kassa_url: str) -> None:
        """Serve pages that load kassa.js from ``kassa_url``."""
        self.kassa_url = kassa_url
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.page(urlsplit(self.path).path).encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page(self, path: str) -> str:
        """The HTML of ``path`` ('' for an unknown path)."""
        if path in _CALLS:
            title, call = _CALLS[path]
            script = _MOUNT.format(kassa=self.kassa_url, call=call)
            return _PAGE.format(title=title, intro="Your card stays with kassa.", script=script)
        if path in {"/success", "/failure"}:
            outcome = "Thank you for your order" if path == "/success" else "Payment failed"
            return _PAGE.format(title=outcome, intro=outcome, script="")
        return ""

    def url(self, path: str, token: str = "") -> str:
        """A page URL (with the public token in the query)."""
        return f"{self.origin}{path}" + (f"?token={token}" if token else "")

    def stop(self) -> None:
        """Shut down."""
        self.server.shutdown()
        self.server.server_close()
