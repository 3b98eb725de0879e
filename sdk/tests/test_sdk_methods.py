"""Every SDK method on the wire (``httpx.MockTransport``): path, verb, headers, exact bytes, result.

Every method is held to the protocol spec here; the real-server tests
(``tests/e2e/test_sdk_e2e_*.py``) run them against kassa, except ``create_token``, which
kassa does not serve yet.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sdk_kit import PUBLIC, SESSION, Wire, close, invoke, make, ok, sync

from kassa_client import (
    AcquiringWidget,
    AmountDetails,
    BankAccountMethod,
    CardDetails,
    CardMethod,
    Customer,
    FpsBank,
    Participant,
    ParticipantDetails,
    PaymentOptions,
    PaymentRequest,
    PaymentSession,
    PayoutRequest,
    RecurrentDetails,
    RecurrentToken,
    TokenInfo,
    TokenizeWidget,
    Wallet,
    load_public_key,
    verify,
)
from kassa_client._methods import METHOD_NAMES

USD = AmountDetails(amount=10000, currency="usd")
CARD = CardDetails.from_bank_card("4242424242424242", "05", "30", "123")
CARD_WIRE = {
    "type": "card",
    "card": {
        "type": "bank_card",
        "bank_card": {
            "number": "4242424242424242",
            "expiration_month": "05",
            "expiration_year": "30",
            "security_code": "123",
        },
    },
}
PAYOUT_CARD = CardMethod.from_number("4111111111111111")
PAYOUT_WIRE = {
    "type": "card",
    "card": {"type": "bank_card", "bank_card": {"number": "4111111111111111"}},
}
ME = Customer(reference="lucky")
RECIPIENT = ParticipantDetails(recipient=Participant(full_name="John Johnson"))
PAYOUT_SESSION = {
    **SESSION,
    "status": "in_progress",
    "payout_list": [
        {
            "id": "po_1",
            "status": "in_progress",
            "payout_details": {"type": "card", "card": {"last4": "1111", "brand": "visa"}},
            "amount_details": {"amount": 10000, "currency": "usd"},
        }
    ],
}
RECURRENT = {"token": "tok", "created_at": "2020-07-14T13:17:11+03:00", "is_active": True}
WHEN = datetime(2024, 4, 10, 16, 53, tzinfo=UTC)

# name, args, kwargs, path (no version), v1 body, v2 body (None: same), answer name, answer
CASES: list[tuple[str, tuple[Any, ...], dict[str, Any], str, Any, Any, str, Any]] = [
    (
        "create_session",
        (),
        {"amount_details": USD, "payment_method": PAYOUT_CARD, "metadata": "order123"},
        "session/create",
        {"amount_details": USD.to_wire(), "payment_method": PAYOUT_WIRE, "metadata": "order123"},
        {"amount_details": USD.to_wire(), "payout_details": PAYOUT_WIRE, "metadata": "order123"},
        "session",
        SESSION,
    ),
    (
        "init_payment",
        (),
        {
            "payment_details": CARD,
            "amount_details": USD,
            "customer": ME,
            "payment_options": PaymentOptions(return_url="https://shop.example"),
        },
        "session/init/payment",
        {
            "payment_details": CARD_WIRE,
            "amount_details": USD.to_wire(),
            "customer": {"reference": "lucky"},
            "payment_options": {"return_url": "https://shop.example"},
        },
        None,
        "session",
        SESSION,
    ),
    (
        "start_payment",
        ("ps_1",),
        {"payment_details": RecurrentDetails.from_token("tok"), "amount_details": USD},
        "session/start/payment",
        {
            "session_id": "ps_1",
            "payment_details": {
                "type": "recurrent",
                "recurrent": {"token": "tok", "initiator": "merchant"},
            },
            "amount_details": USD.to_wire(),
        },
        None,
        "session",
        SESSION,
    ),
    (
        "init_payout",
        (),
        {"payment_method": PAYOUT_CARD, "amount_details": USD, "participant_details": RECIPIENT},
        "session/init/payout",
        {
            "payment_method": PAYOUT_WIRE,
            "amount_details": USD.to_wire(),
            "participant_details": {"recipient": {"full_name": "John Johnson"}},
        },
        {
            "payout_details": PAYOUT_WIRE,
            "amount_details": USD.to_wire(),
            "participant_details": {"recipient": {"full_name": "John Johnson"}},
        },
        "session",
        PAYOUT_SESSION,
    ),
    (
        "start_payout",
        ("ps_1",),
        {
            "payment_method": BankAccountMethod.of(
                "faster_payment_system", phone="79680000000", bank_id="100000000069"
            ),
            "amount_details": AmountDetails(amount=30000, currency="rub"),
        },
        "session/start/payout",
        {
            "session_id": "ps_1",
            "payment_method": {
                "type": "bank_account",
                "bank_account": {
                    "system_type": "faster_payment_system",
                    "faster_payment_system": {"phone": "79680000000", "bank_id": "100000000069"},
                },
            },
            "amount_details": {"amount": 30000, "currency": "rub"},
        },
        {
            "session_id": "ps_1",
            "payout_details": {
                "type": "bank_account",
                "bank_account": {
                    "system_type": "faster_payment_system",
                    "faster_payment_system": {"phone": "79680000000", "bank_id": "100000000069"},
                },
            },
            "amount_details": {"amount": 30000, "currency": "rub"},
        },
        "session",
        PAYOUT_SESSION,
    ),
    ("confirm", ("ps_1",), {}, "session/confirm", {"session_id": "ps_1"}, None, "session", SESSION),
    ("cancel", ("ps_1",), {}, "session/cancel", {"session_id": "ps_1"}, None, "session", SESSION),
    (
        "capture",
        ("ps_1",),
        {"amount_details": AmountDetails(amount=500, currency="usd")},
        "session/capture",
        {"session_id": "ps_1", "amount_details": {"amount": 500, "currency": "usd"}},
        None,
        "session",
        SESSION,
    ),
    (
        "refund",
        ("ps_1",),
        {"metadata": {"reason": "late"}},
        "session/refund",
        {"session_id": "ps_1", "metadata": {"reason": "late"}},
        None,
        "session",
        SESSION,
    ),
    (
        "chargeback",
        ("ps_1",),
        {},
        "session/chargeback",
        {"session_id": "ps_1"},
        None,
        "session",
        SESSION,
    ),
    (
        "session_status",
        ("ps_1",),
        {},
        "session/status",
        {"session_id": "ps_1"},
        None,
        "session",
        SESSION,
    ),
    (
        "fps_verify_customer",
        ("ps_1",),
        {
            "phone": "79261234567",
            "bank_id": "100000000069",
            "recipient": Participant(first_name="Ivan", last_name="Ivanov"),
        },
        "fps/customer_verification",
        {
            "session_id": "ps_1",
            "payment_method": {
                "type": "bank_account",
                "bank_account": {
                    "system_type": "faster_payment_system_verification",
                    "faster_payment_system_verification": {
                        "phone": "79261234567",
                        "bank_id": "100000000069",
                    },
                },
            },
            "participant_details": {"recipient": {"first_name": "Ivan", "last_name": "Ivanov"}},
        },
        {
            "session_id": "ps_1",
            "payout_details": {
                "type": "bank_account",
                "bank_account": {
                    "system_type": "faster_payment_system_verification",
                    "faster_payment_system_verification": {
                        "phone": "79261234567",
                        "bank_id": "100000000069",
                    },
                },
            },
            "participant_details": {"recipient": {"first_name": "Ivan", "last_name": "Ivanov"}},
        },
        "session",
        SESSION,
    ),
]

# Methods that always go to one version (v1 only, or v2-only multi/init).
FIXED: list[tuple[str, tuple[Any, ...], dict[str, Any], str, str, Any, str, Any]] = [
    (
        "multi_init",
        (),
        {
            "acquiring_payments": [
                PaymentRequest(payment_details=CARD, amount_details=USD, customer=ME)
            ],
            "payments": [PayoutRequest(payment_method=PAYOUT_CARD, amount_details=USD)],
        },
        "GET_OR_POST:POST",
        "/api/v2/session/multi/init",
        {
            "payment_list": [
                {
                    "payment_details": CARD_WIRE,
                    "amount_details": USD.to_wire(),
                    "customer": {"reference": "lucky"},
                }
            ],
            "payout_list": [{"payout_details": PAYOUT_WIRE, "amount_details": USD.to_wire()}],
        },
        "session",
        PAYOUT_SESSION,
    ),
    (
        "wallet_balance",
        (),
        {"request_datetime": WHEN},
        "GET_OR_POST:POST",
        "/api/v1/wallet/balance",
        {"request_datetime": "2024-04-10T16:53:00+00:00"},
        "wallets",
        [{"id": "310", "amount_details": {"amount": 13000, "currency": "usd"}}],
    ),
    (
        "create_token",
        (),
        {"acquiring_widget": AcquiringWidget(session_id="ps_1", show_recurrent_checkbox=True)},
        "GET_OR_POST:POST",
        "/api/v1/token",
        {"acquiring_widget": {"session_id": "ps_1", "show_recurrent_checkbox": True}},
        "public_token",
        "e065c2f1",
    ),
    (
        "token_info",
        (),
        {"number_hash": "3c6c"},
        "GET_OR_POST:POST",
        "/api/v1/token/info",
        {
            "type": "card",
            "card": {"type": "encrypted_card", "encrypted_card": {"number_hash": "3c6c"}},
        },
        "info",
        {"number_hash": "3c6c", "brand": "visa", "last4": "4242", "type": "card"},
    ),
    (
        "recurrent_status",
        ("tok",),
        {},
        "GET_OR_POST:POST",
        "/api/v1/recurrent/status",
        {"recurrent": {"token": "tok"}},
        "recurrent",
        RECURRENT,
    ),
    (
        "disable_recurrent",
        ("tok",),
        {},
        "GET_OR_POST:POST",
        "/api/v1/recurrent/disable",
        {"recurrent": {"token": "tok"}},
        "recurrent",
        {**RECURRENT, "is_active": False, "finished_at": "2020-07-31T16:05:42+03:00"},
    ),
    (
        "fps_banks",
        (),
        {},
        "GET_OR_POST:GET",
        "/api/v1/fps/banks",
        [],
        "banks",
        [{"id": "100000000069", "eng_name": "Sberbank", "ru_name": "Сбербанк"}],
    ),
]

MUTATING = {
    "create_session",
    "init_payment",
    "start_payment",
    "init_payout",
    "start_payout",
    "confirm",
    "cancel",
    "capture",
    "refund",
    "chargeback",
    "multi_init",
    "create_token",
    "disable_recurrent",
    "fps_verify_customer",
}
RESULT_TYPES = {
    "wallet_balance": Wallet,
    "token_info": TokenInfo,
    "recurrent_status": RecurrentToken,
    "disable_recurrent": RecurrentToken,
    "fps_banks": FpsBank,
    "create_token": str,
}


def test_every_protocol_method_is_tested_here():
    """The 18 methods of the issue and ``chargeback`` (§3.0 row 19), each in one table here."""
    tested = {c[0] for c in CASES} | {c[0] for c in FIXED}
    assert tested == set(METHOD_NAMES)
    assert len(METHOD_NAMES) == 19


def _signed_and_compact(request: Any) -> None:
    """X-PARTNER-SIGN verifies over exactly the bytes sent, which are compact JSON."""
    body = request.content
    assert verify(body, request.headers["x-partner-sign"], load_public_key(PUBLIC))
    assert body == json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
    assert request.headers["x-partner-project"] == "pj_test"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("kassa-client/")


def _check_result(name: str, value: Any) -> None:
    expected = RESULT_TYPES.get(name, PaymentSession)
    if name in {"wallet_balance", "fps_banks"}:
        assert value
        assert all(isinstance(item, expected) for item in value)
    else:
        assert isinstance(value, expected)


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
async def test_session_method_on_the_wire(kind, version, case):
    """Path under the client's version, body in its names, key on mutating calls, result typed."""
    name, args, kwargs, path, v1_body, v2_body, answer_name, answer = case
    wire = Wire(ok(answer_name, answer))
    client = make(kind, wire, version=version)
    try:
        value = await invoke(client, name, *args, **kwargs)
    finally:
        await close(client)
    request = wire.last
    assert (request.method, request.url.path) == ("POST", f"/api/{version}/{path}")
    expected = v2_body if version == "v2" and v2_body is not None else v1_body
    assert wire.body() == expected
    _signed_and_compact(request)
    key = request.headers.get("x-partner-idempotency-key")
    assert (key is not None) == (name in MUTATING)
    _check_result(name, value)


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("case", FIXED, ids=[c[0] for c in FIXED])
async def test_fixed_version_method_on_the_wire(kind, version, case):
    """v1-only methods go to /api/v1 and multi/init to /api/v2, whatever the client's version."""
    name, args, kwargs, verb, target, body, answer_name, answer = case
    wire = Wire(ok(answer_name, answer))
    client = make(kind, wire, version=version)
    try:
        value = await invoke(client, name, *args, **kwargs)
    finally:
        await close(client)
    request = wire.last
    assert (request.method, request.url.path) == (verb.split(":")[1], target)
    assert wire.body() == body
    _signed_and_compact(request)
    assert ("x-partner-idempotency-key" in request.headers) == (name in MUTATING)
    _check_result(name, value)


