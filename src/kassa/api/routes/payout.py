"""Payout methods: init/start payout, multi/init (v2), FPS, wallet/balance, chargeback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.api import convert
from kassa.api.methods import Call, Runtime, idempotent, register
from kassa.api.routes.session import BOTH, RESPONSES
from kassa.api.schemas.payout import (
    ChargebackRequest,
    FpsBanksRequest,
    FpsBanksResponse,
    FpsVerificationV1,
    FpsVerificationV2,
    MultiInitRequest,
    PayoutInitV1,
    PayoutInitV2,
    PayoutStartV1,
    PayoutStartV2,
    WalletBalanceRequest,
    WalletBalanceResponse,
)
from kassa.api.schemas.session import SessionResponseV2
from kassa.domain.session import ApiVersion
from kassa.service import fps, multi, payouts, refunds, wallet
from kassa.service.commands import MultiInit, SessionAction, StartPayout, VerifyFpsCustomer

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kassa.api.schemas.session import _SessionData
    from kassa.service.commands import DraftInput
    from kassa.service.idempotency import Reply


def _session_id(body: _SessionData) -> str:
    if not isinstance(body, PayoutStartV1 | PayoutStartV2):  # pragma: no cover - by route
        msg = "a session_id request was expected"
        raise TypeError(msg)
    return body.session_id


def _draft(body: _SessionData) -> DraftInput:
    payout = getattr(body, "payment_method", None) or getattr(body, "payout_details", None)
    return convert.draft(body, payout)


async def _init(call: Call, body: _SessionData) -> Reply:
    project = call.caller.project
    cmd = StartPayout(project.id, ApiVersion(call.version), _draft(body))
    return await idempotent(
        call, lambda: payouts.start_payout(call.deps, project, cmd), defer_claim=True
    )


async def _start(call: Call, body: _SessionData) -> Reply:
    project = call.caller.project
    cmd = StartPayout(project.id, ApiVersion(call.version), _draft(body), _session_id(body))
    return await idempotent(
        call, lambda: payouts.start_payout(call.deps, project, cmd), defer_claim=True
    )


async def _multi(call: Call, body: MultiInitRequest) -> Reply:
    project = call.caller.project
    cmd = MultiInit(
        project.id,
        ApiVersion(call.version),
        tuple(convert.draft(p, None) for p in body.payment_list),
        tuple(convert.draft(p, p.payout_details) for p in body.payout_list),
    )
    return await idempotent(call, lambda: multi.multi_init(call.deps, project, cmd))


async def _verify(call: Call, body: _SessionData) -> Reply:
    project = call.caller.project
    sid = _session_id(body)
    cmd = VerifyFpsCustomer(project.id, ApiVersion(call.version), sid, _draft(body))
    return await idempotent(call, lambda: fps.verify_customer(call.deps, project, cmd))


async def _banks(call: Call, _body: FpsBanksRequest) -> Reply:
    return await fps.banks(call.deps)


async def _balance(call: Call, _body: WalletBalanceRequest) -> Reply:
    return await wallet.balance_reply(call.deps.store, call.caller.project.id)


async def _chargeback(call: Call, body: ChargebackRequest) -> Reply:
    project = call.caller.project
    cmd = SessionAction(project.id, ApiVersion(call.version), body.session_id)
    return await idempotent(call, lambda: refunds.chargeback_session(call.deps, project, cmd))


def install(app: FastAPI, runtime: Runtime) -> None:
    """Register the payout methods."""
    register(
        app,
        runtime=runtime,
        path="session/init/payout",
        versions=BOTH,
        summary="Create a session and start a payout from the prefunded wallet in one call",
        request_models={"v1": PayoutInitV1, "v2": PayoutInitV2},
        response_models=RESPONSES,
        handler=_init,
    )
    register(
        app,
        runtime=runtime,
        path="session/start/payout",
        versions=BOTH,
        summary="Start a payout in a created session (or another one after a finished payout)",
        request_models={"v1": PayoutStartV1, "v2": PayoutStartV2},
        response_models=RESPONSES,
        handler=_start,
    )
    register(
        app,
        runtime=runtime,
        path="session/multi/init",
        versions=("v2",),
        summary="One session with several payments and payouts, validated all or nothing",
        request_models={"v2": MultiInitRequest},
        response_models={"v2": SessionResponseV2},
        handler=_multi,
    )
    register(
        app,
        runtime=runtime,
        path="fps/customer_verification",
        versions=BOTH,
        summary="Whether a phone is registered in the Faster Payment System (sandbox rules)",
        request_models={"v1": FpsVerificationV1, "v2": FpsVerificationV2},
        response_models=RESPONSES,
        handler=_verify,
    )
    register(
        app,
        runtime=runtime,
        path="fps/banks",
        versions=("v1",),
        summary="The banks of the Faster Payment System (GET with a signed [] body, or POST)",
        request_models={"v1": FpsBanksRequest},
        response_models={"v1": FpsBanksResponse},
        handler=_banks,
        http_methods=("GET", "POST"),
    )
    register(
        app,
        runtime=runtime,
        path="wallet/balance",
        versions=("v1",),
        summary="The prefunded payout wallet per currency, read from the ledger",
        request_models={"v1": WalletBalanceRequest},
        response_models={"v1": WalletBalanceResponse},
        handler=_balance,
    )
    register(
        app,
        runtime=runtime,
        path="session/chargeback",
        versions=BOTH,
        summary="Sandbox only: charge back what is left of the session's payment",
        request_models={"v1": ChargebackRequest, "v2": ChargebackRequest},
        response_models=RESPONSES,
        handler=_chargeback,
    )
