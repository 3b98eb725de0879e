"""Turn typed wire instruments into stored ones: card numbers go to the vault, never further.

Account numbers, IBANs and phones of payout destinations are sealed (encrypted by the vault,
last four kept in clear): the session stores no sensitive number in clear.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from kassa.domain.card import brand_of, check_expiry, normalize_pan
from kassa.domain.errors import InvalidRequest
from kassa.domain.instrument import (
    BankCard,
    CardRef,
    FasterPaymentAccount,
    FpsVerification,
    GlobalBankAccount,
    GlobalWallet,
    PayoutCard,
    RecurrentCharge,
    Sealed,
    UnprocessedDestination,
    UnprocessedMethod,
    VaultedCard,
)
from kassa.domain.session import SessionDraft
from kassa.service.commands import (
    CardInput,
    FpsAccountInput,
    FpsCheckInput,
    GlobalAccountInput,
    RecurrentInput,
    WalletInput,
)
from kassa.service.ports import VaultEntry

if TYPE_CHECKING:
    from kassa.domain.instrument import PaymentInstrument, PayoutDestination
    from kassa.service.commands import (
        BankCardInput,
        DestinationInput,
        DraftInput,
        PaymentInput,
    )
    from kassa.service.deps import Deps
    from kassa.service.ports import UnitOfWork


def vault_card(
    deps: Deps, uow: UnitOfWork, project_id: str, raw: BankCardInput, field: str
) -> CardRef:
    """Check a clear card, queue it into the vault on ``uow``; return its ``CardRef``."""
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
    return card


async def vaulted_card(deps: Deps, project_id: str, number_hash: str, field: str) -> CardRef:
    """The project's vaulted card, or ``invalid_request`` (also for another project's hash)."""
    entry = await deps.store.get_vault_entry(project_id, number_hash)
    if entry is None:
        msg = f"{field}.card.encrypted_card.number_hash: no such card in this project's vault"
        raise InvalidRequest(msg)
    return entry.card


async def resolve_instrument(
    deps: Deps,
    uow: UnitOfWork,
    project_id: str,
    value: PaymentInput | None,
    field: str = "payment_details",
) -> PaymentInstrument | None:
    """A payment instrument as stored: a clear card vaulted (queued on ``uow``), a hash read."""
    if value is None:
        return None
    if isinstance(value, CardInput):
        if value.bank_card is not None:
            return BankCard(vault_card(deps, uow, project_id, value.bank_card, field))
        return VaultedCard(await vaulted_card(deps, project_id, value.number_hash or "", field))
    if isinstance(value, RecurrentInput):
        return RecurrentCharge(value.token, value.initiator)
    return UnprocessedMethod(value.type, value.data)


async def resolve_destination(  # noqa: PLR0911 - one return per kind
    deps: Deps,
    uow: UnitOfWork,
    project_id: str,
    value: DestinationInput | None,
    field: str,
) -> PayoutDestination | None:
    """A payout destination as stored (cards vaulted like a paid card)."""
    if value is None:
        return None
    if isinstance(value, CardInput):
        if value.bank_card is not None:
            return PayoutCard(vault_card(deps, uow, project_id, value.bank_card, field))
        return PayoutCard(await vaulted_card(deps, project_id, value.number_hash or "", field))
    if isinstance(value, GlobalAccountInput):
        return GlobalBankAccount(
            description=value.description,
            iban=seal(deps, value.iban),
            swift_bic_code=value.swift_bic_code,
            account_number=seal(deps, value.account_number),
            sort_code=value.sort_code,
            bank_account_number=seal(deps, value.bank_account_number),
            routing_code=value.routing_code,
            account_type=value.account_type,
            branch_number=value.branch_number,
        )
    if isinstance(value, FpsAccountInput):
        return FasterPaymentAccount(seal(deps, value.phone), value.bank_id, value.description)
    if isinstance(value, FpsCheckInput):
        return FpsVerification(seal(deps, value.phone), value.bank_id)
    if isinstance(value, WalletInput):
        return GlobalWallet(value.name, value.description, seal(deps, value.msisdn))
    return UnprocessedDestination(value.type, value.data)


def seal(deps: Deps, value: str | None) -> Sealed | None:
    """An account number, IBAN or phone encrypted by the vault, with its last four in clear."""
    if value is None:
        return None
    return Sealed(value[-4:], base64.b64encode(deps.vault.encrypt(value)).decode("ascii"))


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
        payment_details=await resolve_instrument(deps, uow, project_id, draft.payment_details),
        payout_details=await resolve_destination(
            deps, uow, project_id, draft.payout_details, payout_field
        ),
        customer=draft.customer,
        participant_details=draft.participant_details,
        payment_options=draft.payment_options,
        metadata=draft.metadata,
        has_metadata=draft.has_metadata,
        extra=draft.extra,
    )
