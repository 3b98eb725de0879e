"""The flow driver: whole operations end to end, with the webhooks they wait for.

Run as ``python -m kassa.bench.flows SPEC.json`` (a process of its own, so its CPU is not the
server's); prints one JSON result. It hosts the webhook receiver of the benchmark project
(signatures verified with the server key) and runs, for ``seconds``, ``concurrency`` loops of:

- ``card-flow``: init/payment → ``ready_to_confirm`` received → confirm → ``payment_finished``
- ``payout-flow``: init/payout → ``ready_to_confirm`` received → confirm → ``payment_finished``
- ``refund``: refund of a payment paid before the run → ``payment_refunded`` received
- ``mixed``: create 40 %, status 25 %, card-flow 20 %, refund 10 %, payout-flow 5 %

Requests whose bodies depend on an earlier answer (confirm, refund, status: they name the
session) are signed here as they are sent, about 1 ms of CPU each on this machine; the bodies
that do not (init/payment, init/payout, create) are signed once, before the loops start, and
sent with a fresh idempotency key each time, as wrk's pre-signed requests are.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

if TYPE_CHECKING:
    from collections.abc import Iterator

_SESSION = re.compile(rb'"session":\{"id":"([^"]+)"')
_TYPE = re.compile(rb'^\{"type":"([a-z_]+)"')
CARD = {
    "type": "card",
    "card": {
        "type": "bank_card",
        "bank_card": {
            "number": "4242424242424242",
            "expiration_month": "12",
            "expiration_year": "30",
            "security_code": "123",
        },
    },
}
PAYOUT_CARD = {
    "type": "card",
    "card": {"type": "bank_card", "bank_card": {"number": "5555555555554444"}},
}
RECIPIENT = {"recipient": {"full_name": "John Johnson"}}
USD = {"amount": 1000, "currency": "usd"}


class Webhooks:
    """The receiver: verifies each webhook, wakes whoever waits for (session, type)."""

    def __init__(self, server_pem: bytes) -> None:
        key = serialization.load_pem_public_key(server_pem)
        assert isinstance(key, rsa.RSAPublicKey)  # noqa: S101 - kassa's server key
        self.key = key
        self.seen: dict[tuple[str, str], asyncio.Event] = {}
        self.received = 0
        self.bad = 0

    def event(self, session_id: str, kind: str) -> asyncio.Event:
        """The event set when ``kind`` arrives for the session (it may have arrived already)."""
        return self.seen.setdefault((session_id, kind), asyncio.Event())

    async def hook(self, request: web.Request) -> web.Response:
        """Verify and note one webhook; answer 200."""
        body = await request.read()
        try:
            signature = base64.b64decode(request.headers["X-PARTNER-SIGN"])
            self.key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        except (KeyError, ValueError, InvalidSignature):
            self.bad += 1
            return web.Response(status=400)
        session, kind = _SESSION.search(body), _TYPE.search(body)
        if session and kind:
            self.event(session.group(1).decode(), kind.group(1).decode()).set()
        self.received += 1
        return web.Response(text="ok")


class Driver:
    """Signs and sends protocol requests for one project."""

    def __init__(self, spec: dict[str, Any], http: aiohttp.ClientSession, hooks: Webhooks) -> None:
        key = serialization.load_pem_private_key(Path(spec["key"]).read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)  # noqa: S101 - the bench's own key
        self.key, self.project, self.http, self.hooks = key, spec["project"], http, hooks
        self.base = spec["base_url"]
        self.keys = itertools.count()
        self.timeout = float(spec.get("webhook_timeout", 30))
        self.phases: dict[str, list[float]] = defaultdict(list)  # card-flow: ms per step
        self.presigned = {
            "init/payment": self.sign(
                {"payment_details": CARD, "amount_details": USD, "customer": {"reference": "b"}}
            ),
            "init/payout": self.sign(
                {
                    "payment_method": PAYOUT_CARD,
                    "amount_details": USD,
                    "participant_details": RECIPIENT,
                }
            ),
            "create": self.sign({"amount_details": USD, "metadata": "mixed"}),
        }

    def sign(self, body: dict[str, Any]) -> tuple[bytes, str]:
        """The body's bytes and their signature."""
        raw = orjson.dumps(body)
        sig = base64.b64encode(self.key.sign(raw, padding.PKCS1v15(), hashes.SHA256())).decode()
        return raw, sig

    async def call(self, method: str, body: dict[str, Any], *, key: bool = True) -> dict[str, Any]:
        """A POST signed now; the parsed answer (raises on anything but 200)."""
        return await self.send(method, self.sign(body), key=key)

    async def send(
        self, method: str, signed: tuple[bytes, str], *, key: bool = True
    ) -> dict[str, Any]:
        """A POST of signed bytes; the parsed answer (raises on anything but 200)."""
        raw, sig = signed
        headers = {
            "Content-Type": "application/json",
            "X-PARTNER-PROJECT": self.project,
            "X-PARTNER-SIGN": sig,
        }
        if key:
            headers["X-PARTNER-IDEMPOTENCY-KEY"] = f"f-{next(self.keys)}-{random.random()}"  # noqa: S311
        async with self.http.post(f"{self.base}/api/v1/{method}", data=raw, headers=headers) as r:
            data = await r.read()
            if r.status != 200:  # noqa: PLR2004
                msg = f"{method}: {r.status} {data[:200]!r}"
                raise RuntimeError(msg)
        return dict(orjson.loads(data))

    async def wait(self, session_id: str, kind: str) -> None:
        """Until the webhook ``kind`` of the session was received."""
        await asyncio.wait_for(self.hooks.event(session_id, kind).wait(), self.timeout)

    def lap(self, phase: str, since: float) -> float:
        """Note how long ``phase`` took (from ``since``); now, for the next phase."""
        now = time.perf_counter()
        self.phases[phase].append((now - since) * 1000)
        return now

    async def card_flow(self) -> str:
        """init/payment → ready_to_confirm → confirm → payment_finished; the session id."""
        began = time.perf_counter()
        answer = await self.send("session/init/payment", self.presigned["init/payment"])
        sid = str(answer["session"]["id"])
        began = self.lap("init/payment answered", began)
        await self.wait(sid, "ready_to_confirm")
        began = self.lap("then ready_to_confirm received", began)
        await self.call("session/confirm", {"session_id": sid})
        began = self.lap("then confirm answered", began)
        await self.wait(sid, "payment_finished")
        self.lap("then payment_finished received", began)
        return sid

    async def payout_flow(self) -> None:
        """init/payout → ready_to_confirm → confirm → payment_finished."""
        sid = (await self.send("session/init/payout", self.presigned["init/payout"]))["session"][
            "id"
        ]
        await self.wait(sid, "ready_to_confirm")
        await self.call("session/confirm", {"session_id": sid})
        await self.wait(sid, "payment_finished")

    async def refund(self, sid: str) -> None:
        """A refund of 100 and its payment_refunded."""
        amount = {"amount": 100, "currency": "usd"}
        await self.call("session/refund", {"session_id": sid, "amount_details": amount})
        await self.wait(sid, "payment_refunded")

    async def create(self) -> str:
        """A session/create; its id."""
        return str((await self.send("session/create", self.presigned["create"]))["session"]["id"])


