"""``session/create`` and ``session/status`` (v1 and v2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.api import convert
from kassa.api.methods import Call, Runtime, idempotent, register
from kassa.api.schemas.session import (
    SessionCreateV1,
    SessionCreateV2,
    SessionIdRequest,
    SessionResponseV1,
    SessionResponseV2,
    _SessionData,
)
from kassa.domain.session import ApiVersion
from kassa.service import sessions
from kassa.service.commands import CreateSession, GetSession

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kassa.service.idempotency import Reply

RESPONSES = {"v1": SessionResponseV1, "v2": SessionResponseV2}
BOTH = ("v1", "v2")


async def _create(call: Call, body: _SessionData) -> Reply:
    payout = body.payout_details if isinstance(body, SessionCreateV2) else None
    if isinstance(body, SessionCreateV1):
        payout = body.payment_method
    cmd = CreateSession(
        project_id=call.caller.project.id,
        api_version=ApiVersion(call.version),
        draft=convert.draft(body, payout),
    )
    return await idempotent(call, lambda: sessions.create_session(call.deps, cmd), defer_claim=True)


async def _status(call: Call, body: SessionIdRequest) -> Reply:
    cmd = GetSession(call.caller.project.id, ApiVersion(call.version), body.session_id)
    return await sessions.session_status(call.deps, cmd)


def install(app: FastAPI, runtime: Runtime) -> None:
    """Register the session methods."""
    register(
        app,
        runtime=runtime,
        path="session/create",
        versions=BOTH,
        summary="Create a payment session, optionally pre-filled with operation data",
        request_models={"v1": SessionCreateV1, "v2": SessionCreateV2},
        response_models=RESPONSES,
        handler=_create,
    )
    register(
        app,
        runtime=runtime,
        path="session/status",
        versions=BOTH,
        summary="Full state of a session with all its operations",
        request_models={"v1": SessionIdRequest, "v2": SessionIdRequest},
        response_models=RESPONSES,
        handler=_status,
    )
