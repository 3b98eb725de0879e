"""Dashboard actions over HTTP (SQLite and PostgreSQL): each confirmed, done once, audited.

Every action runs through the same service code as the API; its refusals carry the API's
status and code. A webhook replayed from the dashboard arrives again at a real receiver.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from dashboard_kit import DashboardClient, paid_session, session_status_ok
from kassa.adapters.keys import generate_private_key, public_pem
from kassa.domain.project import ProjectSettings
from testkit import KassaServer, ProjectHandle, SignedClient, create_project, table_rows, wait_for

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from webhook_receiver import Receiver


@pytest.fixture(scope="module")
def dash_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KassaServer]:
    """One server per database, delivering webhooks quickly."""
    running = KassaServer(
        module_database_url,
        tmp_path_factory.mktemp("dash-act"),
        KASSA_WORKER_POLL_SECONDS="0.05",
        KASSA_PROJECT_CACHE_SECONDS="0",
    ).start()
    yield running
    running.stop()


@pytest.fixture
async def dash(dash_server: KassaServer) -> AsyncIterator[DashboardClient]:
    """A logged-in client."""
    client = DashboardClient(dash_server)
    assert (await client.login()).status_code == 303
    yield client
    await client.aclose()


async def audit(server: KassaServer, action: str, target: str) -> list[dict[str, Any]]:
    """Audit rows of one action on one target, oldest first."""
    found = (await table_rows(server.database_url))["audit_log"]
    cols = ("id", "at", "username", "address", "action", "project_id", "target", "outcome")
    out = []
    for row in sorted(found):
        entry = dict(zip(cols, row[:8], strict=True))
        entry["before"] = json.loads(row[8]) if row[8] else None
        entry["after"] = json.loads(row[9]) if row[9] else None
        if entry["action"] == action and entry["target"] == target:
            out.append(entry)
    return out


async def session_status(server: KassaServer, project: ProjectHandle, sid: str) -> dict[str, Any]:
    """``session/status`` through the API."""
    client = SignedClient(server.base_url, project)
    try:
        return (await client.ok("session/status", {"session_id": sid}))["session"]
    finally:
        await client.aclose()


async def test_refund_is_confirmed_done_once_and_audited(dash: DashboardClient) -> None:
    """Refund: a confirmation page first; then the refund, its audit row with before/after."""
    project, sid = await paid_session(dash.server)
    fields = {"project_id": project.id, "session_id": sid, "amount": "2500"}
    page = await dash.confirm_page("refund", fields)
    assert page.status_code == 200
    assert "Refund the payment?" in page.text
    assert await audit(dash.server, "refund", sid) == []  # nothing done yet
    done = await dash.act("refund", fields)
    assert done.status_code == 303, done.text[:500]
    assert done.headers["location"].startswith(f"/dashboard/sessions/{sid}")
    got = await session_status(dash.server, project, sid)
    [refund] = got["acquiring_payments"][0]["refunds"]
    assert refund["amount_details"]["amount"] == 2500
    [row] = await audit(dash.server, "refund", sid)
    assert row["outcome"] == "ok"
    assert row["username"] == "admin"
    assert row["address"] == "127.0.0.1"
    assert row["project_id"] == project.id
    assert len(row["before"]["operations"]) == 1
    assert len(row["after"]["operations"]) == 2


async def test_double_submitted_action_acts_once(dash: DashboardClient) -> None:
    """The same confirmed form posted twice: one refund; the second post is 409."""
    project, sid = await paid_session(dash.server)
    fields = {"project_id": project.id, "session_id": sid, "amount": "1000"}
    page = await dash.confirm_page("refund", fields)
    from dashboard_kit import confirmed_form

    form = confirmed_form(page.text)
    first = await dash.http.post("/dashboard/act/refund", data=form)
    second = await dash.http.post("/dashboard/act/refund", data=form)
    assert first.status_code == 303
    assert second.status_code == 409
    assert "acted once" in second.text
    got = await session_status(dash.server, project, sid)
    assert len(got["acquiring_payments"][0]["refunds"]) == 1
    assert len(await audit(dash.server, "refund", sid)) == 1


async def test_over_refund_shows_the_apis_422(dash: DashboardClient) -> None:
    """Refunding more than was captured: 422 refund_amount_exceeded, as the API answers."""
    project, sid = await paid_session(dash.server)
    client = SignedClient(dash.server.base_url, project)
    try:
        api = await client.post(
            "session/refund",
            {"session_id": sid, "amount_details": {"amount": 20000, "currency": "usd"}},
        )
    finally:
        await client.aclose()
    assert api.status_code == 422
    error = api.json()["error"]
    done = await dash.act(
        "refund", {"project_id": project.id, "session_id": sid, "amount": "20000"}
    )
    assert done.status_code == 422
    assert error["code"] == "refund_amount_exceeded"
    assert f"{error['code']}: {error['description']}" in done.text.replace("&#39;", "'")
    [row] = await audit(dash.server, "refund", sid)
    assert row["outcome"] == "refund_amount_exceeded"


@pytest.mark.parametrize("action", ["confirm", "cancel", "capture", "refund"])
async def test_another_projects_or_a_missing_session_is_404(
    dash: DashboardClient, action: str
) -> None:
    """A session named under another project, or no session at all: 404, nothing done."""
    _, sid = await paid_session(dash.server, confirm=False)
    other = await create_project(dash.server.database_url)
    for project_id, session_id in ((other.id, sid), (other.id, "ps_missing")):
        done = await dash.act(action, {"project_id": project_id, "session_id": session_id})
        assert done.status_code == 404, done.text[:300]
    missing = await dash.act(
        "topup", {"project_id": "pj_missing", "amount": "1", "currency": "usd"}
    )
    assert missing.status_code == 404
    replay = await dash.act("replay", {"project_id": other.id, "delivery_id": "1"})
    assert replay.status_code == 404


async def test_confirm_cancel_and_capture_act_as_the_api(dash: DashboardClient) -> None:
    """Confirm captures a waiting payment; cancel cancels a created session; capture a hold."""
    project, sid = await paid_session(dash.server, confirm=False)
    assert (
        await dash.act("confirm", {"project_id": project.id, "session_id": sid})
    ).status_code == 303
    assert (await session_status(dash.server, project, sid))["status"] == "accepted"

    client = SignedClient(dash.server.base_url, project)
    try:
        bare = await client.ok(
            "session/create", {"amount_details": {"amount": 100, "currency": "usd"}}
        )
    finally:
        await client.aclose()
    bare_id = bare["session"]["id"]
    assert (
        await dash.act("cancel", {"project_id": project.id, "session_id": bare_id})
    ).status_code == 303
    assert (await session_status(dash.server, project, bare_id))["status"] == "cancelled"

    held, hid = await paid_session(
        dash.server, settings=ProjectSettings(two_step_capture=True), confirm=False
    )
    done = await dash.act("capture", {"project_id": held.id, "session_id": hid, "amount": "4000"})
    assert done.status_code == 303, done.text[:500]
    payment = (await session_status(dash.server, held, hid))["acquiring_payments"][0]
    assert payment["status"] == "succeeded", payment
    for action, target in (("confirm", sid), ("cancel", bare_id), ("capture", hid)):
        [row] = await audit(dash.server, action, target)
        assert row["outcome"] == "ok"
        assert row["before"]["status"] != row["after"]["status"] or action == "capture"


async def test_replay_sends_the_webhook_again(dash: DashboardClient, receiver: Receiver) -> None:
    """Replay from the session page: the same signed bytes arrive a second time."""
    tag = uuid.uuid4().hex
    project, sid = await paid_session(dash.server, webhook_url=receiver.url(tag))
    await wait_for(lambda: "payment_finished" in receiver.types(sid), 15)
    page = await dash.get(f"/dashboard/sessions/{sid}")
    import re

    found = re.search(
        r'id="delivery-(\d+)">\s*<h3>#\d+ <code class="event">payment_finished', page.text
    )
    assert found, page.text[-3000:]
    done = await dash.act("replay", {"project_id": project.id, "delivery_id": found[1]})
    assert done.status_code == 303
    await wait_for(lambda: receiver.types(sid).count("payment_finished") == 2, 15)
    first, second = [r for r in receiver.for_session(sid) if r.json["type"] == "payment_finished"]
    assert first.body == second.body
    assert first.signature == second.signature
    [row] = await audit(dash.server, "replay", found[1])
    assert row["after"]["replay_of"] == int(found[1])


async def test_topup_moves_the_wallet(dash: DashboardClient) -> None:
    """Top-up: the wallet balance (ledger) grows; audit keeps before and after."""
    project = await create_project(dash.server.database_url)
    done = await dash.act("topup", {"project_id": project.id, "amount": "50000", "currency": "usd"})
    assert done.status_code == 303
    page = await dash.get(f"/dashboard/projects/{project.id}")
    assert "500.00 USD" in page.text
    [row] = await audit(dash.server, "topup", "50000 usd")
    assert row["before"] == {}
    assert row["after"]["balances"] == {"usd": 50000}
    bad = await dash.act("topup", {"project_id": project.id, "amount": "0", "currency": "usd"})
    assert bad.status_code == 400


async def test_create_project_from_an_uploaded_key_and_rotate_it(dash: DashboardClient) -> None:
    """Create a project from a PEM file; add a new key; requests signed with it are accepted."""
    first = generate_private_key()
    done = await dash.act(
        "create_project",
        {"name": "uploaded", "webhook_url": ""},
        files={"key_file": ("partner_public.pem", public_pem(first).encode(), "text/plain")},
    )
    assert done.status_code == 303, done.text[:500]
    project_id = done.headers["location"].split("/dashboard/projects/")[1].split("?")[0]
    handle = ProjectHandle(project_id, first)
    assert await session_status_ok(dash.server, handle)
    second = generate_private_key()
    done = await dash.act(
        "add_key", {"project_id": project_id, "public_key_pem": public_pem(second)}
    )
    assert done.status_code == 303
    assert await session_status_ok(dash.server, ProjectHandle(project_id, second))
    [row] = await audit(dash.server, "add_key", project_id)
    assert len(row["before"]["keys"]) == 1
    assert len(row["after"]["keys"]) == 2
    bad = await dash.act("add_key", {"project_id": project_id, "public_key_pem": "not a key"})
    assert bad.status_code == 400


async def test_webhook_url_origins_and_settings(dash: DashboardClient) -> None:
    """The project's webhook URL, widget origins and settings change, each audited."""
    project = await create_project(dash.server.database_url)
    pid = project.id
    url = "http://127.0.0.1:9/hooks"
    assert (await dash.act("webhook", {"project_id": pid, "webhook_url": url})).status_code == 303
    origins = "https://shop.example\nhttps://pay.example"
    assert (await dash.act("origins", {"project_id": pid, "origins": origins})).status_code == 303
    done = await dash.act(
        "settings", {"project_id": pid, "auto_confirm": "on", "partial_refunds": ""}
    )
    assert done.status_code == 303
    [hook] = await audit(dash.server, "webhook", pid)
    assert hook["after"]["webhook_url"] == url
    [orig] = await audit(dash.server, "origins", pid)
    assert orig["after"]["widget_origins"] == ["https://shop.example", "https://pay.example"]
    [sett] = await audit(dash.server, "settings", pid)
    assert sett["before"]["settings"]["auto_confirm"] is False
    assert sett["after"]["settings"] == {
        "auto_confirm": True,
        "two_step_capture": False,
        "partial_refunds": False,
    }
    bad = await dash.act("origins", {"project_id": pid, "origins": "javascript:alert(1)"})
    assert bad.status_code == 400


async def test_audit_log_page_lists_actions(dash: DashboardClient) -> None:
    """The audit page shows the actions with who and the outcome."""
    project = await create_project(dash.server.database_url)
    await dash.act("topup", {"project_id": project.id, "amount": "700", "currency": "usd"})
    page = await dash.get("/dashboard/audit")
    assert page.status_code == 200
    assert project.id in page.text
    assert "topup" in page.text


async def test_overview_shows_figures_wallets_queue_and_ledger_status(
    dash: DashboardClient,
) -> None:
    """The overview: a USD row and chart, this project's wallet, the queue, ledger check OK."""
    project, _ = await paid_session(dash.server)
    await dash.act("topup", {"project_id": project.id, "amount": "12345", "currency": "usd"})

    async def checked() -> bool:
        return "Checking" not in (await dash.get("/dashboard")).text

    await wait_for(checked, 15)
    page = (await dash.get("/dashboard")).text
    assert '<th scope="row">USD</th>' in page
    assert "<rect " in page
    assert f'href="/dashboard/projects/{project.id}"' in page
    assert "123.45 USD" in page
    assert 'id="queue-depth"' in page
    assert 'id="ledger-status">OK' in page
