"""Webhook verification and parsing, and the deduplicator."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sdk_kit import PRIVATE, PUBLIC

from kassa_client import (
    CardDetails,
    Deduplicator,
    SignatureError,
    WebhookEvent,
    WebhookPayloadError,
    WebhookType,
    load_private_key,
    sign,
    verify_and_parse,
)
from kassa_client.models import OperationStatus, SessionStatus
from kassa_client.webhooks import MemoryDedupStore

SERVER_KEY = load_private_key(PRIVATE)  # plays the server: signs webhooks


def hook(kind: str = "payment_finished", **session: object) -> bytes:
    """A webhook body as a server sends it (v1 names)."""
    body = {
        "type": kind,
        "session": {
            "id": "ps_1",
            "status": "accepted",
            "created_at": "2024-05-27T02:03:00.000000Z",
            "updated_at": "2024-05-27T02:03:00.000000Z",
            "acquiring_payments": [
                {
                    "id": "pm_1",
                    "status": "succeeded",
                    "created_at": "2024-05-27T02:03:00.000000Z",
                    "payment_details": {
                        "type": "card",
                        "card": {"brand": "visa", "last4": "4242", "bin": "424242"},
                    },
                    "amount_details": {"amount": 1000, "currency": "usd"},
                    "refunds": [],
                    "shiny_new_field": {"x": 1},
                }
            ],
            **session,
        },
        "confirm_information": {"k": "v"},
    }
    return json.dumps(body, ensure_ascii=False).encode()


@pytest.mark.parametrize("key_form", ["path", "pem-bytes", "pem-str", "key"])
def test_good_webhook_is_verified_and_parsed(key_form):
    """Typed event: enum type, session with its payment; unknown fields kept."""
    body = hook()
    key = {
        "path": PUBLIC,
        "pem-bytes": PUBLIC.read_bytes(),
        "pem-str": PUBLIC.read_text(),
        "key": SERVER_KEY.public_key(),
    }[key_form]
    event = verify_and_parse(body, sign(body, SERVER_KEY), key)
    assert isinstance(event, WebhookEvent)
    assert event.type is WebhookType.PAYMENT_FINISHED
    assert event.session.status is SessionStatus.ACCEPTED
    [payment] = event.session.acquiring_payments
    assert payment.status is OperationStatus.SUCCEEDED
    assert isinstance(payment.payment_details, CardDetails)
    assert payment.payment_details.card.last4 == "4242"
    assert payment.model_extra == {"shiny_new_field": {"x": 1}}
    assert event.model_extra == {"confirm_information": {"k": "v"}}


def test_v2_webhook_reads_into_the_same_attributes():
    """A v2 body (``payment_list``) parses like v1."""
    body = json.loads(hook())
    body["session"]["payment_list"] = body["session"].pop("acquiring_payments")
    raw = json.dumps(body).encode()
    event = verify_and_parse(raw, sign(raw, SERVER_KEY), PUBLIC)
    assert event.session.acquiring_payments[0].id == "pm_1"


def test_tampered_body_is_refused():
    """One byte changed after signing: ``SignatureError``."""
    body = hook()
    signature = sign(body, SERVER_KEY)
    tampered = body.replace(b'"amount": 1000', b'"amount": 9000')
    assert tampered != body
    with pytest.raises(SignatureError):
        verify_and_parse(tampered, signature, PUBLIC)


def test_reserialised_body_is_refused():
    """Verifying parsed-and-dumped JSON instead of the raw bytes fails: use the raw body."""
    body = hook()
    signature = sign(body, SERVER_KEY)
    again = json.dumps(json.loads(body), separators=(",", ":")).encode()
    with pytest.raises(SignatureError):
        verify_and_parse(again, signature, PUBLIC)


def test_wrong_key_is_refused():
    """Signed by another key (not the server's): ``SignatureError``."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    body = hook()
    with pytest.raises(SignatureError):
        verify_and_parse(body, sign(body, other), PUBLIC)


@pytest.mark.parametrize("cut", [1, 4, 100, 343])
def test_truncated_signature_is_refused(cut):
    """The signature cut short by any amount: ``SignatureError``, never a crash."""
    body = hook()
    signature = sign(body, SERVER_KEY)
    with pytest.raises(SignatureError):
        verify_and_parse(body, signature[:-cut], PUBLIC)


@pytest.mark.parametrize("signature", [None, "", "not-base64!"])
def test_missing_or_garbled_signature_is_refused(signature):
    """No header, an empty one, or one that is not base64."""
    with pytest.raises(SignatureError):
        verify_and_parse(hook(), signature, PUBLIC)


def test_unknown_type_is_a_clear_error():
    """A correctly signed body with a type outside the five: ``WebhookPayloadError`` naming it."""
    body = hook("payment_exploded")
    with pytest.raises(WebhookPayloadError, match="payment_exploded"):
        verify_and_parse(body, sign(body, SERVER_KEY), PUBLIC)


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'{"type": "payment_finished"}'])
def test_signed_non_webhooks_are_payload_errors(body):
    """Signed, but not JSON, not an object, or no session."""
    with pytest.raises(WebhookPayloadError):
        verify_and_parse(body, sign(body, SERVER_KEY), PUBLIC)


