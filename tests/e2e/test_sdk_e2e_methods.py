"""kassa-client against a real ``kassa serve``: payments, refunds, tokens and errors.

Both clients, API v1 and v2, SQLite and PostgreSQL; webhooks are verified by
``verify_and_parse`` at a real receiver (``sdk_e2e_kit.MerchantReceiver``), and no field of
an answer is left unmodelled (``sdk_e2e_kit.unmodelled``).

The payout methods (``init_payout``, ``start_payout``, ``multi_init``, ``wallet_balance``,
``fps_verify_customer``, ``fps_banks``) and ``chargeback`` are in ``test_sdk_e2e_payouts.py``.
``create_token`` is held to the protocol in ``sdk/tests`` only: kassa does not serve ``token``
yet.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import sdk_e2e_kit as kit
from kassa.adapters.keys import generate_private_key
from kassa_client import (
    AcquiringWidget,
    AmountDetails,
    AuthenticationError,
    CardDetails,
    Client,
    Customer,
    IdempotencyConflictError,
    IdentificationError,
    InvalidRequestError,
    InvalidSessionStatusError,
    NextAction,
    OperationStatus,
    PaymentOptions,
    RecurrentDetails,
    RecurrentTokenInactiveError,
    RefundAmountExceededError,
    RefundStatus,
    SessionNotFoundError,
    SessionStatus,
    SignatureError,
    TokenizeWidget,
    WebhookType,
    verify_and_parse,
)
from testkit import kassa_cli

sdk_server, merchant, open_api = kit.sdk_server, kit.merchant, kit.open_api

USD = AmountDetails(amount=10000, currency="usd")
VISA = CardDetails.from_bank_card("4242424242424242", "12", "30", "123")
BUYER = Customer(reference="buyer-1")


async def test_pay_confirm_refund_and_recurrent_token(open_api: Any, merchant: Any) -> None:
    """Pay: init, ready_to_confirm, confirm, payment_finished, refunds, recurrent token life."""
    api = await open_api()
    session = await api(
        "init_payment",
        payment_details=VISA,
        amount_details=USD,
        customer=BUYER,
        payment_options=PaymentOptions(recurrent=True),
        metadata={"order": 1},
    )
    assert session.status is SessionStatus.IN_PROGRESS
    [payment] = session.acquiring_payments
    assert payment.payment_details.card.last4 == "4242"
    assert payment.amount_details == USD
    ready = await merchant.wait(session.id, WebhookType.READY_TO_CONFIRM)
    assert ready.session.next_action is NextAction.CONFIRM
    assert ready.session.acquiring_payments[0].status is OperationStatus.PENDING

    await api("confirm", session.id)
    finished = await merchant.wait(session.id, WebhookType.PAYMENT_FINISHED)
    assert finished.session.status is SessionStatus.ACCEPTED
    paid = finished.session.acquiring_payments[0]
    assert paid.status is OperationStatus.SUCCEEDED
    assert paid.transaction_info is not None
    assert paid.transaction_info.rrn
    assert paid.metadata == {"order": 1}
    assert paid.recurrent is not None

    status = await api("session_status", session.id)
    assert kit.unmodelled([session, ready.session, finished.session, status]) == []
    assert status.status is SessionStatus.ACCEPTED
    assert status.acquiring_payments[0].id == payment.id

    refunded = await api(
        "refund", session.id, amount_details=AmountDetails(amount=4000, currency="usd")
    )
    assert refunded.acquiring_payments[0].refunds[0].amount_details.amount == 4000
    event = await merchant.wait(session.id, WebhookType.PAYMENT_REFUNDED)
    [refund] = event.session.acquiring_payments[0].refunds
    assert kit.unmodelled([refunded, event.session]) == []
    assert refund.status is RefundStatus.ACCEPTED
    with pytest.raises(RefundAmountExceededError) as caught:
        await api("refund", session.id, amount_details=AmountDetails(amount=7000, currency="usd"))
    assert caught.value.session_id == session.id
    assert caught.value.http_status == 422

    token = paid.recurrent.token
    assert (await api("recurrent_status", token)).is_active is True
    info = await api("token_info", recurrent_token=token)
    assert (info.token, info.is_active) == (token, True)
    disabled = await api("disable_recurrent", token)
    assert disabled.is_active is False
    assert kit.unmodelled([info, disabled]) == []
    assert disabled.finished_at is not None
    assert (await api("recurrent_status", token)).is_active is False
    later = await api("create_session", amount_details=USD, customer=BUYER)
    assert later.status is SessionStatus.CREATED
    with pytest.raises(RecurrentTokenInactiveError):
        await api("start_payment", later.id, payment_details=RecurrentDetails.from_token(token))


async def test_create_start_confirm_capture_and_cancel(open_api: Any, merchant: Any) -> None:
    """Two-step capture: create → start → ready_to_capture → partial capture.

    A second session is cancelled (a hold released) and then refuses a confirm.
    """
    api = await open_api(two_step_capture=True)
    created = await api("create_session", amount_details=USD, customer=BUYER, metadata="pre")
    assert (created.status, created.amount_details, created.metadata) == (
        SessionStatus.CREATED,
        USD,
        "pre",
    )
    started = await api("start_payment", created.id, payment_details=VISA)
    assert started.acquiring_payments[0].amount_details == USD
    held = await merchant.wait(created.id, WebhookType.READY_TO_CAPTURE)
    assert held.session.next_action is NextAction.CAPTURE
    await api("capture", created.id, amount_details=AmountDetails(amount=6000, currency="usd"))
    done = await merchant.wait(created.id, WebhookType.PAYMENT_FINISHED)
    assert kit.unmodelled([created, started, held.session, done.session]) == []
    assert done.session.acquiring_payments[0].status is OperationStatus.SUCCEEDED

    other = await api("init_payment", payment_details=VISA, amount_details=USD, customer=BUYER)
    await merchant.wait(other.id, WebhookType.READY_TO_CAPTURE)
    await api("cancel", other.id)
    cancelled = await merchant.wait(other.id, WebhookType.PAYMENT_FINISHED)
    assert cancelled.session.status is SessionStatus.CANCELLED
    assert cancelled.session.acquiring_payments[0].error.code == "cancelled"
    with pytest.raises(InvalidSessionStatusError) as caught:
        await api("confirm", other.id)
    assert caught.value.session_id == other.id


async def test_token_info_for_a_vaulted_card(open_api: Any, sdk_server: Any) -> None:
    """A card vaulted by ``kassa sandbox tokenize``: ``token_info(number_hash=)`` describes it.

    The card then pays by its hash.
    """
    api = await open_api()
    env = {
        "KASSA_DATABASE_URL": sdk_server.database_url,
        "KASSA_DATA_DIR": str(sdk_server.data_dir),
        "KASSA_SANDBOX": "1",
    }
    done = kassa_cli(
        "sandbox", "tokenize", api.project_id, "5555555555554444", "--month", "12", "--year", "30",
        "--json", env=env,
    )  # fmt: skip
    number_hash = json.loads(done.stdout)["number_hash"]
    info = await api("token_info", number_hash=number_hash)
    assert (info.type, info.last4, info.number_hash) == ("card", "4444", number_hash)
    assert kit.unmodelled(info) == []
    session = await api(
        "init_payment",
        payment_details=CardDetails.from_number_hash(number_hash),
        amount_details=USD,
        customer=BUYER,
    )
    assert session.acquiring_payments[0].payment_details.card.last4 == "4444"


async def test_public_tokens_for_the_widgets(open_api: Any) -> None:
    """``create_token`` for both widgets; ``token_info(public_token=)`` reads it back."""
    api = await open_api()
    session = await api("create_session", amount_details=USD, customer=BUYER)
    token = await api(
        "create_token",
        tokenize_widget=TokenizeWidget(locale="ru"),
        acquiring_widget=AcquiringWidget(
            session_id=session.id,
            show_recurrent_checkbox=True,
            success_return_url="https://shop.example/ok",
        ),
    )
    assert len(token) == 64
    info = await api("token_info", public_token=token)
    assert (info.type, info.token, info.is_active) == ("public_token", token, True)
    assert info.session_id == session.id
    assert sorted(info.widgets or []) == ["acquiring_widget", "tokenize_widget"]
    assert info.expires_at is not None
    assert info.created_at is not None
    assert (info.expires_at - info.created_at).total_seconds() == 24 * 3600
    assert kit.unmodelled(info) == []
    other = await open_api()
    with pytest.raises(InvalidRequestError):
        await other("token_info", public_token=token)
    await api("cancel", session.id)
    with pytest.raises(InvalidSessionStatusError):
        await api("create_token", acquiring_widget=AcquiringWidget(session_id=session.id))


async def test_errors_come_back_as_the_exception_tree(open_api: Any, sdk_server: Any) -> None:
    """Unknown session, bad card, key reused for another body, wrong key, unknown project."""
    api = await open_api()
    with pytest.raises(SessionNotFoundError) as missing:
        await api("session_status", "ps_nope")
    assert (missing.value.http_status, missing.value.session_id) == (404, "ps_nope")
    bad_card = CardDetails.from_bank_card("4242424242424241", "12", "30", "123")
    with pytest.raises(InvalidRequestError) as invalid:
        await api("init_payment", payment_details=bad_card, amount_details=USD, customer=BUYER)
    assert "payment_details" in invalid.value.description
    await api("create_session", metadata="a", idempotency_key="order-7")
    with pytest.raises(IdempotencyConflictError):
        await api("create_session", metadata="b", idempotency_key="order-7")
    stranger = kit.make_client("sync", sdk_server.base_url, api.project_id, kit_key(), api.version)
    with stranger, pytest.raises(AuthenticationError):
        stranger.session_status("ps_x")  # type: ignore[union-attr]
    nobody = Client(sdk_server.base_url, "pj_nobody", kit_key(), api_version=api.version)
    with nobody, pytest.raises(IdentificationError):
        nobody.session_status("ps_x")


async def test_real_webhooks_are_refused_when_tampered_or_truncated(
    open_api: Any, merchant: Any, sdk_server: Any
) -> None:
    """A webhook the server really sent verifies; tampered, truncated or another key: refused."""
    api = await open_api(auto_confirm=True)
    session = await api("init_payment", payment_details=VISA, amount_details=USD, customer=BUYER)
    await merchant.wait(session.id, WebhookType.PAYMENT_FINISHED)
    [delivery, *_] = merchant.raw(session.id)
    assert all(d.problem is None for d in merchant.raw(session.id))
    pem = kit.server_public_pem(sdk_server)
    assert verify_and_parse(delivery.body, delivery.signature, pem).session.id == session.id
    tampered = delivery.body.replace(b'"amount":10000', b'"amount":10001')
    assert tampered != delivery.body
    with pytest.raises(SignatureError):
        verify_and_parse(tampered, delivery.signature, pem)
    with pytest.raises(SignatureError):
        verify_and_parse(delivery.body, delivery.signature[:-4], pem)
    other = kit_key().public_key()
    with pytest.raises(SignatureError):
        verify_and_parse(delivery.body, delivery.signature, other)
    # the merchant's own endpoint answers 401 to a forged delivery and does not handle it
    before = len(merchant.events(session.id))
    assert merchant.receive(tampered, delivery.signature) == 401
    assert merchant.receive(delivery.body, delivery.signature) == 200  # duplicate: not handled
    assert len(merchant.events(session.id)) == before


def kit_key() -> Any:
    """A key no project has."""
    return generate_private_key()