async def test_v2_payout_names_read_into_the_same_attributes(kind):
    """A v2 answer's ``payout_list``/``payout_details`` land in ``payments``/``payment_method``."""
    wire = Wire(ok("session", PAYOUT_SESSION))
    client = make(kind, wire, version="v2")
    try:
        session = await invoke(
            client, "init_payout", payment_method=PAYOUT_CARD, amount_details=USD
        )
    finally:
        await close(client)
    assert session.payouts == session.payments
    [payout] = session.payments
    assert isinstance(payout.payment_method, CardMethod)
    assert payout.payment_method.card.last4 == "1111"
    assert payout.amount_details == USD


async def test_given_idempotency_key_is_sent_and_fresh_keys_differ(kind):
    """A caller's key is sent as given; without one every call gets a new key."""
    wire = Wire()
    client = make(kind, wire)
    try:
        await invoke(client, "create_session", idempotency_key="order-42")
        await invoke(client, "create_session")
        await invoke(client, "create_session")
    finally:
        await close(client)
    keys = [r.headers["x-partner-idempotency-key"] for r in wire.requests]
    assert keys[0] == "order-42"
    assert len(set(keys)) == 3


async def test_extra_fields_and_submerchant_are_sent(kind):
    """``extra`` adds fields the SDK has no keyword for; ``submerchant`` sets its header."""
    wire = Wire()
    client = make(kind, wire, submerchant="sub-7")
    try:
        await invoke(
            client,
            "create_session",
            amount_details=USD,
            extra={"fiscalization_details": {"x": 1}},
        )
    finally:
        await close(client)
    assert wire.body() == {"amount_details": USD.to_wire(), "fiscalization_details": {"x": 1}}
    assert wire.last.headers["x-partner-submerchant"] == "sub-7"


