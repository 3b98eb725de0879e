"""The load driver of the crash and fault tests: its own process, 127.0.0.1 only, bounded.

``python tests/reliability_load.py CONFIG.json`` runs chains of signed requests against one
kassa (``base_url``) until ``seconds`` have passed, ``max_requests`` requests have been
started or ``stop_file`` exists (the test's "enough"), then finishes the chains it is in and
exits. Each client pauses up to ``pause`` seconds between chains (a steady stream, not a CPU
hog on a shared machine). A chain is one payment's (or payout's) life, each step with its own
idempotency key:

- ``create``: session/create
- ``confirm_refund``: init/payment → confirm → refund (auto-confirm off)
- ``cancel``: init/payment → cancel (auto-confirm off)
- ``auto_refund``: init/payment (auto-confirm on) → refund
- ``capture``: init/payment → capture (two-step project: authorised at init)
- ``payout``: init/payout → confirm (funded wallet)

A request is retried with the same key and the same bytes until a definitive answer: a
transport error (the server was killed), a 500 ``internal_error`` and a 400
``idempotency_key_already_exists`` (after its ``Retry-After``) are retried; a 200 or any other
error is the answer. Every attempt is one JSON line in ``log``; the last line is a summary.
A request without a definitive answer after ``retry_seconds`` is logged ``gave_up``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CARD = {"type": "card", "card": {"type": "bank_card", "bank_card": {
    "number": "4242424242424242", "expiration_month": "12", "expiration_year": "30",
    "security_code": "123"}}}  # fmt: skip
PAYOUT_CARD = {"type": "card", "card": {"type": "bank_card", "bank_card": {
    "number": "4242424242424242"}}}  # fmt: skip

# chain → (project, steps); a step is a method, the first step creates the session.
CHAINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "create": ("plain", ("session/create",)),
    "confirm_refund": ("plain", ("session/init/payment", "session/confirm", "session/refund")),
    "cancel": ("plain", ("session/init/payment", "session/cancel")),
    "auto_refund": ("auto", ("session/init/payment", "session/refund")),
    "capture": ("two_step", ("session/init/payment", "session/capture")),
    "payout": ("plain", ("session/init/payout", "session/confirm")),
}
RETRIED_CODES = {"internal_error", "idempotency_key_already_exists"}


def first_body(method: str, amount: int, reference: str) -> dict[str, Any]:
    """The body of a chain's first request."""
    money = {"amount": amount, "currency": "usd"}
    if method == "session/create":
        return {"amount_details": money, "customer": {"reference": reference}}
    if method == "session/init/payout":
        return {
            "payment_method": PAYOUT_CARD,
            "amount_details": money,
            "participant_details": {"recipient": {"full_name": "John Johnson"}},
        }
    return {"payment_details": CARD, "amount_details": money, "customer": {"reference": reference}}


