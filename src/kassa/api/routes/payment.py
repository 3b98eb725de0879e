"""Acquiring methods: init and start a payment, confirm, cancel, capture."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.api import convert
from kassa.api.methods import Call, Runtime, idempotent, register
from kassa.api.routes.session import BOTH, RESPONSES
from kassa.api.schemas.payment import CaptureRequest, PaymentInitRequest, PaymentStartRequest
from kassa.api.schemas.session import SessionIdRequest
from kassa.domain.session import ApiVersion
from kassa.service import payments, session_actions
from kassa.service.commands import CapturePayment, SessionAction, StartPayment

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kassa.service.idempotency import Reply


async def _init(call: Call, body: PaymentInitRequest) -> Reply:
    project = call.caller.project
    cmd = StartPayment(project.id, ApiVersion(call.version), convert.draft(body, None))
    return await idempotent(
        call, lambda: payments.start_payment(call.deps, project, cmd), defer_claim=True
    )


async def _start(call: Call, body: PaymentStartRequest) -> Reply:
    project = call.caller.project
    cmd = StartPayment(
        project.id, ApiVersion(call.version), convert.draft(body, None), body.session_id
    )
    return await idempotent(
        call, lambda: payments.start_payment(call.deps, project, cmd), defer_claim=True
    )


async def _confirm(call: Call, body: SessionIdRequest) -> Reply:
    project = call.caller.project
    cmd = SessionAction(project.id, ApiVersion(call.version), body.session_id)
    return await idempotent(
        call, lambda: session_actions.confirm(call.deps, project, cmd), defer_claim=True
    )


async def _cancel(call: Call, body: SessionIdRequest) -> Reply:
    project = call.caller.project
    cmd = SessionAction(project.id, ApiVersion(call.version), body.session_id)
    return await idempotent(
        call, lambda: session_actions.cancel(call.deps, project, cmd), defer_claim=True
    )


async def _capture(call: Call, body: CaptureRequest) -> Reply:
    project = call.caller.project
    cmd = CapturePayment(
        project.id, ApiVersion(call.version), body.session_id, convert.money(body.amount_details)
    )
    return await idempotent(
        call, lambda: payments.capture_payment(call.deps, project, cmd), defer_claim=True
    )


def install(app: FastAPI, runtime: Runtime) -> None:
    """Register the acquiring methods (v1 and v2)."""
    session_ids = {"v1": SessionIdRequest, "v2": SessionIdRequest}
    register(
        app,
        runtime=runtime,
        path="session/init/payment",
        versions=BOTH,
        summary="Create a session and start a card or recurrent payment in one call",
        request_models={"v1": PaymentInitRequest, "v2": PaymentInitRequest},
        response_models=RESPONSES,
        handler=_init,
    )
    register(
        app,
        runtime=runtime,
        path="session/start/payment",
        versions=BOTH,
        summary="Start the payment of a created session (start data wins over create data)",
        request_models={"v1": PaymentStartRequest, "v2": PaymentStartRequest},
        response_models=RESPONSES,
        handler=_start,
    )
    register(
        app,
        runtime=runtime,
        path="session/confirm",
        versions=BOTH,
        summary="Confirm a payment after ready_to_confirm",
        request_models=session_ids,
        response_models=RESPONSES,
        handler=_confirm,
    )
    register(
        app,
        runtime=runtime,
        path="session/cancel",
        versions=BOTH,
        summary="Cancel a created session or a pending payment (releases a hold)",
        request_models=session_ids,
        response_models=RESPONSES,
        handler=_cancel,
    )
    register(
        app,
        runtime=runtime,
        path="session/capture",
        versions=BOTH,
        summary="Capture a held payment, fully or partially (the rest is released)",
        request_models={"v1": CaptureRequest, "v2": CaptureRequest},
        response_models=RESPONSES,
        handler=_capture,
    )
