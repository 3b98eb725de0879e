"""kassa-client payouts against a real ``kassa serve``: payouts, wallet, multi-session, FPS.

``init_payout``, ``start_payout``, ``multi_init``, ``wallet_balance``, ``fps_verify_customer``,
``fps_banks`` and ``chargeback``, on both clients in API v1 and v2, SQLite and PostgreSQL;
webhooks are verified by ``verify_and_parse`` at a real receiver
(``sdk_e2e_kit.MerchantReceiver``). The wallet is funded the way ``kassa wallet topup`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

import sdk_e2e_kit as kit
from kassa.adapters.clock import SystemClock
from kassa.bootstrap import open_store
from kassa.domain.money import Money
from kassa.service.wallet import topup
from kassa_client import (
    AmountDetails,
    BankAccountMethod,
    CardDetails,
    CardMethod,
    Customer,
    InsufficientFundsError,
    NextAction,
    OperationStatus,
    Participant,
    ParticipantDetails,
    PaymentRequest,
    PayoutRequest,
    SessionStatus,
    Wallet,
    WalletMethod,
    WebhookType,
)

if TYPE_CHECKING:
    from kassa_client import PaymentMethod, PaymentSession

sdk_server, merchant, open_api = kit.sdk_server, kit.merchant, kit.open_api

RECIPIENT = ParticipantDetails(recipient=Participant(full_name="John Johnson"))
FPS_BANK = "100000000069"  # in the sandbox's fps/banks
IBAN = BankAccountMethod.of("global", iban="GB82WEST12345698765432", description="inv 7")
WALLET = WalletMethod.of("global", name="GCash", msisdn="639171234567", description="salary")
FPS = BankAccountMethod.of(
    "faster_payment_system", phone="79261234567", bank_id=FPS_BANK, description="agreement 5"
)


def usd(amount: int) -> AmountDetails:
    """``amount`` cents of a US dollar."""
    return AmountDetails(amount=amount, currency="usd")


async def fund(api: kit.Api, amount: int, currency: str = "usd") -> None:
    """Prefund the project's payout wallet (what ``kassa wallet topup`` does)."""
    store = await open_store(api.server.database_url)
    try:
        await topup(store, SystemClock(), api.project_id, Money(amount, currency))
    finally:
        await store.close()


async def balances(api: kit.Api) -> dict[str, int]:
    """``wallet_balance`` as ``{wallet id: amount}``."""
    wallets: list[Wallet] = await api("wallet_balance")
    return {w.id: w.amount_details.amount for w in wallets}


async def test_card_payout_confirmed_and_paid(open_api: Any, merchant: Any) -> None:
    """init_payout → ready_to_confirm → confirm → payment_finished; the wallet pays it."""
    api = await open_api()
    await fund(api, 10000)
    assert kit.unmodelled(await api("wallet_balance")) == []
    assert await balances(api) == {"wl_usd": 10000}
    session = await api(
        "init_payout",
        payment_method=CardMethod.from_number("4242424242424242"),
        amount_details=usd(2500),
        participant_details=RECIPIENT,
        metadata={"payroll": 3},
    )
    assert (session.status, session.next_action) == (SessionStatus.IN_PROGRESS, NextAction.CONFIRM)
    [payout] = session.payouts
    assert payout.status is OperationStatus.PENDING
    assert isinstance(payout.payment_method, CardMethod)
    assert (payout.payment_method.card.last4, payout.payment_method.card.bin) == ("4242", "424242")
    assert payout.payment_method.card.bank_card is None
    assert await balances(api) == {"wl_usd": 7500}  # reserved
    ready = await merchant.wait(session.id, WebhookType.READY_TO_CONFIRM)
    assert ready.session.payouts[0].id == payout.id

    await api("confirm", session.id)
    finished = await merchant.wait(session.id, WebhookType.PAYMENT_FINISHED)
    assert finished.session.status is SessionStatus.ACCEPTED
    [paid] = finished.session.payouts
    assert (paid.status, paid.error, paid.refunds) == (OperationStatus.SUCCEEDED, None, [])
    assert paid.amounts is not None
    assert (paid.amounts.gross, paid.amounts.net) == (usd(2500), usd(2500))
    assert paid.amounts.fee == {"merchant_fee": usd(0)}
    assert paid.metadata == {"payroll": 3}
    assert paid.participant_details == RECIPIENT
    status = await api("session_status", session.id)
    assert kit.unmodelled(status) == []
    assert kit.unmodelled(finished.session) == []
    assert status.payouts[0].status is OperationStatus.SUCCEEDED
    assert status.payouts[0].payment_method.card.last4 == "4242"
    assert await balances(api) == {"wl_usd": 7500}


