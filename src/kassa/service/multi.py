"""``session/multi/init`` (v2): one new session holding several payments and payouts.

Validated all-or-nothing: an item that fails is ``invalid_request`` naming it
(``payout_list[2].payout_details…``) and nothing is created; payouts together must be covered
by the wallet (``insufficient_funds`` otherwise, nothing created). Each operation then follows
its own flow (payments are authorised, payouts wait for confirm); ``session/confirm`` and
``session/cancel`` act on all of them together (``service/session_actions.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from kassa.domain.errors import InvalidRequest
from kassa.domain.ids import IdPrefix, new_id
from kassa.service.instruments import resolve_draft
from kassa.service.operations import change
from kassa.service.payments import bound_instrument, new_payment, payment_draft
from kassa.service.payouts import fps_bank_ids, payout_draft, start_payout_in
from kassa.service.sessions import blank_session, payout_field

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from kassa.domain.payment import PaymentDraft
    from kassa.domain.project import Project
    from kassa.service.commands import DraftInput, MultiInit
    from kassa.service.deps import Deps
    from kassa.service.idempotency import Reply
    from kassa.service.operations import Change
    from kassa.service.payouts import PayoutDraft


T = TypeVar("T")


async def _item(where: str, build: Callable[[], Awaitable[T]]) -> T:
    try:
        return await build()
    except InvalidRequest as exc:
        raise InvalidRequest(f"{where}.{exc.description}") from None


async def multi_init(deps: Deps, project: Project, cmd: MultiInit) -> Reply:
    """Create the session with every payment and payout; authorise the payments."""
    if not cmd.payments and not cmd.payouts:
        msg = "payment_list: at least one payment or payout (payout_list) is required"
        raise InvalidRequest(msg)
    banks = await fps_bank_ids(deps) if cmd.payouts else set()
    field = payout_field(cmd.api_version)

    async def decide(ch: Change) -> None:
        payments = []
        for i, item in enumerate(cmd.payments):

            async def checked(item: DraftInput = item) -> PaymentDraft:
                resolved = await resolve_draft(deps, ch.uow, project.id, item, field)
                return await bound_instrument(deps, project.id, payment_draft(resolved))

            payments.append(await _item(f"payment_list[{i}]", checked))
        payouts = []
        for i, item in enumerate(cmd.payouts):

            async def checked_payout(item: DraftInput = item) -> PayoutDraft:
                resolved = await resolve_draft(deps, ch.uow, project.id, item, field)
                return payout_draft(resolved, field, banks)

            payouts.append(await _item(f"payout_list[{i}]", checked_payout))
        recover_at = ch.now + deps.acquiring.recovery_after
        for draft in payments:
            ch.put(new_payment(draft, ch.now, recover_at))
        for payout in payouts:
            start_payout_in(deps, ch, payout, ch.now)

    session = blank_session(new_id(IdPrefix.SESSION), project.id, cmd.api_version, deps.clock.now())
    return await change(deps, project, decide, cmd.api_version, new_session=lambda: session)
