"""Error mapping: each KassaError → one HTTP status and the envelope; unknown → bare 500."""

from __future__ import annotations

import orjson
import pytest
from pydantic import BaseModel, StrictInt, ValidationError

from kassa.api.auth import parse
from kassa.api.errors import STATUS, envelope, from_validation, render, status_of
from kassa.api.schemas.session import SessionCreateV1
from kassa.domain import errors as e


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (e.InvalidRequest("amount_details.amount: bad"), 400, "invalid_request"),
        (e.BodyTooLarge("too big"), 413, "invalid_request"),
        (e.MethodNotFound("no such method"), 404, "invalid_request"),
        (e.IdempotencyKeyAlreadyExists("in progress"), 400, "idempotency_key_already_exists"),
        (e.IdentificationError("unknown project"), 401, "identification_error"),
        (e.AuthenticationError("bad sign"), 401, "authentication_error"),
        (e.AuthorizationError("disabled"), 403, "authorization_error"),
        (e.SessionNotFound("session ps_1 not found"), 404, "session_not_found"),
        (e.InvalidSessionStatus("from created to accepted"), 409, "invalid_session_status"),
        (e.InsufficientFunds("wallet"), 422, "insufficient_funds"),
        (e.RefundAmountExceeded("too much"), 422, "refund_amount_exceeded"),
        (e.RecurrentTokenInactive("off"), 422, "recurrent_token_inactive"),
    ],
)
def test_error_maps_to_the_design_table(error, status, code):
    """Each error gets the HTTP status of kassa.md §3 and its description on the wire."""
    got_status, body = render(error)
    assert got_status == status
    assert orjson.loads(body) == {
        "status": "error",
        "error": {"code": code, "description": error.description},
    }


@pytest.mark.parametrize(
    "error",
    [
        e.KassaError("secret detail"),
        e.InternalError("stack: File x.py"),
        e.ConcurrentUpdate("version 3 lost"),
    ],
)
def test_internal_errors_hide_their_description(error):
    """Anything that maps to 500 says only ``internal_error``; the description stays inside."""
    status, body = render(error)
    assert status == 500
    assert orjson.loads(body) == {
        "status": "error",
        "error": {"code": "internal_error", "description": "internal error, retry later"},
    }


def test_every_mapped_status_is_an_error_status():
    """Clients recognise errors by HTTP status ≥ 400 only, so no mapping may be lower."""
    assert all(400 <= status < 600 for status in STATUS.values())


def test_every_error_class_is_mapped_or_internal():
    """Every KassaError subclass resolves to a status (the most specific mapping wins)."""

    def subclasses(cls: type[e.KassaError]) -> list[type[e.KassaError]]:
        return [cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))]

    for cls in subclasses(e.KassaError):
        error = e.IdempotencyKeyInFlight("x", 1) if cls is e.IdempotencyKeyInFlight else cls("x")
        status = status_of(error)
        assert status in {400, 401, 403, 404, 409, 410, 413, 422, 429, 500}, cls


def test_envelope_fields_are_strings_even_for_odd_text():
    """Code and description are JSON strings (raw UTF-8, quotes escaped)."""
    body = envelope("invalid_request", 'поле "amount"')
    data = orjson.loads(body)
    assert data["error"] == {"code": "invalid_request", "description": 'поле "amount"'}
    assert "поле".encode() in body


class _Amount(BaseModel):
    amount: StrictInt


class _Request(BaseModel):
    amount_details: _Amount
    items: list[_Amount]


def _validation_error(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        _Request.model_validate(data)
    return caught.value


def test_validation_error_names_the_nested_field():
    """A schema violation becomes ``invalid_request`` with the dotted field path."""
    exc = _validation_error({"amount_details": {"amount": 1.5}, "items": []})
    error = from_validation(exc)
    assert isinstance(error, e.InvalidRequest)
    assert error.description.startswith("amount_details.amount: ")


def test_validation_error_names_list_positions():
    """List items are named with their index."""
    exc = _validation_error({"amount_details": {"amount": 1}, "items": [{"amount": 1}, {}]})
    assert from_validation(exc).description.startswith("items[1].amount: ")


def test_validation_error_never_echoes_the_value():
    """The rejected value (it may be a card number) is not repeated."""
    exc = _validation_error({"amount_details": {"amount": "4242424242424242"}, "items": []})
    assert "4242424242424242" not in from_validation(exc).description


def _parse_error(body: object) -> str:
    with pytest.raises(e.InvalidRequest) as caught:
        parse(SessionCreateV1, orjson.dumps(body))
    return caught.value.description


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"payment_details": {"type": "card", "card": {"type": "bank_card", "bank_card": {}}}},
            "payment_details.card.bank_card.number: Field required",
        ),
        (
            {
                "payment_details": {
                    "type": "card",
                    "card": {"type": "bank_card", "bank_card": {"number": "42"}},
                },
            },
            "payment_details.card.bank_card.number: String should have at least 12 characters",
        ),
        ({"payment_details": {"type": "recurrent"}}, "payment_details.recurrent: Field required"),
        (
            {"payment_details": {"type": "card", "card": []}},
            "payment_details.card.type: Field required",
        ),
        (
            {"payment_method": {"type": "card", "card": {"type": "encrypted_card"}}},
            "payment_method.card: encrypted_card: required",
        ),
        (
            {"customer": {"contacts": [{"email": "a@b.c"}, {"email": 5}]}},
            "customer.contacts[1].email: Input should be a valid string",
        ),
        ({"amount_details": {"amount": 1.5, "currency": "usd"}}, "amount_details.amount: "),
    ],
)
def test_union_tags_are_left_out_of_the_field_name(body, field):
    """Discriminated unions do not repeat their tag: the description names the real path."""
    assert _parse_error(body).startswith(field)


def test_unknown_discriminator_names_the_union_field():
    """An unknown ``type`` names the object whose ``type`` it is."""
    assert _parse_error({"payment_details": {"type": "cash"}}).startswith("payment_details: ")


def test_without_the_model_every_step_is_kept():
    """``from_validation`` without the model still names a usable (if longer) path."""
    with pytest.raises(ValidationError) as caught:
        SessionCreateV1.model_validate({"payment_details": {"type": "recurrent"}})
    assert from_validation(caught.value).description.startswith(
        "payment_details.recurrent.recurrent: "
    )
