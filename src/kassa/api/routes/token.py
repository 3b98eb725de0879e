"""``token`` (v1): a public token for the card widgets (``token/info`` is in ``recurrent.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.api.methods import Call, Runtime, idempotent, register
from kassa.api.schemas.widgets import TokenRequest, TokenResponse, flag
from kassa.domain.public_token import AcquiringWidget, TokenizeWidget
from kassa.service import public_tokens
from kassa.service.commands import IssueToken

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kassa.service.idempotency import Reply


def command(project_id: str, body: TokenRequest) -> IssueToken:
    """The wire request as a command."""
    tokenize = body.tokenize_widget
    acquiring = body.acquiring_widget
    return IssueToken(
        project_id=project_id,
        tokenize=None if tokenize is None else TokenizeWidget(locale=tokenize.locale),
        acquiring=None
        if acquiring is None
        else AcquiringWidget(
            session_id=acquiring.session_id,
            locale=acquiring.locale,
            show_recurrent_checkbox=flag(acquiring.show_recurrent_checkbox),
            success_return_url=acquiring.success_return_url,
            failure_return_url=acquiring.failure_return_url,
            success_on_hold=flag(acquiring.success_on_hold),
        ),
        fps_session_id=None
        if body.fps_no_account_widget is None
        else body.fps_no_account_widget.session_id,
    )


async def _token(call: Call, body: TokenRequest) -> Reply:
    cmd = command(call.caller.project.id, body)
    return await idempotent(call, lambda: public_tokens.issue_token(call.deps, cmd))


def install(app: FastAPI, runtime: Runtime) -> None:
    """Register ``token``."""
    register(
        app,
        runtime=runtime,
        path="token",
        versions=("v1",),
        summary="Issue a public token for the tokenization or acquiring widget (24 h, one use)",
        request_models={"v1": TokenRequest},
        response_models={"v1": TokenResponse},
        handler=_token,
    )
