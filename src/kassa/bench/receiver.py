"""A counting webhook receiver for ``kassa bench webhooks``.

Run as ``python -m kassa.bench.receiver PORT``.

``POST /hook`` answers 200 at once and notes the session id and arrival time (epoch seconds,
the clock the bench process reads too); ``GET /stats`` gives the count, ``GET /arrivals`` every
``[session_id, time]``. It runs in its own process so that its CPU shows up like a real
receiver's, listens on 127.0.0.1 only, and exits after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time

import orjson
from aiohttp import web

_SESSION = re.compile(rb'"session":\{"id":"([^"]+)"')


def receiver_app() -> web.Application:
    """The receiver: one POST route that counts, two GET routes that report."""
    arrivals: list[tuple[str, float]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        found = _SESSION.search(body)
        arrivals.append((found.group(1).decode() if found else "", time.time()))
        return web.Response(text="ok")

    async def stats(_request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps({"count": len(arrivals)}))

    async def dump(_request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(arrivals))

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/stats", stats)
    app.router.add_get("/arrivals", dump)
    return app


async def serve(port: int, max_seconds: float) -> None:
    """Listen on 127.0.0.1:``port`` for at most ``max_seconds``."""
    runner = web.AppRunner(receiver_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    try:
        await asyncio.sleep(max_seconds)
    finally:
        await runner.cleanup()


def main() -> None:
    """Parse ``PORT [--max-seconds S]`` and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.max_seconds))


if __name__ == "__main__":
    main()
