"""Scale-out on one PostgreSQL: 2 API processes and 2 ``kassa worker`` processes, over HTTP.

``kassa serve --workers 2 --no-worker`` (two uvicorn processes sharing one socket) and two
``kassa worker`` processes, all started at once on a fresh data folder, run the payment flows
of ``scale_kit.FLOWS`` three times each, concurrently, against a real webhook receiver. Each
request is sent on a fresh connection, so the kernel spreads them over both API processes;
every log line names its process (``pid``), which shows both served. Each webhook must arrive
once, in its session's order, at the first attempt, signed with the one server key; the
delivery attempts name their worker, which shows both delivered. ``kassa ledger check`` ends it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import orjson
import pytest

import scale_kit
from acquiring_e2e_kit import ledger_check
from kassa.bench.procs import tree
from testkit import KassaServer
from webhook_kit import WorkerProcess
from webhook_receiver import Receiver

if TYPE_CHECKING:
    from pathlib import Path

ROUNDS = 3  # each flow this many times at once: 21 sessions in flight
WORKER_ENV = {
    "KASSA_WORKER_POLL_SECONDS": "0.02",
    "KASSA_WORKER_BATCH": "1",  # one webhook per claim: both workers get a share
    "KASSA_WORKER_CONCURRENCY": "4",
    "KASSA_WEBHOOK_TIMEOUT_SECONDS": "10",
    "KASSA_WORKER_LEASE_SECONDS": "60",  # no lease runs out: a second attempt is a bug
    "KASSA_WEBHOOK_FIRST_DELAY_SECONDS": "0.5",
    "KASSA_WEBHOOK_MAX_INTERVAL_SECONDS": "1",
}


def _request_pids(log: str) -> dict[int, int]:
    """API requests per process id, from the JSON log lines of ``kassa serve``."""
    pids: dict[int, int] = {}
    for line in log.splitlines():
        if not line.startswith("{"):
            continue
        event = orjson.loads(line)
        if event.get("event") == "request" and str(event.get("method", "")).startswith("/api/"):
            pids[event["pid"]] = pids.get(event["pid"], 0) + 1
    return pids


@pytest.mark.postgres
async def test_two_api_processes_and_two_workers_run_the_payment_flows(
    pg_url: str, tmp_path: Path
) -> None:
    """21 concurrent flows: both API processes serve, both workers deliver, once and in order."""
    receiver = Receiver()
    api = KassaServer(pg_url, tmp_path, "--workers", "2", "--no-worker", KASSA_LOG_LEVEL="info")
    workers = [WorkerProcess(pg_url, tmp_path, **WORKER_ENV) for _ in range(2)]
    try:
        api.start()
        for worker in workers:
            worker.start()
        shops = [
            (flow, await scale_kit.open_shop(api, receiver, fresh_connections=True, **settings))
            for flow, settings in scale_kit.FLOWS * ROUNDS
        ]
        flows = list(await asyncio.gather(*(flow(shop) for flow, shop in shops)))
        for _flow, shop in shops:
            await shop.client.aclose()
        await asyncio.sleep(0.5)  # a duplicate delivery would arrive meanwhile
        owners = await scale_kit.check_outbox(pg_url, receiver, flows)
        ledger_check(api)
        api_processes = set(tree(api.proc.pid)) - {api.proc.pid} if api.proc else set()
    finally:
        codes = [worker.stop() for worker in workers]
        api.stop()
        receiver.stop()
    assert codes == [0, 0]
    served = _request_pids(api.log())
    assert len(served) == 2, served
    assert set(served) <= api_processes, (served, api_processes)
    worker_pids = {str(worker.proc.pid) for worker in workers if worker.proc is not None}
    assert {owner.split(":")[1] for owner in owners} == worker_pids
