"""Recurrent tokens (``recurrent/status``, ``recurrent/disable``), ``token/info``, card vaulting.

``tokenize_card`` is the sandbox stand-in for the tokenization widget: it vaults a card for a
project and gives back its ``number_hash``, which ``encrypted_card`` payments and
``token/info`` accept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kassa.domain.errors import ConcurrentUpdate, InvalidRequest
from kassa.service.idempotency import Reply, commit_reply
from kassa.service.instruments import vault_card
from kassa.service.operations import MAX_ATTEMPTS
from kassa.service.wire import ok_reply, recurrent_object

if TYPE_CHECKING:
    from kassa.domain.instrument import CardRef
    from kassa.domain.json import JSONObject
    from kassa.domain.recurrent import RecurrentToken
    from kassa.service.commands import BankCardInput, RecurrentTokenQuery
    from kassa.service.deps import Deps


async def _load(deps: Deps, project_id: str, token: str, field: str) -> RecurrentToken:
    found = await deps.store.get_recurrent_token(project_id, token)
    if found is None:
        msg = f"{field}: no such recurrent token"
        raise InvalidRequest(msg)
    return found


async def recurrent_status(deps: Deps, cmd: RecurrentTokenQuery) -> Reply:
    """``recurrent/status``."""
    token = await _load(deps, cmd.project_id, cmd.token, "recurrent.token")
    return Reply(200, ok_reply("recurrent", recurrent_object(token)))


async def disable_recurrent(deps: Deps, cmd: RecurrentTokenQuery) -> Reply:
    """``recurrent/disable``: later charges get ``recurrent_token_inactive``.

    The payment that created the token shows it too (``recurrent.is_active: false``): the
    token and that session change in one transaction (retried if the session moved).
    """
    for _ in range(MAX_ATTEMPTS):
        async with deps.store.unit_of_work() as uow:
            token = await _load(deps, cmd.project_id, cmd.token, "recurrent.token")
            token = token.disable(deps.clock.now())
            uow.disable_recurrent_token(token)
            session = await deps.store.get_session(cmd.project_id, token.session_id)
            payment = None if session is None else session.payment_by_id(token.payment_id)
            if session is not None and payment is not None and payment.recurrent is not None:
                shown = replace(payment.recurrent, disabled_at=token.disabled_at)
                moved = replace(payment, recurrent=shown)
                uow.update_session(session.with_payment(moved, session.updated_at))
            reply = Reply(200, ok_reply("recurrent", recurrent_object(token)))
            try:
                return await commit_reply(uow, reply)
            except ConcurrentUpdate:
                continue
    msg = "recurrent/disable: the session kept changing; retry"
    raise ConcurrentUpdate(msg)


async def card_info(deps: Deps, project_id: str, number_hash: str) -> Reply:
    """``token/info`` for a vaulted card: brand and last4, never the number."""
    entry = await deps.store.get_vault_entry(project_id, number_hash)
    if entry is None:
        msg = "card.encrypted_card.number_hash: no such card in this project's vault"
        raise InvalidRequest(msg)
    info: JSONObject = {
        "number_hash": number_hash,
        "brand": entry.card.brand,
        "last4": entry.card.last4,
        "type": "card",
    }
    return Reply(200, ok_reply("info", info))


async def recurrent_info(deps: Deps, project_id: str, token: str) -> Reply:
    """``token/info`` for a recurrent token: the RecurrentToken object."""
    found = await _load(deps, project_id, token, "recurrent_token.token")
    return Reply(200, ok_reply("info", recurrent_object(found)))


async def tokenize_card(deps: Deps, project_id: str, card: BankCardInput) -> CardRef:
    """Vault ``card`` for the project; return the stored (masked) card with its ``number_hash``."""
    if await deps.store.get_project(project_id) is None:
        msg = f"project {project_id} not found"
        raise InvalidRequest(msg)
    async with deps.store.unit_of_work() as uow:
        ref = vault_card(deps, uow, project_id, card, "payment_details")
        await uow.commit()
    return ref
