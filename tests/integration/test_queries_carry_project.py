"""Sharding by project (Citus, distribution column ``project_id``): what the store really issues.

Every table of ``schema.py`` is classified as distributed by ``project_id``, a reference table,
or distributed by a key of its own (``docs/deploy.md`` explains each). The test runs the
payment and payout flows, 3DS, widgets' tokens, webhook delivery, the sweeper and the
operator's reads in-process over a real SQLite store, records every SQL statement the drivers
are given, and holds each statement on a distributed table to carrying ``project_id`` — or to
being one of ``CROSS_PROJECT``, the statements that by design look across projects (each with
the reason deploy.md repeats). A new statement without ``project_id``, a new table without a
class, or an exception that is no longer issued fails here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from acquiring_kit import BASE, Kassa, init_body
from kassa.adapters.db import schema
from kassa.adapters.db.postgres import PostgresDriver
from kassa.adapters.db.sqlite import SqliteDriver
from kassa.domain.project import ProjectSettings
from kassa.service import timeouts
from kassa.service.ports.delivery import (
    AttemptRecord,
    DeliveryOutcome,
    DeliveryStatus,
    SendResult,
)
from payout_kit import payout_body

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import pytest

    from kassa.adapters.db.driver import Row, Stmt

DISTRIBUTED = frozenset(  # by project_id, co-located: a project's transaction is one shard's
    {
        "sessions",
        "idempotency_keys",
        "vault_cards",
        "outbox",
        "delivery_attempts",
        "ledger_transactions",
        "ledger_postings",
        "recurrent_tokens",
        "balances",
        "session_operations",
        "public_tokens",
    }
)
# small, on every node; the dashboard's operator tables (users, log-ins, form uses, audit log)
# look across projects by design and live with the coordinator's reference data
REFERENCE = frozenset(
    {
        "projects",
        "project_keys",
        "alembic_version",
        "admin_users",
        "admin_sessions",
        "admin_form_uses",
        "audit_log",
    }
)
OWN_KEY = frozenset({"processor_calls"})  # the sandbox acquirer's journal, by its call key
NO_PROJECT_COLUMN = frozenset({"delivery_attempts"})  # needs project_id before it can be

# Statement (its start, whitespace collapsed) → why it looks across projects.
CROSS_PROJECT: dict[str, str] = {
    "WITH due AS": "the delivery claim (PostgreSQL): the queue spans every project",
    "UPDATE outbox SET lease_owner": "the delivery claim (SQLite): the queue spans every project",
    "SELECT 1 FROM outbox WHERE status = 'pending'": "the worker's cheap 'is anything due'",
    "UPDATE outbox SET status = v.column2": "a worker's outcomes, by outbox id and its lease",
    "UPDATE outbox SET next_attempt_at = ?, lease_owner = NULL": "a worker hands leases back",
    "SELECT COUNT(*), MIN(created_at) FROM outbox": "the queue-depth gauge over all projects",
    "SELECT outbox_id, attempted_at": "attempts of listed deliveries (no project_id column)",
    "SELECT id, project_id, session_id, event_type, status": "kassa webhooks replay ID",
    "SELECT id, project_id, status, api_version, version, created_at": "the timeout sweeper",
    "SELECT s.id, s.project_id": "a session by operation id: the 3DS page, chargeback CLI",
    "SELECT t.id, t.project_id": "kassa ledger check: every project's postings",
    "SELECT project_id, account, currency, amount FROM balances": "ledger check: all balances",
    "INSERT INTO delivery_attempts": "an attempt, by outbox id (no project_id column yet)",
}
POSTGRES_ONLY = frozenset({"WITH due AS"})
SQLITE_ONLY = frozenset({"UPDATE outbox SET lease_owner"})
_PROJECT_FILTER = re.compile(r"\bproject_id\s*(?:=|IN\b)", re.IGNORECASE)
_TABLES = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+([a-z_]+)", re.IGNORECASE)


class Recorded:
    """Every statement the SQLite drivers ran during the test."""

    def __init__(self) -> None:
        """Start empty."""
        self.sql: list[str] = []

    def add(self, sql: str) -> None:
        """Record one statement, whitespace collapsed."""
        self.sql.append(" ".join(sql.split()))


def _record(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    recorded = Recorded()
    for driver in (SqliteDriver, PostgresDriver):
        fetch, write = driver.fetch, driver.write

        async def fetching(
            self: Any,
            sql: str,
            params: Sequence[Any] = (),
            fetch: Any = fetch,
        ) -> list[Row]:
            recorded.add(sql)
            return list(await fetch(self, sql, params))

        async def writing(
            self: Any,
            stmts: Sequence[Stmt],
            write: Any = write,
        ) -> Any:
            for stmt in stmts:
                recorded.add(stmt.sql)
            return await write(self, stmts)

        monkeypatch.setattr(driver, "fetch", fetching)
        monkeypatch.setattr(driver, "write", writing)
    return recorded


async def _payments(kassa: Kassa) -> None:
    """Create, status, confirm, refund, cancel, 3DS, recurrent, vaulted card, widget token."""
    created = (await kassa.ok("session/create", {}))["session"]["id"]
    await kassa.ok("session/status", {"session_id": created})
    await kassa.ok("session/cancel", {"session_id": created})
    sid = (await kassa.ok("session/init/payment", init_body(payment_options={"recurrent": True})))[
        "session"
    ]["id"]
    await kassa.ok("session/confirm", {"session_id": sid})
    await kassa.ok(
        "session/refund", {"session_id": sid, "amount_details": {"amount": 10, "currency": "usd"}}
    )
    token = (await kassa.session(sid))["acquiring_payments"][0]["recurrent"]["token"]
    await kassa.ok("recurrent/status", {"recurrent": {"token": token}})
    await kassa.ok("recurrent/disable", {"recurrent": {"token": token}})
    body = init_body("4000000000003220", payment_options={"return_url": "https://shop.example/r"})
    session = (await kassa.ok("session/init/payment", body))["session"]
    redirect = session["acquiring_payments"][0]["customer_interaction"]["redirect"]
    await kassa.http.get(redirect["url"])
    posted = await kassa.http.post(
        redirect["base_url"].removeprefix(BASE),
        data={"token": redirect["qs"]["token"], "result": "pass"},
    )
    assert posted.status_code == 303
    await kassa.ok("token", {"tokenize_widget": {"access": True}})


async def _two_step_and_payouts(kassa: Kassa) -> None:
    """Hold, capture, release; wallet top-up, balance and a payout."""
    held = (await kassa.ok("session/init/payment", init_body()))["session"]["id"]
    await kassa.ok("session/capture", {"session_id": held})
    other = (await kassa.ok("session/init/payment", init_body()))["session"]["id"]
    await kassa.ok("session/cancel", {"session_id": other})
    await kassa.topup(100_000)
    await kassa.ok("wallet/balance", {"request_datetime": "2026-12-01T10:00:00+00:00"})
    payout = (await kassa.ok("session/init/payout", payout_body(amount=2500)))["session"]["id"]
    await kassa.ok("session/confirm", {"session_id": payout})


async def _operations(kassa: Kassa) -> None:
    """What the worker and the operator do: claim, record, release, sweep, list, replay, check."""
    store = kassa.store
    now = datetime.now(UTC)
    claimed = await store.deliveries.claim("w1", now, now + timedelta(minutes=1), now, 2)
    assert claimed
    attempt = AttemptRecord(now, "w1", SendResult(http_status=200, latency_ms=1.0))
    outcome = DeliveryOutcome(claimed[0].id, DeliveryStatus.DELIVERED, now, attempt)
    await store.deliveries.record("w1", [outcome])
    await store.deliveries.release("w1", [d.id for d in claimed[1:]], now)
    await store.deliveries.has_due(now)
    await store.deliveries.queue_stats()
    listed = await store.deliveries.list_deliveries(project_id=kassa.project.id)
    await store.deliveries.replay(listed[0].id, now)
    await timeouts.sweep_timeouts(kassa.deps, now + timedelta(days=30))
    await store.ledger_entries()
    await store.balances()
    await store.list_projects()


def _carries_project(sql: str) -> bool:
    """An INSERT naming project_id among its columns; else a WHERE that filters on it."""
    if sql.startswith("INSERT"):
        return "project_id" in sql.split(")", 1)[0]
    _head, where, condition = sql.partition(" WHERE ")
    return bool(where) and _PROJECT_FILTER.search(condition) is not None


def _distributed_tables(sql: str) -> set[str]:
    return {t.lower() for t in _TABLES.findall(sql)} & DISTRIBUTED


def test_every_table_is_classified_and_distributed_ones_have_project_id() -> None:
    """Distributed, reference or own key: each table once; project_id on all but the listed."""
    tables = set(schema.metadata.tables) | {"alembic_version"}
    assert tables == DISTRIBUTED | REFERENCE | OWN_KEY
    assert not (DISTRIBUTED & REFERENCE)
    assert not (DISTRIBUTED & OWN_KEY)
    assert not (REFERENCE & OWN_KEY)
    missing = {t for t in DISTRIBUTED if "project_id" not in schema.metadata.tables[t].c}
    assert missing == NO_PROJECT_COLUMN


async def test_every_query_on_a_distributed_table_carries_project_id(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each statement the flows issue names project_id, or is a listed cross-project one."""
    recorded = _record(monkeypatch)
    one = await Kassa.open(database_url, tmp_path, webhook_url="http://127.0.0.1:9/hook")
    two = await Kassa.open(database_url, tmp_path, ProjectSettings(two_step_capture=True))
    try:
        await _payments(one)
        await _two_step_and_payouts(two)
        await _operations(one)
    finally:
        await one.close()
        await two.close()
    unlisted, used = [], set()
    for sql in dict.fromkeys(recorded.sql):
        if not _distributed_tables(sql) or _carries_project(sql):
            continue
        known = [prefix for prefix in CROSS_PROJECT if sql.startswith(prefix)]
        if known:
            used.update(known)
        else:
            unlisted.append(sql)
    assert unlisted == [], "\n".join(unlisted)
    other = SQLITE_ONLY if database_url.startswith("postgresql") else POSTGRES_ONLY
    assert set(CROSS_PROJECT) - other - used == set()  # every listed exception is still real