@dataclass
class Driver:
    """One run of the load; ``counts`` become the summary line."""

    config: dict[str, Any]
    out: IO[bytes]
    rng: random.Random
    keys: dict[str, tuple[str, rsa.RSAPrivateKey]] = field(default_factory=dict)
    started: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def log(self, entry: dict[str, Any]) -> None:
        """One JSON line, flushed (the process may be asked to stop at any time)."""
        self.out.write(orjson.dumps(entry) + b"\n")
        self.out.flush()

    def count(self, name: str) -> None:
        """Add one to a summary figure."""
        self.counts[name] = self.counts.get(name, 0) + 1

    def more(self, deadline: float) -> bool:
        """May a new chain start? Not after the deadline, the request bound or the stop file."""
        if time.monotonic() >= deadline or self.started >= int(self.config["max_requests"]):
            return False
        return not Path(self.config["stop_file"]).exists()

    async def request(
        self, http: httpx.AsyncClient, project: str, method: str, body: dict[str, Any], key: str
    ) -> dict[str, Any] | None:
        """Send until a definitive answer; the ok session, or None for anything else."""
        project_id, private = self.keys[project]
        raw = orjson.dumps(body)
        headers = {
            "Content-Type": "application/json",
            "X-PARTNER-PROJECT": project_id,
            "X-PARTNER-SIGN": base64.b64encode(
                private.sign(raw, padding.PKCS1v15(), hashes.SHA256())
            ).decode(),
            "X-PARTNER-IDEMPOTENCY-KEY": key,
        }
        self.started += 1
        self.count("requests")
        give_up = time.monotonic() + float(self.config["retry_seconds"])
        entry: dict[str, Any] = {"project": project, "method": method, "key": key,
                                 "body_sha256": hashlib.sha256(raw).hexdigest()}  # fmt: skip
        for attempt in range(1, 100_000):
            wait = 0.1 + 0.1 * self.rng.random()
            line = {**entry, "attempt": attempt, "t": time.time()}
            try:
                response = await http.post(f"/api/v1/{method}", content=raw, headers=headers)
            except httpx.TransportError as exc:
                self.log({**line, "outcome": "transport", "error": type(exc).__name__})
                self.count("transport_errors")
            else:
                answer, definitive = self._judge(response, line)
                if definitive:
                    return answer
                if response.status_code == 400:
                    wait = float(response.headers.get("retry-after", "1"))
            if attempt == 1:
                self.count("retried_requests")
            self.count("retries")
            if time.monotonic() + wait > give_up:
                self.log({**entry, "outcome": "gave_up", "t": time.time()})
                self.count("gave_up")
                return None
            await asyncio.sleep(wait)
        return None  # pragma: no cover

    def _judge(
        self, response: httpx.Response, line: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, bool]:
        status = response.status_code
        try:
            data = response.json()
        except ValueError:
            self.log({**line, "outcome": "not_json", "status": status, "text": response.text[:300]})
            self.count("wrong_answers")
            return None, True
        if status == 200 and data.get("status") == "ok":
            self.log({**line, "outcome": "ok", "status": status, "session": data["session"]})
            self.count("ok")
            return dict(data["session"]), True
        error = data.get("error") if isinstance(data, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        enveloped = isinstance(error, dict) and set(data) == {"status", "error"}
        if code == "internal_error" and status == 500 and enveloped:
            self.log({**line, "outcome": "500", "status": status, "code": code})
            self.count("internal_errors")
            return None, False
        if code == "idempotency_key_already_exists" and "retry-after" in response.headers:
            self.log({**line, "outcome": "in_flight", "status": status, "code": code})
            self.count("in_flight")
            return None, False
        self.log({**line, "outcome": "error", "status": status, "body": data})
        self.count("wrong_answers")  # the flows are valid: any other answer is wrong
        return None, True

    async def chain(self, http: httpx.AsyncClient, number: int, kind: str) -> None:
        """One chain, step after step, each step's key derived from the chain."""
        project, steps = CHAINS[kind]
        amount = 100 + self.rng.randrange(900)
        session_id: str | None = None
        self.count(f"chain:{kind}")
        for step, method in enumerate(steps):
            body = (
                first_body(method, amount, f"c{number}")
                if session_id is None
                else {"session_id": session_id}
            )
            key = f"{self.config['run']}-{number}-{step}"
            session = await self.request(http, project, method, body, key)
            if session is None:
                return
            session_id = str(session["id"])

    async def client(self, http: httpx.AsyncClient, deadline: float, first: int) -> None:
        """One client: chains until the load is over."""
        number = first
        while self.more(deadline):
            await self.chain(http, number, self.rng.choice(list(CHAINS)))
            number += int(self.config["concurrency"])
            await asyncio.sleep(self.rng.random() * float(self.config["pause"]))

    async def run(self) -> None:
        """The whole load, then the summary line."""
        for name, (project_id, pem) in self.config["projects"].items():
            key = serialization.load_pem_private_key(Path(pem).read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            self.keys[name] = (project_id, key)
        deadline = time.monotonic() + float(self.config["seconds"])
        limits = httpx.Limits(max_connections=int(self.config["concurrency"]))
        async with httpx.AsyncClient(
            base_url=self.config["base_url"], timeout=15.0, limits=limits
        ) as http:
            await asyncio.gather(
                *(self.client(http, deadline, n) for n in range(int(self.config["concurrency"])))
            )
        self.log({"summary": self.counts, "t": time.time()})


def main(argv: list[str]) -> int:
    """Run the load of ``argv[1]`` (a JSON config); exit 0 when it ran to its end."""
    config = orjson.loads(Path(argv[1]).read_bytes())
    with Path(config["log"]).open("ab") as out:
        asyncio.run(Driver(config, out, random.Random(int(config["seed"]))).run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
