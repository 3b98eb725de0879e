"""Hypothesis drives random sequences of API calls against a model of the state machine.

After every call the answer must match the model (200, or 409/422 with nothing changed), and
the ledger must hold its invariants and equal the model's balances. Runs in-process on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acquiring_kit import BASE, Kassa, init_body
from kassa.domain.project import ProjectSettings
from kassa.service.timeouts import sweep_timeouts

if TYPE_CHECKING:
    from pathlib import Path

CARDS = ["4242424242424242", "4000000000003220", "4000000000000002"]


@dataclass
class Model:
    """What the model expects of one session."""

    sid: str
    kassa: Kassa
    state: str  # confirm | capture | customer | succeeded | failed
    amount: int
    held: int = 0
    captured: int = 0
    refunded: int = 0
    three_ds: dict[str, Any] | None = None


def _after_authorisation(model: Model, two_step: bool) -> None:
    model.held = model.amount
    model.state = "capture" if two_step else "confirm"


async def _init(kassa: Kassa, card: int, amount: int, two_step: bool) -> Model:
    session = (await kassa.ok("session/init/payment", init_body(CARDS[card], amount=amount)))[
        "session"
    ]
    payment = session["acquiring_payments"][0]
    model = Model(session["id"], kassa, "failed", amount)
    if card == 0:
        _after_authorisation(model, two_step)
    elif card == 1:
        model.state = "customer"
        model.three_ds = payment["customer_interaction"]["redirect"]
    return model


async def _apply(model: Model, op: str, value: int, two_step: bool) -> None:  # noqa: PLR0912
    kassa, body = model.kassa, {"session_id": model.sid}
    if op == "confirm":
        response = await kassa.post("session/confirm", body)
        if model.state == "confirm":
            model.captured, model.held, model.state = model.held, 0, "succeeded"
            assert response.status_code == 200, response.text
        else:
            assert response.status_code == 409, response.text
    elif op == "cancel":
        response = await kassa.post("session/cancel", body)
        if model.state in {"confirm", "capture", "customer"}:
            model.held, model.state = 0, "failed"
            assert response.status_code == 200, response.text
        else:
            assert response.status_code == 409, response.text
    elif op == "capture":
        amount = max(1, model.held * value // 100)
        body["amount_details"] = {"amount": amount, "currency": "usd"}
        response = await kassa.post("session/capture", body)
        if model.state == "capture":
            model.captured, model.held, model.state = amount, 0, "succeeded"
            assert response.status_code == 200, response.text
        else:
            assert response.status_code == 409, response.text
    elif op == "refund":
        amount = max(1, model.amount * value // 100)
        if value == 100:  # no amount_details: refund all that is left
            amount = max(1, model.captured - model.refunded)
        else:
            body["amount_details"] = {"amount": amount, "currency": "usd"}
        response = await kassa.post("session/refund", body)
        if model.state != "succeeded":
            assert response.status_code == 409, response.text
        elif amount > model.captured - model.refunded:
            assert response.status_code == 422, response.text
        else:
            model.refunded += amount
            assert response.status_code == 200, response.text
    elif op == "three_ds":
        if model.three_ds is None:
            return
        result = "pass" if value % 2 else "fail"
        token = model.three_ds["qs"]["token"]
        url = model.three_ds["base_url"].removeprefix(BASE)
        response = await kassa.http.post(url, data={"token": token, "result": result})
        if model.state != "customer":
            assert response.status_code == 409, response.text
        elif result == "pass":
            _after_authorisation(model, two_step)
        else:
            model.state = "failed"
    status = await kassa.session(model.sid)
    payment = status["acquiring_payments"][0]
    expected = {"succeeded": "succeeded", "failed": "failed"}.get(model.state, "pending")
    assert payment["status"] == expected, (model, payment)


async def _check_ledger(models: list[Model], kassa: Kassa) -> None:
    await kassa.ledger_ok()
    mine = [m for m in models if m.kassa is kassa]
    holds = sum(m.held for m in mine)
    captured = sum(m.captured - m.refunded for m in mine)
    balances = await kassa.balances({m.sid for m in mine})
    assert balances.get("holds", 0) == holds
    assert balances.get("merchant_balance", 0) == captured
    assert balances.get("payer_funds", 0) == -(holds + captured)


OPS = st.lists(
    st.tuples(
        st.sampled_from(["confirm", "cancel", "capture", "refund", "three_ds", "sweep"]),
        st.integers(0, 3),
        st.integers(1, 100),
    ),
    min_size=1,
    max_size=12,
)


def test_random_api_sequences_follow_the_model_and_keep_the_ledger_sound(
    database_url: str, tmp_path: Path
) -> None:
    """Any sequence of init/confirm/cancel/capture/refund/3DS/sweep keeps model and ledger equal."""
    loop = asyncio.new_event_loop()
    plain = loop.run_until_complete(Kassa.open(database_url, tmp_path, ProjectSettings()))
    held = loop.run_until_complete(
        Kassa.open(database_url, tmp_path, ProjectSettings(two_step_capture=True))
    )
    clock_offset = [timedelta(0)]

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.lists(
            st.tuples(st.integers(0, 2), st.integers(1, 50_000), st.booleans()),
            min_size=1,
            max_size=4,
        ),
        OPS,
    )
    def run(sessions: list[tuple[int, int, bool]], ops: list[tuple[str, int, int]]) -> None:
        async def go() -> None:
            models = [
                await _init(held if two else plain, card, amount, two)
                for card, amount, two in sessions
            ]
            for op, index, value in ops:
                model = models[index % len(models)]
                two_step = model.kassa is held
                if op == "sweep":
                    clock_offset[0] += timedelta(days=10)
                    now = plain.deps.clock.now() + clock_offset[0]
                    await sweep_timeouts(plain.deps, now)
                    for m in models:
                        if m.state in {"confirm", "capture", "customer"}:
                            m.held, m.state = 0, "failed"
                else:
                    await _apply(model, op, value, two_step)
                for kassa in (plain, held):
                    await _check_ledger(models, kassa)

        loop.run_until_complete(go())

    try:
        run()
    finally:
        loop.run_until_complete(plain.close())
        loop.run_until_complete(held.close())
        loop.close()
