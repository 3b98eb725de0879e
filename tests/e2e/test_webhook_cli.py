"""``kassa webhooks list`` filters and attempt lines; the SSRF rule on ``projects`` commands."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from kassa.bootstrap import open_store
from kassa.service.outbox import WebhookType
from testkit import create_project, kassa_cli, wait_for
from webhook_kit import Received, Receiver, WorkerProcess, enqueue, server_public_pem, settled

if TYPE_CHECKING:
    from pathlib import Path


def cli_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """Settings for a ``kassa`` command on the test's database."""
    return {"KASSA_DATABASE_URL": database_url, "KASSA_DATA_DIR": str(data_dir), **extra}


async def test_webhooks_list_filters_by_project_and_failure_and_shows_each_attempt(
    database_url: str,
    tmp_path: Path,
) -> None:
    """Text output has one line per attempt; ``--project`` and ``--failed`` narrow the list."""

    async def answer(got: Received) -> int:
        return 503 if got.session_id == "ps_a1" else 200

    async with Receiver(server_public_pem(tmp_path), answer) as receiver:
        a = await create_project(database_url, name="a", webhook_url=receiver.url)
        b = await create_project(database_url, name="b", webhook_url=receiver.url)
        finished = WebhookType.PAYMENT_FINISHED
        await enqueue(database_url, tmp_path, a.id, [("ps_a1", finished), ("ps_a2", finished)])
        await enqueue(database_url, tmp_path, b.id, [("ps_b1", WebhookType.PAYMENT_REFUNDED)])
        with WorkerProcess(database_url, tmp_path, KASSA_WEBHOOK_GIVE_UP_SECONDS="0.3"):
            await wait_for(lambda: settled(database_url, 3), timeout=20)
    env = cli_env(database_url, tmp_path)

    def listed(*args: str) -> str:
        return kassa_cli("webhooks", "list", *args, env=env).stdout

    text = listed()
    heads = [line for line in text.splitlines() if line.startswith("#")]
    assert [h.split()[:4] for h in heads] == [
        ["#3", "delivered", "payment_refunded", "ps_b1"],
        ["#2", "delivered", "payment_finished", "ps_a2"],
        ["#1", "failed", "payment_finished", "ps_a1"],
    ]
    assert "last_error='HTTP 503'" in heads[2]
    tries = text.split(heads[2], 1)[1].strip().splitlines()
    assert len(tries) >= 2
    assert all(" 503 " in t and " ms " in t for t in tries)
    assert all("answer='answer 503 to payment_finished'" in t for t in tries)

    only_a = listed("--project", a.id)
    assert "ps_a1" in only_a
    assert "ps_a2" in only_a
    assert "ps_b1" not in only_a
    failed = json.loads(listed("--failed", "--json"))["deliveries"]
    assert [(d["id"], d["session_id"], d["status"]) for d in failed] == [(1, "ps_a1", "failed")]
    assert listed("--project", b.id, "--failed").strip() == "no deliveries"
    [b1] = json.loads(listed("--project", b.id, "--json"))["deliveries"]
    [attempt] = b1["attempt_log"]
    assert (attempt["http_status"], attempt["error"]) == (200, None)
    assert attempt["attempted_at"] is not None
    assert attempt["response_excerpt"] == "answer 200 to payment_refunded"


async def _stored_url(database_url: str, project_id: str) -> str | None:
    store = await open_store(database_url)
    try:
        project = await store.get_project(project_id)
    finally:
        await store.close()
    assert project is not None
    return project.webhook_url


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9000/hook", "http://localhost:9000/hook", "http://10.0.0.5/hook"],
)
async def test_private_webhook_urls_are_accepted_only_with_the_explicit_switch(
    sqlite_url: str,
    tmp_path: Path,
    url: str,
) -> None:
    """``set-webhook``/``create --webhook-url``: refused by default (sandbox or not), else kept."""
    project = await create_project(sqlite_url)
    live = cli_env(sqlite_url, tmp_path, KASSA_SANDBOX="1")  # the sandbox no longer opens it
    refused = kassa_cli("projects", "set-webhook", project.id, url, env=live, check=False)
    assert refused.returncode == 2
    assert "only with KASSA_ALLOW_PRIVATE_WEBHOOKS=1" in refused.stderr
    assert await _stored_url(sqlite_url, project.id) is None
    create = ["projects", "create", "--name", "x", "--generate-keys", str(tmp_path / "keys")]
    done = kassa_cli(*create, "--webhook-url", url, env=live, check=False)
    assert done.returncode == 2
    assert "only with KASSA_ALLOW_PRIVATE_WEBHOOKS=1" in done.stderr

    allowed = cli_env(sqlite_url, tmp_path, KASSA_ALLOW_PRIVATE_WEBHOOKS="1")
    kassa_cli("projects", "set-webhook", project.id, url, env=allowed)
    assert await _stored_url(sqlite_url, project.id) == url


async def test_outside_sandbox_a_public_name_is_accepted_without_a_dns_lookup(
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    """A host name is judged when delivering (each resolved address), not when registered."""
    project = await create_project(sqlite_url)
    live = cli_env(sqlite_url, tmp_path, KASSA_SANDBOX="0")
    url = "https://hooks.example.invalid/kassa"  # does not resolve at all
    kassa_cli("projects", "set-webhook", project.id, url, env=live)
    assert await _stored_url(sqlite_url, project.id) == url
    refused = kassa_cli(
        "projects", "set-webhook", project.id, "ftp://x.example/", env=live, check=False
    )
    assert refused.returncode == 2
    assert "http or https" in refused.stderr
