"""In-process kassa for acquiring tests: the real app and store over httpx's ASGI transport.

Requests are signed exactly as over the network; the app shares the test's event loop, so a
test can also call service functions (the sweeper, a chargeback) on the same ``deps``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from kassa import bootstrap
from kassa.api.app import create_app
from kassa.config import Settings
from kassa.service.queries import check_ledger
from testkit import create_project, encode, sign

if TYPE_CHECKING:
    from pathlib import Path

    from kassa.domain.project import ProjectSettings
    from kassa.service.ports import Probe
    from testkit import ProjectHandle

BASE = "http://kassa.test"


def card(number: str = "4242424242424242", month: str = "12", year: str = "30") -> dict[str, Any]:
    """``payment_details`` for a clear card."""
    return {
        "type": "card",
        "card": {
            "type": "bank_card",
            "bank_card": {
                "number": number,
                "expiration_month": month,
                "expiration_year": year,
                "security_code": "123",
            },
        },
    }


def init_body(
    number: str = "4242424242424242", amount: int = 10000, **extra: Any
) -> dict[str, Any]:
    """A ``session/init/payment`` body."""
    return {
        "payment_details": card(number),
        "amount_details": {"amount": amount, "currency": "usd"},
        "customer": {"reference": "lucky"},
        **extra,
    }


class Kassa:
    """One app, one store, one project."""

    def __init__(
        self, container: bootstrap.Container, project: ProjectHandle, probe: Probe | None = None
    ) -> None:
        """Use ``container``'s deps (with ``probe`` at the operation steps) as ``project``."""
        self.container = container
        self.deps = container.deps if probe is None else replace(container.deps, probe=probe)
        container.deps = self.deps
        self.store = container.store
        self.project = project
        self.app = create_app(Settings(database_url="sqlite:///unused"), self.deps)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE)
        self.database_url = ""

    @classmethod
    async def open(
        cls,
        database_url: str,
        tmp_path: Path,
        settings: ProjectSettings | None = None,
        webhook_url: str | None = None,
        probe: Probe | None = None,
    ) -> Kassa:
        """Build the app over ``database_url`` with a fresh project."""
        project = await create_project(database_url, settings=settings, webhook_url=webhook_url)
        config = Settings(database_url=database_url, data_dir=tmp_path, public_url=BASE)
        opened = cls(await bootstrap.build(config), project, probe)
        opened.database_url = database_url
        return opened

    async def post(
        self,
        method: str,
        body: dict[str, Any],
        *,
        version: str = "v1",
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """A signed POST ``/api/<version>/<method>``."""
        raw = encode(body)
        headers = {
            "X-PARTNER-PROJECT": self.project.id,
            "X-PARTNER-SIGN": sign(raw, self.project.key),
            "Content-Type": "application/json",
        }
        if idempotency_key is not None:
            headers["X-PARTNER-IDEMPOTENCY-KEY"] = idempotency_key
        return await self.http.post(f"/api/{version}/{method}", content=raw, headers=headers)

    async def ok(self, method: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """POST, assert 200 ok, return the body."""
        response = await self.post(method, body, **kw)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def error(
        self, method: str, body: dict[str, Any], status: int, code: str, **kw: Any
    ) -> str:
        """POST, assert the error status and code, return the description."""
        response = await self.post(method, body, **kw)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"] == code, error
        return str(error["description"])

    async def session(self, session_id: str) -> dict[str, Any]:
        """``session/status``."""
        return (await self.ok("session/status", {"session_id": session_id}))["session"]

    async def webhooks(self, session_id: str) -> list[dict[str, Any]]:
        """The outbox bodies of a session, oldest first."""
        found = await self.store.driver.fetch(
            "SELECT body FROM outbox WHERE session_id = ? ORDER BY id", (session_id,)
        )
        return [orjson.loads(bytes(r[0])) for r in found]

    async def webhook_types(self, session_id: str) -> list[str]:
        """The outbox event types of a session, oldest first."""
        return [w["type"] for w in await self.webhooks(session_id)]

    async def ledger_ok(self) -> None:
        """``kassa ledger check``: invariants, reconciliation, and the processor agrees."""
        report = await check_ledger(self.store, self.deps.processor)
        assert report.ok, report.problems

    async def processor_calls(self, operation_id: str | None = None) -> list[tuple[str, str, int]]:
        """The processor's own record ``(kind, operation_id, amount)``, oldest first."""
        assert self.deps.processor is not None
        return [
            (r.kind, r.operation_id, r.amount)
            for r in await self.deps.processor.records()
            if operation_id is None or r.operation_id == operation_id
        ]

    async def topup(self, amount: int, currency: str = "usd") -> None:
        """Prefund the project's payout wallet (``kassa wallet topup``)."""
        from kassa.domain.money import Money
        from kassa.service.wallet import topup

        await topup(self.store, self.deps.clock, self.project.id, Money(amount, currency))

    async def wallet(self) -> dict[str, int]:
        """``wallet/balance`` as currency → minor units."""
        body = {"request_datetime": "2024-04-10T19:53:00+03:00"}
        wallets = (await self.ok("wallet/balance", body))["wallets"]
        return {w["amount_details"]["currency"]: w["amount_details"]["amount"] for w in wallets}

    async def balances(self, sessions: set[str] | None = None) -> dict[str, int]:
        """Account → balance for this project (or only these sessions' postings)."""
        out: dict[str, int] = {}
        for e in await self.store.ledger_entries():
            if e.project_id == self.project.id and (sessions is None or e.session_id in sessions):
                out[e.account] = out.get(e.account, 0) + e.amount
        return {k: v for k, v in out.items() if v}

    async def close(self) -> None:
        """Close the client and the store."""
        await self.http.aclose()
        await self.container.close()
