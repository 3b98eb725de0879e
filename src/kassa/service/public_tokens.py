"""Public tokens: the ``token`` method, ``token/info`` for them, and opening a widget with one.

The token is ``secrets.token_hex(32)``, returned once; kassa stores only its SHA-256. A widget
page finds the token by that hash (the page knows no project), checks it opens that widget and
is still active, and signs its form with a form token bound to the public token
(``form_token``), so a post without the page's form token is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from kassa.domain.errors import (
    CsrfMismatch,
    InvalidRequest,
    InvalidSessionStatus,
    PublicTokenNotFound,
    TooManyAttempts,
)
from kassa.domain.public_token import PublicToken, TokenState, WidgetKind, hash_token
from kassa.domain.session import SessionStatus
from kassa.service.idempotency import Reply, commit_reply
from kassa.service.operations import load_session
from kassa.service.wire import ok_reply, timestamp

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.domain.json import JSONObject
    from kassa.domain.project import Project
    from kassa.domain.session import PaymentSession
    from kassa.service.commands import IssueToken
    from kassa.service.deps import Deps, WidgetPolicy

_FORM_CONTEXT = b"kassa-widget-form\n"


async def _payable_session(deps: Deps, project_id: str, session_id: str) -> PaymentSession:
    """The session an acquiring widget may pay: created, with an amount and a customer."""
    session = await load_session(deps, project_id, session_id)
    if session.status is not SessionStatus.CREATED or session.payments:
        msg = f"acquiring_widget.session_id: session {session.id} is {session.status}, not created"
        raise InvalidSessionStatus(msg)
    if session.draft.amount is None:
        msg = "acquiring_widget.session_id: the session has no amount_details (give it at create)"
        raise InvalidRequest(msg)
    reference = (session.draft.customer or {}).get("reference")
    if not isinstance(reference, str) or not reference:
        msg = (
            "acquiring_widget.session_id: the session has no customer.reference (give it at create)"
        )
        raise InvalidRequest(msg)
    return session


async def issue_token(deps: Deps, cmd: IssueToken) -> Reply:
    """``token``: a public token for the given widgets, bound to the project (and session)."""
    if cmd.tokenize is None and cmd.acquiring is None and cmd.fps_session_id is None:
        msg = "body: at least one of tokenize_widget, acquiring_widget, fps_no_account_widget"
        raise InvalidRequest(msg)
    if cmd.acquiring is not None:
        await _payable_session(deps, cmd.project_id, cmd.acquiring.session_id)
        if cmd.fps_session_id not in {None, cmd.acquiring.session_id}:
            msg = "fps_no_account_widget.session_id: must be acquiring_widget's session"
            raise InvalidRequest(msg)
    elif cmd.fps_session_id is not None:
        await load_session(deps, cmd.project_id, cmd.fps_session_id)
    token = secrets.token_hex(32)
    now = deps.clock.now()
    stored = PublicToken(
        token_hash=hash_token(token),
        project_id=cmd.project_id,
        created_at=now,
        expires_at=now + deps.widgets.token_lifetime,
        tokenize=cmd.tokenize,
        acquiring=cmd.acquiring,
        fps_session_id=cmd.fps_session_id,
    )
    async with deps.store.unit_of_work() as uow:
        uow.add_public_token(stored)
        body = orjson.dumps({"status": "ok", "public_token": token})
        return await commit_reply(uow, Reply(200, body, stored.session_id))


async def is_active(deps: Deps, token: PublicToken, now: datetime) -> bool:
    """Unused, unexpired, and (acquiring) its session still waits to be paid."""
    if token.state(now) is not TokenState.ACTIVE:
        return False
    if token.acquiring is None:
        return True
    session = await deps.store.get_session(token.project_id, token.acquiring.session_id)
    return session is not None and session.status is SessionStatus.CREATED


async def token_info(deps: Deps, project_id: str, token: str) -> Reply:
    """``token/info`` for a public token: whether it is valid, until when, what it produced."""
    found = await deps.store.get_public_token(hash_token(token), project_id)
    if found is None:
        msg = "public_token.token: no such public token"
        raise InvalidRequest(msg)
    now = deps.clock.now()
    info: JSONObject = {
        "token": token,
        "type": "public_token",
        "is_active": await is_active(deps, found, now),
        "created_at": timestamp(found.created_at),
        "expires_at": timestamp(found.expires_at),
    }
    if found.used_at is not None:
        info["finished_at"] = timestamp(found.used_at)
    info["widgets"] = [kind.value for kind in found.kinds]
    if found.session_id is not None:
        info["session_id"] = found.session_id
    for name in ("number_hash", "brand", "last4", "payment_id"):
        if name in found.result:
            info[name] = found.result[name]
    return Reply(200, ok_reply("info", info), found.session_id)


@dataclass(frozen=True, slots=True)
class FoundToken:
    """A public token found by its hash, with its project (for the page's origins, locale)."""

    token: PublicToken
    project: Project


@dataclass(frozen=True, slots=True)
class OpenWidget:
    """A widget opened with a public token: the token, its project, and its session if any."""

    token: PublicToken
    project: Project
    session: PaymentSession | None = None


async def find_token(deps: Deps, token: str) -> FoundToken | None:
    """The token (any state) and its project, or None if no such token was issued."""
    found = await deps.store.get_public_token(hash_token(token)) if token else None
    project = None if found is None else await deps.store.get_project(found.project_id)
    return None if found is None or project is None else FoundToken(found, project)


async def open_widget(
    deps: Deps, found: FoundToken | None, kind: WidgetKind, *, allow_used: bool = False
) -> OpenWidget:
    """The token's widget, or ``PublicTokenNotFound`` / ``…Expired`` / ``…Used``.

    An acquiring widget also needs its session still ``created`` (``InvalidSessionStatus``),
    unless ``allow_used`` (the result page, after the payment started).
    """
    if found is None:
        raise PublicTokenNotFound("no such public token")
    token, project = found.token, found.project
    token.require(kind, deps.clock.now(), allow_used=allow_used)
    if token.acquiring is None or kind is not WidgetKind.ACQUIRING:
        return OpenWidget(token, project)
    session = await load_session(deps, project.id, token.acquiring.session_id)
    if not allow_used and (session.status is not SessionStatus.CREATED or session.payments):
        msg = f"session {session.id} is {session.status}: it cannot be paid again"
        raise InvalidSessionStatus(msg)
    return OpenWidget(token, project, session)


def form_token(policy: WidgetPolicy, token_hash: str) -> str:
    """The CSRF token of a widget form: an HMAC of the public token's hash."""
    return hmac.new(
        policy.form_key, _FORM_CONTEXT + token_hash.encode(), hashlib.sha256
    ).hexdigest()


def check_form_token(policy: WidgetPolicy, token_hash: str, given: str) -> None:
    """Raise ``CsrfMismatch`` unless ``given`` is the form token of this public token."""
    if not given or not hmac.compare_digest(form_token(policy, token_hash), given):
        msg = "the form token is missing or does not belong to this page"
        raise CsrfMismatch(msg)


async def take_card_attempt(deps: Deps, token: PublicToken) -> None:
    """Count one card attempt; ``TooManyAttempts`` once the token's limit is reached."""
    if not await deps.store.take_card_attempt(token.token_hash, deps.widgets.card_attempts):
        msg = f"more than {deps.widgets.card_attempts} card attempts with this public token"
        raise TooManyAttempts(msg)
