"""Turn wire instruments into stored ones: card numbers go to the vault, never further."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.domain.card import brand_of, check_expiry, normalize_pan
from kassa.domain.errors import InvalidRequest
from kassa.domain.session import CardRef, Instrument, SessionDraft
from kassa.service.ports import VaultEntry

if TYPE_CHECKING:
    from kassa.service.commands import DraftInput, InstrumentInput
    from kassa.service.deps import Deps
    from kassa.service.ports import UnitOfWork


async def resolve_instrument(
    deps: Deps,
    uow: UnitOfWork,
    project_id: str,
    value: InstrumentInput | None,
    field: str,
) -> Instrument | None:
    """Vault a clear card (queued on ``uow``) or look up a ``number_hash``; keep others as is."""
    if value is None:
        return None
    if value.bank_card is not None:
        raw = value.bank_card
        pan = normalize_pan(raw.number, f"{field}.card.bank_card.number")
        month = year = None
        if raw.expiration_month is not None or raw.expiration_year is not None:
            month, year = check_expiry(
                raw.expiration_month or "",
                raw.expiration_year or "",
                f"{field}.card.bank_card",
            )
        card = CardRef(
            number_hash=deps.vault.number_hash(project_id, pan),
            brand=brand_of(pan),
            last4=pan[-4:],
            bin=pan[:6],
            expiration_month=month,
            expiration_year=year,
            cardholder_name=raw.cardholder_name,
        )
        uow.add_vault_entry(
            VaultEntry(project_id, card, deps.vault.encrypt(pan), created_at=deps.clock.now()),
        )
        return Instrument(type=value.type, card=card)
    if value.number_hash is not None:
        entry = await deps.store.get_vault_entry(project_id, value.number_hash)
        if entry is None:
            msg = f"{field}.card.encrypted_card.number_hash: no such card in this project's vault"
            raise InvalidRequest(msg)
        return Instrument(type=value.type, card=entry.card)
    return Instrument(type=value.type, data=value.data)


async def resolve_draft(
    deps: Deps,
    uow: UnitOfWork,
    project_id: str,
    draft: DraftInput,
    payout_field: str,
) -> SessionDraft:
    """The stored form of a request's operation data."""
    return SessionDraft(
        amount=draft.amount,
        payment_details=await resolve_instrument(
            deps,
            uow,
            project_id,
            draft.payment_details,
            "payment_details",
        ),
        payout_details=await resolve_instrument(
            deps,
            uow,
            project_id,
            draft.payout_details,
            payout_field,
        ),
        customer=draft.customer,
        participant_details=draft.participant_details,
        payment_options=draft.payment_options,
        metadata=draft.metadata,
        has_metadata=draft.has_metadata,
        extra=draft.extra,
    )
