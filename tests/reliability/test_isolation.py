"""Tenant isolation over every method (issue 14 §5): B's ids in A's hands are unknown ids.

Project B pays (a recurrent card payment, refunded in part), vaults a card, issues a public
token and receives a webhook. Then for every signed method of ``/openapi.json`` and every
id slot its request schema has (``hostile_isolation.id_slots``), project A sends the method
once with B's value and once with a value that never existed: the two answers (status and
bytes), and the two log lines the server wrote for them, must be identical once the two values
are blanked out. Nothing of B (ids, payment, refund, hash, token, its customer reference)
may appear in any answer to A, in any log line about A, or in any metric label; the 3DS page
of B's payment answers A exactly as for a payment that never existed, and ``kassa webhooks
list --project A`` shows none of B's deliveries.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import httpx
import pytest

import reliability_tally
from acquiring_kit import card
from hostile_isolation import blanked, body_for, id_slots, kind_of
from kassa.domain.project import ProjectSettings
from testkit import KassaServer, SignedClient, create_project, kassa_cli, wait_for

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from webhook_receiver import Receiver

pytestmark = pytest.mark.slow

CARD = card()  # 4242…, the sandbox card that succeeds
NEVER = {
    "session": "ps_" + "0" * 26,
    "card": "0" * 64,
    "recurrent": "rt_" + "0" * 26,
    "public": "pt_" + "0" * 40,
}


@pytest.fixture(scope="module")
def tenant_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KassaServer]:
    """A server with its worker (B's webhook is delivered) and fast retries."""
    running = KassaServer(
        module_database_url,
        tmp_path_factory.mktemp("tenants"),
        KASSA_WORKER_POLL_SECONDS="0.02",
        KASSA_WEBHOOK_FIRST_DELAY_SECONDS="0.05",
    ).start()
    try:
        yield running
    finally:
        running.stop()


class Tenant:
    """Everything project B owns, by kind."""

    def __init__(self) -> None:
        """Nothing yet."""
        self.values: dict[str, str] = {}
        self.secrets: list[str] = []


async def make_b(server: KassaServer, receiver: Receiver, tmp: Path) -> tuple[Tenant, str]:
    """Project B with a paid, refunded, recurrent payment, a vaulted card and a public token."""
    b = await create_project(
        server.database_url,
        name="tenant-b",
        webhook_url=receiver.url("b"),
        settings=ProjectSettings(auto_confirm=True),
    )
    client = SignedClient(server.base_url, b)
    tenant = Tenant()
    try:
        paid = await client.ok(
            "session/init/payment",
            {
                "amount_details": {"amount": 5000, "currency": "usd"},
                "customer": {"reference": "b-secret-customer"},
                "payment_details": CARD,
                "payment_options": {"recurrent": True},
                "metadata": "b-secret-metadata",
            },
        )
        session = paid["session"]
        payment = session["acquiring_payments"][0]
        refunded = await client.ok(
            "session/refund",
            {"session_id": session["id"], "amount_details": {"amount": 10, "currency": "usd"}},
        )
        refund_ids = [r["id"] for r in refunded["session"].get("refunds", [])]
        created = await client.ok(
            "session/create",
            {
                "amount_details": {"amount": 700, "currency": "usd"},
                "customer": {"reference": "b-c"},
            },
        )
        token = await client.ok(
            "token", {"acquiring_widget": {"session_id": created["session"]["id"]}}
        )
    finally:
        await client.aclose()
    env = {"KASSA_DATABASE_URL": server.database_url, "KASSA_DATA_DIR": str(server.data_dir)}
    done = kassa_cli(
        "sandbox", "tokenize", b.id, "5555555555554444", "--month", "12", "--year", "30",
        "--json", env=env,
    )  # fmt: skip
    tenant.values = {
        "session": session["id"],
        "card": json.loads(done.stdout)["number_hash"],
        "recurrent": payment["recurrent"]["token"],
        "public": token["public_token"]["token"] if isinstance(token.get("public_token"), dict)
        else str(token.get("public_token") or token.get("token")),
    }  # fmt: skip
    await wait_for(lambda: receiver.for_session(session["id"]), timeout=20)
    listed = kassa_cli("webhooks", "list", "--project", b.id, "--json", env=env)
    deliveries = [d["id"] for d in json.loads(listed.stdout)["deliveries"]]
    assert deliveries, listed.stdout
    tenant.secrets = [
        b.id,
        *tenant.values.values(),
        payment["id"],
        *refund_ids,
        created["session"]["id"],
        "b-secret-customer",
        "b-secret-metadata",
    ]
    return tenant, json.dumps(deliveries)


def log_lines_of(server: KassaServer, project_id: str, since: int) -> list[str]:
    """The server's log lines (written after byte ``since``) that name ``project_id``."""
    text = server.log_path.read_bytes()[since:].decode("utf-8", "replace")
    return [line for line in text.splitlines() if project_id in line]


def request_line(line: str) -> str:
    """A request log line without its latency and time (they differ between any two)."""
    data = json.loads(line)
    for key in ("latency_ms", "timestamp", "time", "ts"):
        data.pop(key, None)
    return json.dumps(data, sort_keys=True)


async def test_another_projects_ids_answer_like_ids_that_never_existed(
    tenant_server: KassaServer, receiver: Receiver, tmp_path: Path
) -> None:
    """Every method and id slot: B's value and a never-existing one get identical answers."""
    server = tenant_server
    tenant, b_deliveries = await make_b(server, receiver, tmp_path)
    a = await create_project(server.database_url, name="tenant-a")
    openapi = httpx.get(f"{server.base_url}/openapi.json", timeout=10).json()
    paths = sorted(
        p for p, ops in openapi["paths"].items() if p.startswith("/api/") and "post" in ops
    )
    client = SignedClient(server.base_url, a)
    pairs = 0
    not_found = 0
    statuses: dict[int, int] = {}
    answers: list[str] = []
    slots_seen: set[str] = set()
    try:
        for path in paths:
            version, method = path.split("/", 3)[2], path.split("/", 3)[3]
            for slot in id_slots(openapi, path):
                kind = kind_of(slot)
                assert kind is not None
                foreign_value, never_value = tenant.values[kind], NEVER[kind]
                since = server.log_path.stat().st_size
                foreign = await client.post(
                    method, body_for(method, slot, foreign_value), version=version
                )
                never = await client.post(
                    method, body_for(method, slot, never_value), version=version
                )
                pairs += 1
                slots_seen.add(f"{path} {slot}")
                answers += [foreign.text, never.text]
                where = f"{path} {slot}: {foreign.text[:200]} / {never.text[:200]}"
                assert foreign.status_code == never.status_code, where
                assert blanked(foreign.text, foreign_value) == blanked(never.text, never_value), (
                    where
                )
                assert foreign.status_code < 500, where
                statuses[foreign.status_code] = statuses.get(foreign.status_code, 0) + 1
                if foreign.status_code == 404:
                    not_found += 1
                deadline = time.monotonic() + 5
                while (
                    len(lines := log_lines_of(server, a.id, since)) < 2
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.02)
                assert len(lines) == 2, (where, lines)
                one, other = (request_line(line) for line in lines)
                assert blanked(one, foreign_value) == blanked(other, never_value), (where, lines)
    finally:
        await client.aclose()
    # B's payment on the 3DS page, asked for by anyone: as a payment that never existed.
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        payment_id = next(s for s in tenant.secrets if s.startswith("pm_"))
        foreign_page = await http.get(f"/3ds/{payment_id}", params={"token": "x" * 32})
        never_page = await http.get(f"/3ds/pm_{'0' * 26}", params={"token": "x" * 32})
        metrics = (await http.get("/metrics")).text
    assert foreign_page.status_code == never_page.status_code
    assert blanked(foreign_page.text, payment_id) == blanked(never_page.text, f"pm_{'0' * 26}")
    env = {"KASSA_DATABASE_URL": server.database_url, "KASSA_DATA_DIR": str(server.data_dir)}
    a_deliveries = kassa_cli("webhooks", "list", "--project", a.id, "--json", env=env).stdout
    log_of_a = "\n".join(log_lines_of(server, a.id, 0))
    leaks = {
        where: [s for s in tenant.secrets if s in text and s not in NEVER.values()]
        for where, text in {
            "answers": blanked_slots("\n".join(answers), tenant),
            "log lines about A": blanked_slots(log_of_a, tenant),
            "metrics": metrics,
            "webhooks list --project A": a_deliveries,
        }.items()
    }
    assert json.loads(a_deliveries) == {"deliveries": []}, a_deliveries
    assert all(not found for found in leaks.values()), leaks
    with_slots = [p for p in paths if id_slots(openapi, p)]
    assert len(with_slots) >= 20, with_slots
    assert not_found >= len(with_slots) // 2, (not_found, pairs)
    dialect = "sqlite" if server.database_url.startswith("sqlite") else "postgres"
    reliability_tally.record(
        "isolation",
        f"foreign-ids-{dialect}",
        {
            "methods (paths)": len(paths),
            "methods with id slots": len(with_slots),
            "method-slot pairs": pairs,
            "answers identical to a never-existing id": pairs,
            "of which not found (404)": not_found,
            "statuses of the pairs": " ".join(f"{k}:{v}" for k, v in sorted(statuses.items())),
            "log line pairs identical": pairs,
            "B's values in answers, A's log lines, metrics": 0,
            "B's webhook deliveries listed for A": 0,
        },
        ".venv/bin/pytest tests/reliability/test_isolation.py",
        notes=[
            (
                "B owns: a session with a recurrent card payment refunded in part, a vaulted card "
                "(number_hash), a public token and delivered webhooks "
                f"(deliveries {b_deliveries}); slots come from /openapi.json."
            ),
            (
                "The 3DS page of B's payment answers as for a payment that never existed. Payment "
                "and refund ids are no method's input; they are checked absent from A's answers."
            ),
        ],
    )


def blanked_slots(text: str, tenant: Tenant) -> str:
    """A's log with the values A itself sent blanked (A typed them; that is not a leak)."""
    for value in tenant.values.values():
        text = text.replace(value, "<sent-by-a>")
    return text
