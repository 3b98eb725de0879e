"""``session/refund`` (v1 and v2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.api import convert
from kassa.api.methods import Call, Runtime, idempotent, register
from kassa.api.routes.session import BOTH, RESPONSES
from kassa.api.schemas.payment import RefundRequest
from kassa.domain.session import ApiVersion
from kassa.service import refunds
from kassa.service.commands import RefundPayment

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kassa.service.idempotency import Reply


async def _refund(call: Call, body: RefundRequest) -> Reply:
    project = call.caller.project
    cmd = RefundPayment(
        project_id=project.id,
        api_version=ApiVersion(call.version),
        session_id=body.session_id,
        amount=convert.money(body.amount_details),
        metadata=body.metadata,
        has_metadata="metadata" in body.model_fields_set,
    )
    return await idempotent(
        call, lambda: refunds.refund_payment(call.deps, project, cmd), defer_claim=True
    )


def install(app: FastAPI, runtime: Runtime) -> None:
    """Register ``session/refund``."""
    register(
        app,
        runtime=runtime,
        path="session/refund",
        versions=BOTH,
        summary="Refund a succeeded payment, fully or partially",
        request_models={"v1": RefundRequest, "v2": RefundRequest},
        response_models=RESPONSES,
        handler=_refund,
    )
