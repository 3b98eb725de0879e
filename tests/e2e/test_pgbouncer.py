"""kassa behind a real pgbouncer (Debian's, transaction mode) that the test starts.

``kassa serve`` (with its in-process worker), the CLI and the test's own store all use the
database through pgbouncer with ``?pgbouncer=1``: session create and start, init/payment,
3DS, confirm, capture, refund, cancel, a payout from a funded wallet, webhooks at a real
receiver, ``kassa ledger check``. pgbouncer's own statistics show the transactions passed
through it, and its pool mode is transaction.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

import scale_kit
from acquiring_e2e_kit import ledger_check
from kassa.bench.pgbouncer import Pgbouncer, running
from testkit import KassaServer
from webhook_receiver import Receiver

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def bouncer(pg_url: str) -> Iterator[Pgbouncer]:
    """A pgbouncer in front of the machine's PostgreSQL (the test database passes through)."""
    with running(pg_url, pool_size=4) as started:
        yield started


@pytest.mark.postgres
async def test_payment_flows_run_through_pgbouncer_in_transaction_mode(
    pg_url: str, bouncer: Pgbouncer, tmp_path: Path
) -> None:
    """Every flow of ``scale_kit.FLOWS`` through pgbouncer; webhooks once, in order; ledger."""
    url = bouncer.url(pg_url)
    database = pg_url.rsplit("/", 1)[1]
    receiver = Receiver()
    server = KassaServer(url, tmp_path, KASSA_WORKER_POLL_SECONDS="0.05")
    try:
        server.start()
        shops = [
            (flow, await scale_kit.open_shop(server, receiver, **settings))
            for flow, settings in scale_kit.FLOWS
        ]
        flows = list(await asyncio.gather(*(flow(shop) for flow, shop in shops)))
        for _flow, shop in shops:
            await shop.client.aclose()
        await asyncio.sleep(0.3)
        await scale_kit.check_outbox(url, receiver, flows)
        ledger_check(server)
    finally:
        server.stop()
        receiver.stop()
    assert "Traceback" not in server.log(), server.log()[-2000:]
    assert '"level":"error"' not in server.log(), server.log()[-2000:]
    [pool] = [row for row in bouncer.show("POOLS") if row["database"] == database]
    assert pool["pool_mode"] == "transaction"
    assert bouncer.transactions(database) > 100