def _account(method: PaymentMethod) -> dict[str, Any]:
    assert isinstance(method, BankAccountMethod)
    return method.bank_account.details


def _wallet(method: PaymentMethod) -> dict[str, Any]:
    assert isinstance(method, WalletMethod)
    return method.wallet.details


# name, destination, amount, recipient, what the payout shows of the destination
DESTINATIONS = [
    ("iban", IBAN, usd(1200), RECIPIENT, _account, {"iban": "****5432", "description": "inv 7"}),
    ("wallet", WALLET, usd(1300), RECIPIENT, _wallet, {"msisdn": "****4567", "name": "GCash"}),
    (
        "fps_rub", FPS, AmountDetails(amount=30000, currency="rub"), None, _account,
        {"phone": "****4567", "bank_id": FPS_BANK},
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "destination", "amount", "recipient", "shown", "expected"),
    DESTINATIONS,
    ids=[d[0] for d in DESTINATIONS],
)
async def test_bank_account_wallet_and_fps_payouts_started_on_a_created_session(  # noqa: PLR0917 - parametrised
    open_api: Any,
    merchant: Any,
    name: str,
    destination: PaymentMethod,
    amount: AmountDetails,
    recipient: ParticipantDetails | None,
    shown: Any,
    expected: dict[str, str],
) -> None:
    """create_session(payment_method=…) → start_payout (auto-confirm) → paid; numbers masked."""
    api = await open_api(auto_confirm=True)
    await fund(api, 50000, amount.currency)
    created = await api("create_session", payment_method=destination, amount_details=amount)
    assert created.status is SessionStatus.CREATED
    assert type(created.payment_method) is type(destination)
    session = await api("start_payout", created.id, participant_details=recipient)
    [payout] = session.payouts
    assert payout.amount_details == amount, name
    finished = await merchant.wait(session.id, WebhookType.PAYMENT_FINISHED)
    [paid] = finished.session.payouts
    assert paid.status is OperationStatus.SUCCEEDED
    details = shown(paid.payment_method)
    assert {k: details[k] for k in expected} == expected
    assert shown(payout.payment_method) == details
    assert kit.unmodelled([created, session, finished.session]) == []
    assert await balances(api) == {f"wl_{amount.currency}": 50000 - amount.amount}


async def test_a_refused_payout_fails_and_returns_the_money(open_api: Any, merchant: Any) -> None:
    """Card 4000 0000 0000 0002: ``failed`` with ``card_number_does_not_exist``, wallet whole."""
    api = await open_api(auto_confirm=True)
    await fund(api, 5000)
    session = await api(
        "init_payout",
        payment_method=CardMethod.from_number("4000000000000002"),
        amount_details=usd(5000),
        participant_details=RECIPIENT,
    )
    finished = await merchant.wait(session.id, WebhookType.PAYMENT_FINISHED)
    assert finished.session.status is SessionStatus.CANCELLED
    [payout] = finished.session.payouts
    assert payout.status is OperationStatus.FAILED
    assert payout.error is not None
    assert payout.error.code == "card_number_does_not_exist"
    assert await balances(api) == {"wl_usd": 5000}


async def test_a_payout_the_wallet_cannot_cover_raises_insufficient_funds(open_api: Any) -> None:
    """422 ``insufficient_funds`` → ``InsufficientFundsError``; nothing reserved or created."""
    api = await open_api()
    await fund(api, 1000)
    with pytest.raises(InsufficientFundsError) as caught:
        await api(
            "init_payout",
            payment_method=CardMethod.from_number("4242424242424242"),
            amount_details=usd(1001),
            participant_details=RECIPIENT,
        )
    assert (caught.value.code, caught.value.http_status) == ("insufficient_funds", 422)
    assert caught.value.idempotency_key
    with pytest.raises(InsufficientFundsError):  # a currency the wallet does not hold
        await api(
            "init_payout",
            payment_method=WALLET,
            amount_details=AmountDetails(amount=1, currency="eur"),
            participant_details=RECIPIENT,
        )
    assert await balances(api) == {"wl_usd": 1000}


