"""The prefunded payout wallet: top-ups (sandbox prefunding) and ``wallet/balance``.

A top-up is a ledger transaction ``merchant_bank → payout_wallet`` (``kassa wallet topup``,
the dashboard). The balance is read from the ledger — the sum of the project's
``payout_wallet`` postings per currency — never from a cached counter: money reserved by a
live payout has already left it (``in_flight_payouts``), so the balance is what a new payout
can use now. One wallet per currency the project ever funded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.domain.errors import InvalidRequest
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.ledger import Account, EntryKind, LedgerTransaction, moves
from kassa.domain.money import Money
from kassa.service.idempotency import Reply
from kassa.service.projects import load_project
from kassa.service.wire import ok_reply
from kassa.service.wire_parts import amount_details

if TYPE_CHECKING:
    from kassa.domain.json import JSON
    from kassa.service.ports import Clock, Store

WALLET = Account.PAYOUT_WALLET.value


def wallet_id(currency: str) -> str:
    """A project's wallet id for one currency (stable, opaque to clients)."""
    return f"wl_{currency}"


async def topup(store: Store, clock: Clock, project_id: str, amount: Money) -> LedgerTransaction:
    """Prefund the project's ``amount.currency`` wallet with ``amount``."""
    await load_project(store, project_id)
    if amount.minor <= 0:
        msg = "amount: must be greater than 0"
        raise InvalidRequest(msg)
    operation = new_id(IdPrefix.TOPUP)
    tx = LedgerTransaction(
        id=new_id(IdPrefix.LEDGER_TRANSACTION),
        project_id=project_id,
        session_id=None,
        operation_id=operation,
        kind=EntryKind.TOPUP,
        currency=amount.currency,
        created_at=clock.now(),
        postings=moves([(Account.MERCHANT_BANK.value, WALLET, amount.minor)], operation),
    )
    async with store.unit_of_work() as uow:
        uow.add_ledger_transaction(tx)
        await uow.commit()
    return tx


async def balances(store: Store, project_id: str) -> list[Money]:
    """The project's wallet balance per currency, summed from the ledger."""
    sums = await store.account_sums(project_id, WALLET)
    return [Money(amount, currency) for currency, amount in sorted(sums.items())]


async def balance_reply(store: Store, project_id: str) -> Reply:
    """``wallet/balance``: ``{"status": "ok", "wallets": [{id, amount_details}]}``."""
    wallets: list[JSON] = [
        {"id": wallet_id(m.currency), "amount_details": amount_details(m)}
        for m in await balances(store, project_id)
    ]
    return Reply(200, ok_reply("wallets", wallets))
