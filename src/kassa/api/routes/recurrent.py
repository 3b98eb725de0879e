"""``recurrent/status``, ``recurrent/disable`` and ``token/info`` (v1 only, as clients call)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.api.methods import Call, Runtime, idempotent, register
from kassa.api.schemas.payment import (
    RecurrentRequest,
    RecurrentResponse,
    TokenInfoRequest,
    TokenInfoResponse,
)
from kassa.service import public_tokens, tokens
from kassa.service.commands import RecurrentTokenQuery

if TYPE_CHECKING:
    from fastapi import FastAPI
    from pydantic import BaseModel

    from kassa.service.idempotency import Reply

V1 = ("v1",)


async def _status(call: Call, body: RecurrentRequest) -> Reply:
    cmd = RecurrentTokenQuery(call.caller.project.id, body.recurrent.token)
    return await tokens.recurrent_status(call.deps, cmd)


async def _disable(call: Call, body: RecurrentRequest) -> Reply:
    cmd = RecurrentTokenQuery(call.caller.project.id, body.recurrent.token)
    return await idempotent(call, lambda: tokens.disable_recurrent(call.deps, cmd))


async def _info(call: Call, body: TokenInfoRequest) -> Reply:
    project_id = call.caller.project.id
    if body.card is not None and body.type == "card":
        return await tokens.card_info(call.deps, project_id, body.card.encrypted_card.number_hash)
    if body.recurrent_token is not None and body.type == "recurrent_token":
        return await tokens.recurrent_info(call.deps, project_id, body.recurrent_token.token)
    token = body.public_token.token if body.public_token is not None else ""
    return await public_tokens.token_info(call.deps, project_id, token)


def install(app: FastAPI, runtime: Runtime) -> None:
    """Register the token methods."""
    recurrent_models = {"v1": RecurrentRequest}
    recurrent_responses: dict[str, type[BaseModel]] = {"v1": RecurrentResponse}
    register(
        app,
        runtime=runtime,
        path="recurrent/status",
        versions=V1,
        summary="Whether a recurrent token is active",
        request_models=recurrent_models,
        response_models=recurrent_responses,
        handler=_status,
    )
    register(
        app,
        runtime=runtime,
        path="recurrent/disable",
        versions=V1,
        summary="Disable a recurrent token; later charges get recurrent_token_inactive",
        request_models=recurrent_models,
        response_models=recurrent_responses,
        handler=_disable,
    )
    register(
        app,
        runtime=runtime,
        path="token/info",
        versions=V1,
        summary="Masked card behind a number_hash; a recurrent or public token's state",
        request_models={"v1": TokenInfoRequest},
        response_models={"v1": TokenInfoResponse},
        handler=_info,
    )