async def test_a_multi_session_with_a_payment_and_a_payout(open_api: Any, merchant: Any) -> None:
    """multi_init (always v2): one confirm for both, accepted; v2 webhooks read the same."""
    api = await open_api()
    await fund(api, 5000)
    session: PaymentSession = await api(
        "multi_init",
        acquiring_payments=[
            PaymentRequest(
                payment_details=CardDetails.from_bank_card("4242424242424242", "12", "30", "123"),
                amount_details=usd(10000),
                customer=Customer(reference="buyer-1"),
            )
        ],
        payments=[
            PayoutRequest(
                payment_method=WALLET, amount_details=usd(800), participant_details=RECIPIENT
            )
        ],
    )
    assert len(session.acquiring_payments) == len(session.payouts) == 1
    ready = await merchant.wait(session.id, WebhookType.READY_TO_CONFIRM)
    assert ready.session.next_action is NextAction.CONFIRM
    await api("confirm", session.id)
    await merchant.wait(session.id, WebhookType.PAYMENT_FINISHED)
    final = await api("session_status", session.id)
    assert kit.unmodelled([session, ready.session, final]) == []
    assert final.status is SessionStatus.ACCEPTED
    assert final.acquiring_payments[0].status is OperationStatus.SUCCEEDED
    assert final.payouts[0].status is OperationStatus.SUCCEEDED
    assert _wallet(final.payouts[0].payment_method)["msisdn"] == "****4567"
    assert await balances(api) == {"wl_usd": 4200}


@pytest.mark.parametrize(
    ("phone", "status", "outcome"),
    [
        ("79261234567", SessionStatus.ACCEPTED, OperationStatus.SUCCEEDED),
        ("79680000000", SessionStatus.CANCELLED, OperationStatus.FAILED),
    ],
    ids=["registered", "not_registered"],
)
async def test_fps_verification_is_a_zero_rub_payout(
    open_api: Any,
    merchant: Any,
    phone: str,
    status: SessionStatus,
    outcome: OperationStatus,
) -> None:
    """fps_verify_customer on a created session: accepted when registered, else cancelled."""
    api = await open_api()
    banks = await api("fps_banks")
    assert FPS_BANK in {b.id for b in banks}
    assert all(b.eng_name and b.ru_name for b in banks)
    created = await api("create_session")
    verified = await api(
        "fps_verify_customer",
        created.id,
        phone=phone,
        bank_id=FPS_BANK,
        recipient=Participant(full_name="Ivan Ivanov"),
    )
    assert verified.status is status
    [check] = verified.payouts
    assert check.status is outcome
    assert check.amount_details == AmountDetails(amount=0, currency="rub")
    assert check.payment_method.bank_account.system_type == "faster_payment_system_verification"
    assert _account(check.payment_method) == {"phone": f"****{phone[-4:]}", "bank_id": FPS_BANK}
    finished = await merchant.wait(created.id, WebhookType.PAYMENT_FINISHED)
    assert finished.session.status is status
    assert finished.session.payouts[0].status is outcome
    assert kit.unmodelled([banks, created, verified, finished.session]) == []


async def test_chargeback_of_a_paid_session(open_api: Any, merchant: Any) -> None:
    """``chargeback`` (sandbox): the rest of the payment comes back as a chargeback refund."""
    api = await open_api(auto_confirm=True)
    session = await api(
        "init_payment",
        payment_details=CardDetails.from_bank_card("4242424242424242", "12", "30", "123"),
        amount_details=usd(10000),
        customer=Customer(reference="buyer-1"),
    )
    await merchant.wait(session.id, WebhookType.PAYMENT_FINISHED)
    await api("refund", session.id, amount_details=usd(3000))
    await merchant.wait(session.id, WebhookType.PAYMENT_REFUNDED)
    charged = await api("chargeback", session.id)
    refunds = charged.acquiring_payments[0].refunds
    assert [(r.is_chargeback, r.amount_details) for r in refunds] == [
        (False, usd(3000)),
        (True, usd(7000)),
    ]
    event = await merchant.wait(
        session.id,
        WebhookType.PAYMENT_REFUNDED,
        where=lambda e: len(e.session.acquiring_payments[0].refunds) == 2,
    )
    assert event.session.acquiring_payments[0].refunds[1].is_chargeback is True
    assert kit.unmodelled([charged, event.session]) == []
