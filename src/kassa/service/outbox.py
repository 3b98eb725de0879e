"""Record a webhook on the unit of work: the only way any code path emits one.

The body is rendered and signed once, here; the row commits with the state change it announces
and the delivery workers resend these exact bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.domain.transitions import WebhookType
from kassa.service import wire
from kassa.service.ports import OutboxMessage

__all__ = ["WebhookType", "record_webhook"]

if TYPE_CHECKING:
    from kassa.domain.project import Project
    from kassa.domain.session import PaymentSession
    from kassa.service.deps import Deps
    from kassa.service.ports import UnitOfWork


def record_webhook(
    deps: Deps,
    uow: UnitOfWork,
    project: Project,
    event_type: WebhookType,
    session: PaymentSession,
) -> OutboxMessage:
    """Queue ``{"type", "session"}`` for ``project``'s webhook URL in ``uow``'s transaction.

    ``session`` must be the state being committed. Without a webhook URL the row is kept as
    ``skipped`` (visible in ``kassa webhooks list``) and never delivered.
    """
    body = wire.webhook_body(event_type.value, session)
    message = OutboxMessage(
        project_id=project.id,
        session_id=session.id,
        event_type=event_type.value,
        body=body,
        signature=deps.signer.sign(body),
        created_at=deps.clock.now(),
        deliver=project.webhook_url is not None,
    )
    uow.add_outbox(message)
    return message
