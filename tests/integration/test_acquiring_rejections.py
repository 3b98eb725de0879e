"""Forbidden operations change nothing; every acquiring method speaks its version's names.

What the state does not allow is 409 ``invalid_session_status`` with session, ledger and
webhooks unchanged. SQLite and PostgreSQL, in process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from acquiring_kit import init_body

if TYPE_CHECKING:
    from acquiring_kit import Kassa

FORBIDDEN: list[tuple[str, dict[str, bool], list[str], str]] = [
    # (name, project settings, steps that set the state up, the forbidden operation)
    ("confirm twice", {}, ["init", "confirm"], "confirm"),
    ("capture a confirmed payment", {}, ["init", "confirm"], "capture"),
    ("capture a payment waiting for confirm", {}, ["init"], "capture"),
    ("confirm a hold", {"two_step_capture": True}, ["init"], "confirm"),
    ("capture twice", {"two_step_capture": True}, ["init", "capture"], "capture"),
    ("capture a cancelled hold", {"two_step_capture": True}, ["init", "cancel"], "capture"),
    ("confirm during 3DS", {}, ["init_3ds"], "confirm"),
    ("refund a created session", {}, ["create"], "refund"),
    ("refund a pending payment", {}, ["init"], "refund"),
    ("refund a declined payment", {}, ["init_declined"], "refund"),
    ("refund a cancelled payment", {}, ["init", "cancel"], "refund"),
    ("confirm a created session", {}, ["create"], "confirm"),
    ("start on a cancelled session", {}, ["create", "cancel"], "start"),
    ("start on a session with a payment", {}, ["init"], "start"),
    ("cancel a succeeded payment", {"auto_confirm": True}, ["init"], "cancel"),
    ("cancel a declined payment", {}, ["init_declined"], "cancel"),
    ("cancel twice", {}, ["init", "cancel"], "cancel"),
]


async def _step(kassa: Kassa, sid: str | None, step: str) -> str:
    numbers = {"init": "4242424242424242", "init_3ds": "4000000000003220"}
    numbers["init_declined"] = "4000000000000002"
    if step in numbers:
        session = await kassa.ok("session/init/payment", init_body(numbers[step]))
        return str(session["session"]["id"])
    if step == "create":
        return str((await kassa.ok("session/create", {}))["session"]["id"])
    assert sid is not None
    body: dict[str, Any] = {"session_id": sid}
    if step == "start":
        body |= init_body()
    await kassa.ok(f"session/{step}", body)
    return sid


async def _snapshot(kassa: Kassa, sid: str) -> tuple[Any, ...]:
    entries = [e for e in await kassa.store.ledger_entries() if e.project_id == kassa.project.id]
    vault = await kassa.store.driver.fetch("SELECT COUNT(*) FROM vault_cards")
    return await kassa.session(sid), entries, await kassa.webhooks(sid), vault


@pytest.mark.parametrize(
    ("settings", "steps", "operation"),
    [pytest.param(s, steps, op, id=name) for name, s, steps, op in FORBIDDEN],
)
async def test_forbidden_operation_is_409_and_changes_nothing(
    open_kassa: Any, settings: dict[str, bool], steps: list[str], operation: str
) -> None:
    """409 invalid_session_status naming the state; session, ledger, webhooks unchanged."""
    kassa = await open_kassa(**settings)
    sid: str | None = None
    for step in steps:
        sid = await _step(kassa, sid, step)
    assert sid is not None
    before = await _snapshot(kassa, sid)
    body: dict[str, Any] = {"session_id": sid}
    if operation == "start":
        body |= init_body()
    method = "session/start/payment" if operation == "start" else f"session/{operation}"
    description = await kassa.error(method, body, 409, "invalid_session_status")
    assert description
    assert await _snapshot(kassa, sid) == before
    await kassa.ledger_ok()


def _names(session: dict[str, Any], version: str) -> None:
    assert "payments" not in session
    if version == "v2":
        assert "acquiring_payments" not in session
        assert "payment_list" in session
    else:
        assert "payment_list" not in session
        assert "acquiring_payments" in session


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_every_acquiring_method_answers_in_its_version_names(
    open_kassa: Any, version: str
) -> None:
    """init, start, status, confirm, cancel, capture, refund: payment_list on v2 only.

    Webhooks use the names of the version the session was created with.
    """
    plain = await open_kassa()
    held = await open_kassa(two_step_capture=True)

    async def call(kassa: Kassa, method: str, body: dict[str, Any]) -> dict[str, Any]:
        session: dict[str, Any] = (await kassa.ok(method, body, version=version))["session"]
        _names(session, version)
        return session

    sid = (await call(plain, "session/init/payment", init_body()))["id"]
    await call(plain, "session/status", {"session_id": sid})
    await call(plain, "session/confirm", {"session_id": sid})
    half = {"amount": 5000, "currency": "usd"}
    refunded = await call(plain, "session/refund", {"session_id": sid, "amount_details": half})
    key = "payment_list" if version == "v2" else "acquiring_payments"
    assert refunded[key][0]["refunds"][0]["amount_details"] == half
    created = (await plain.ok("session/create", {}, version=version))["session"]["id"]
    await call(plain, "session/start/payment", {"session_id": created, **init_body()})
    await call(plain, "session/cancel", {"session_id": created})
    hold = (await call(held, "session/init/payment", init_body()))["id"]
    await call(held, "session/capture", {"session_id": hold, "amount_details": half})
    for kassa, session_id in ((plain, sid), (plain, created), (held, hold)):
        for hook in await kassa.webhooks(session_id):
            _names(hook["session"], version)
    other = "v1" if version == "v2" else "v2"
    crossed = (await plain.ok("session/status", {"session_id": sid}, version=other))["session"]
    _names(crossed, other)
