"""The Faster Payment System (Russia): ``fps/customer_verification`` and ``fps/banks``.

A verification is an operation of its own on a ``created`` session (auto-confirmed, no
``ready_to_confirm``, no money): the session goes ``in_progress`` while the FPS directory is
asked (a processor call with its key, as every call), then ``accepted`` if the phone is
registered at the bank, ``cancelled`` otherwise, announced by ``payment_finished``. It shows
as a payout of 0 RUB whose destination is the ``faster_payment_system_verification``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.domain.errors import InvalidRequest, InvalidSessionStatus
from kassa.domain.instrument import FpsVerification
from kassa.domain.money import Money
from kassa.domain.participants import check_participants
from kassa.domain.session import SessionStatus
from kassa.service.calls import processor_of
from kassa.service.idempotency import Reply
from kassa.service.instruments import resolve_destination
from kassa.service.operations import change
from kassa.service.payouts import PayoutDraft, fps_bank_ids, start_payout_in
from kassa.service.sessions import payout_field
from kassa.service.wire import ok_reply

if TYPE_CHECKING:
    from kassa.domain.json import JSON
    from kassa.domain.project import Project
    from kassa.service.commands import VerifyFpsCustomer
    from kassa.service.deps import Deps
    from kassa.service.operations import Change

_SYSTEM = "bank_account.faster_payment_system_verification"


async def verify_customer(deps: Deps, project: Project, cmd: VerifyFpsCustomer) -> Reply:
    """Is the phone registered in FPS at the bank? The session ends accepted or cancelled."""
    banks = await fps_bank_ids(deps)
    where = payout_field(cmd.api_version)

    async def decide(ch: Change) -> None:
        session = ch.session
        if session.status is not SessionStatus.CREATED or session.payments or session.payouts:
            msg = (
                f"fps/customer_verification: session {session.id} is {session.status}, not created"
            )
            raise InvalidSessionStatus(msg)
        target = await resolve_destination(
            deps, ch.uow, project.id, cmd.draft.payout_details, where
        )
        if not isinstance(target, FpsVerification):
            msg = f"{where}: a bank_account with system_type faster_payment_system_verification"
            raise InvalidRequest(f"{msg} is required")
        if target.phone is None or target.bank_id is None:
            name = "phone" if target.phone is None else "bank_id"
            raise InvalidRequest(f"{where}.{_SYSTEM}.{name}: required")
        if target.bank_id not in banks:
            raise InvalidRequest(f"{where}.{_SYSTEM}.bank_id: not a bank of fps/banks")
        check_participants(cmd.draft.participant_details, recipient_name=False)
        draft = PayoutDraft(
            amount=Money(0, "rub"),
            destination=target,
            customer=cmd.draft.customer,
            participant_details=cmd.draft.participant_details,
            metadata=cmd.draft.metadata,
            has_metadata=cmd.draft.has_metadata,
        )
        start_payout_in(deps, ch, draft, ch.now, verify=True)

    return await change(deps, project, decide, cmd.api_version, session_id=cmd.session_id)


async def banks(deps: Deps) -> Reply:
    """``fps/banks``: ``{"status": "ok", "banks": [{id, eng_name, ru_name}]}``."""
    listed = await processor_of(deps).fps_banks()
    body: list[JSON] = [{"id": b.id, "eng_name": b.eng_name, "ru_name": b.ru_name} for b in listed]
    return Reply(200, ok_reply("banks", body))
