"""Use cases of the session itself: create, status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.session import ApiVersion, PaymentSession, SessionDraft, SessionStatus
from kassa.service import wire
from kassa.service.idempotency import Reply, commit_reply
from kassa.service.instruments import resolve_draft
from kassa.service.operations import load_session

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.service.commands import CreateSession, GetSession
    from kassa.service.deps import Deps


def payout_field(version: ApiVersion) -> str:
    """The wire name of the payout destination in this API version."""
    return "payout_details" if version is ApiVersion.V2 else "payment_method"


def blank_session(
    session_id: str, project_id: str, version: ApiVersion, now: datetime
) -> PaymentSession:
    """A new ``created`` session with nothing pre-filled (init methods fill it in)."""
    return PaymentSession(
        id=session_id,
        project_id=project_id,
        api_version=version,
        status=SessionStatus.CREATED,
        created_at=now,
        updated_at=now,
        draft=SessionDraft(),
    )


async def create_session(deps: Deps, cmd: CreateSession) -> Reply:
    """Store a new session in status ``created`` with whatever operation data was given."""
    now = deps.clock.now()
    async with deps.store.unit_of_work() as uow:
        draft = await resolve_draft(
            deps,
            uow,
            cmd.project_id,
            cmd.draft,
            payout_field(cmd.api_version),
        )
        session = PaymentSession(
            id=new_id(IdPrefix.SESSION),
            project_id=cmd.project_id,
            api_version=cmd.api_version,
            status=SessionStatus.CREATED,
            created_at=now,
            updated_at=now,
            draft=draft,
        )
        uow.add_session(session)
        reply = Reply(200, wire.session_reply(session, cmd.api_version), session.id)
        return await commit_reply(uow, reply)


async def session_status(deps: Deps, cmd: GetSession) -> Reply:
    """The full session as the protocol shows it."""
    session = await load_session(deps, cmd.project_id, cmd.session_id)
    return Reply(200, wire.session_reply(session, cmd.api_version))