def test_unicode_is_sent_as_utf8_not_escaped():
    """Cyrillic travels as raw UTF-8 (as Bank 131's SDK sends it), signed over those bytes."""
    wire = Wire()
    with sync(wire) as client:
        client.create_session(metadata="Оплата заказа")
    assert "Оплата заказа".encode() in wire.last.content


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("token_info", {}, "exactly one"),
        ("token_info", {"number_hash": "a", "public_token": "b"}, "exactly one"),
        ("create_token", {}, "at least one widget"),
        ("multi_init", {}, "at least one"),
    ],
)
def test_arguments_the_protocol_cannot_take_are_refused_before_sending(name, kwargs, message):
    """Nothing is sent for a call that cannot be right."""
    wire = Wire()
    with sync(wire) as client, pytest.raises(ValueError, match=message):
        getattr(client, name)(**kwargs)
    assert wire.requests == []


def test_create_token_with_tokenize_widget():
    """The tokenization widget token: ``{"tokenize_widget": {"access": true}}``."""
    wire = Wire(ok("public_token", "abc"))
    with sync(wire) as client:
        assert client.create_token(tokenize_widget=TokenizeWidget(locale="en")) == "abc"
    assert wire.body() == {"tokenize_widget": {"access": True, "locale": "en"}}


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        ({"public_token": "pt"}, {"type": "public_token", "public_token": {"token": "pt"}}),
        (
            {"recurrent_token": "rt"},
            {"type": "recurrent_token", "recurrent_token": {"token": "rt"}},
        ),
    ],
)
def test_token_info_kinds(kwargs, body):
    """``token/info`` for a public or recurrent token."""
    wire = Wire(ok("info", {"type": "recurrent_token", "token": "rt", "is_active": True}))
    with sync(wire) as client:
        info = client.token_info(**kwargs)
    assert wire.body() == body
    assert info.is_active is True


def test_wallet_balance_defaults_to_now():
    """Without ``request_datetime`` the client sends the current time (ISO 8601, with offset)."""
    wire = Wire(ok("wallets", []))
    with sync(wire) as client:
        assert client.wallet_balance() == []
    sent = datetime.fromisoformat(wire.body()["request_datetime"])
    assert sent.tzinfo is not None
    assert abs((datetime.now(UTC) - sent).total_seconds()) < 3600


def test_methods_keep_their_docstrings_and_signatures():
    """``help(Client.refund)`` shows the method's docstring and its arguments, not the builder's."""
    import inspect

    from kassa_client import AsyncClient, Client

    for cls in (Client, AsyncClient):
        bound = cls("https://x.test", "pj", PUBLIC.with_name("bank131_private.pem")).refund
        assert "session/refund" in (bound.__doc__ or "")
        params = list(inspect.signature(bound).parameters)
        assert params[0] == "session_id"
        assert "version" not in params