def test_parsed_json_instead_of_bytes_is_a_type_error():
    """Passing a dict or str is a programming mistake named as such."""
    with pytest.raises(TypeError, match="raw request bytes"):
        verify_and_parse(hook().decode(), "x", PUBLIC)  # type: ignore[arg-type]


def test_all_five_types_parse():
    """Each of the protocol's webhook types."""
    assert {t.value for t in WebhookType} == {
        "ready_to_confirm",
        "ready_to_capture",
        "action_required",
        "payment_finished",
        "payment_refunded",
    }
    for kind in WebhookType:
        body = hook(kind.value)
        assert verify_and_parse(body, sign(body, SERVER_KEY), PUBLIC).type is kind


def _event(kind: str = "payment_finished", **session: object) -> WebhookEvent:
    return WebhookEvent.model_validate_json(hook(kind, **session))


def test_deduplicator_drops_a_redelivery_but_not_a_new_event():
    """Same event twice → handled once; another type, status or refund → a new event."""
    dedup = Deduplicator()
    assert dedup.first_time(_event())
    assert not dedup.first_time(_event())
    assert dedup.first_time(_event("ready_to_confirm"))
    assert dedup.first_time(_event(status="in_progress"))
    refunded = json.loads(hook("payment_refunded"))
    refund = {
        "id": "rf_1",
        "status": "accepted",
        "amount_details": {"amount": 5, "currency": "usd"},
    }
    refunded["session"]["acquiring_payments"][0]["refunds"] = [refund]
    first = WebhookEvent.model_validate(refunded)
    assert dedup.first_time(first)
    refunded["session"]["acquiring_payments"][0]["refunds"].append({**refund, "id": "rf_2"})
    assert dedup.first_time(WebhookEvent.model_validate(refunded))


def test_forget_lets_a_failed_event_be_handled_again():
    """After ``forget`` the server's retry of the same event is handled."""
    dedup = Deduplicator()
    event = _event()
    assert dedup.first_time(event)
    dedup.forget(event)
    assert dedup.first_time(event)


def test_custom_store_is_used():
    """Any object with ``add``/``discard`` can hold the keys (Redis, a table)."""

    class Store:
        def __init__(self) -> None:
            self.keys: set[str] = set()

        def add(self, key: str) -> bool:
            if key in self.keys:
                return False
            self.keys.add(key)
            return True

        def discard(self, key: str) -> None:
            self.keys.discard(key)

    store = Store()
    dedup = Deduplicator(store)
    assert dedup.first_time(_event())
    assert not dedup.first_time(_event())
    assert len(store.keys) == 1


def test_memory_store_is_bounded_and_expires():
    """The default store keeps at most ``max_keys`` keys, each for ``ttl`` seconds."""
    store = MemoryDedupStore(max_keys=2)
    assert store.add("a")
    assert store.add("b")
    assert store.add("c")  # evicts "a"
    assert store.add("a")
    expiring = MemoryDedupStore(ttl=0)
    assert expiring.add("a")
    assert expiring.add("a")