async def _loops(
    seconds: float,
    concurrency: int,
    step: Any,  # noqa: ANN401 - a coroutine function of the loop's number
    *,
    warm: float = 0.0,
    driver: Driver | None = None,
) -> dict[str, Any]:
    """``concurrency`` loops of ``step`` for ``warm`` seconds, not counted, then ``seconds``.

    The warm-up lets kassa's processes open their pools and the delivery worker make its
    first claim (a worker still starting held the first flows' webhooks for about a second);
    an error in it still counts.
    """
    warmed = await _timed(warm, concurrency, step) if warm > 0 else None
    if driver is not None:
        driver.phases.clear()
    result = await _timed(seconds, concurrency, step)
    if warmed is not None:
        result["errors"] += warmed["errors"]
        result["error_samples"] = (warmed["error_samples"] + result["error_samples"])[:5]
        result["warm_up"] = {"seconds": warm, "done": warmed["done"]}
    return result


async def _timed(seconds: float, concurrency: int, step: Any) -> dict[str, Any]:  # noqa: ANN401
    latencies: list[float] = []
    errors: list[str] = []
    end = time.perf_counter() + seconds

    async def loop(n: int) -> None:
        while time.perf_counter() < end:
            started = time.perf_counter()
            try:
                await step(n)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(loop(n) for n in range(concurrency)))
    return {
        "done": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:5],
        "seconds": time.perf_counter() - started,
        "latencies_ms": latencies,
    }


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Start the receiver, run the scenario, report."""
    hooks = Webhooks(Path(spec["server_key"]).read_bytes())  # noqa: ASYNC240 - before the run
    app = web.Application()
    app.router.add_post("/hook", hooks.hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(spec["receiver_port"]), backlog=2048).start()
    connector = aiohttp.TCPConnector(limit=int(spec["concurrency"]) + 8)
    try:
        async with aiohttp.ClientSession(connector=connector) as http:
            driver = Driver(spec, http, hooks)
            result = await _scenario(spec, driver)
            result["webhooks_received"] = hooks.received
            result["phases_ms"] = dict(driver.phases)  # every lap: the runner takes percentiles
            result["webhooks_bad_signature"] = hooks.bad
            return result
    finally:
        await runner.cleanup()


async def _scenario(spec: dict[str, Any], driver: Driver) -> dict[str, Any]:
    seconds, concurrency = float(spec["seconds"]), int(spec["concurrency"])
    scenario = spec["scenario"]
    warm = float(spec.get("warm_seconds", min(2.0, seconds / 4)))

    async def loops(step: Any) -> dict[str, Any]:  # noqa: ANN401 - any coroutine function
        return await _loops(seconds, concurrency, step, warm=warm, driver=driver)

    if scenario == "card-flow":
        return await loops(lambda _n: driver.card_flow())
    if scenario == "payout-flow":
        return await loops(lambda _n: driver.payout_flow())
    paid: list[str] = []
    for _ in range(int(spec.get("prepare_paid", 0)) // 10):  # paid payments to refund later
        paid += await asyncio.gather(*(driver.card_flow() for _ in range(10)))
    if scenario == "refund":
        cycle = itertools.cycle(paid)
        return await loops(lambda _n: driver.refund(next(cycle)))
    created: list[str] = [await driver.create() for _ in range(20)]
    return await loops(_mixed(driver, created, itertools.cycle(paid)))


def _mixed(driver: Driver, created: list[str], paid: Iterator[str]) -> Any:  # noqa: ANN401
    """One step of the mix: create, status, card flow, refund or payout flow."""

    async def mixed(_n: int) -> None:
        pick = random.random()  # noqa: S311 - a load mix, not a secret
        if pick < 0.40:  # noqa: PLR2004
            created.append(await driver.create())
        elif pick < 0.65:  # noqa: PLR2004
            sid = random.choice(created)  # noqa: S311
            await driver.call("session/status", {"session_id": sid}, key=False)
        elif pick < 0.85:  # noqa: PLR2004
            await driver.card_flow()
        elif pick < 0.95:  # noqa: PLR2004
            await driver.refund(next(paid))
        else:
            await driver.payout_flow()

    return mixed


def main() -> None:
    """``python -m kassa.bench.flows SPEC.json``: one JSON line on stdout."""
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    sys.stdout.write(json.dumps(asyncio.run(run(spec))) + "\n")


if __name__ == "__main__":
    main()
