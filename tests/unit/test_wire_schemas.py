"""Wire models of ``session/create``: every §3.1 field validated; ``[]`` reads as ``{}``."""

from __future__ import annotations

import orjson
import pytest

from kassa.api.auth import parse
from kassa.api.schemas.session import SessionCreateV1, SessionCreateV2, SessionIdRequest
from kassa.domain.errors import InvalidRequest


def _v1(body: object) -> SessionCreateV1:
    return parse(SessionCreateV1, orjson.dumps(body))


@pytest.mark.parametrize("body", [b"[]", b"{}", b"", b"  "])
def test_empty_bodies_read_as_an_empty_object(body):
    """``[]`` (PHP's empty array), ``{}`` and an empty body create an empty request."""
    assert parse(SessionCreateV1, body) == SessionCreateV1()


@pytest.mark.parametrize(
    "body",
    [b'"text"', b"1", b"[1]", b"null", b"true"],
)
def test_non_object_bodies_are_refused(body):
    """A JSON value that is not an object is ``invalid_request`` naming the body."""
    with pytest.raises(InvalidRequest, match=r"^body: must be a JSON object"):
        parse(SessionCreateV1, body)


@pytest.mark.parametrize("body", [b"{", b"{'a': 1}", b'{"a":1,}', b"\xff\xfe"])
def test_malformed_json_is_refused(body):
    """Broken JSON is ``invalid_request`` naming the body."""
    with pytest.raises(InvalidRequest, match=r"^body: malformed JSON"):
        parse(SessionCreateV1, body)


def test_empty_nested_objects_may_arrive_as_lists():
    """``"payment_options": []`` and friends read as empty objects."""
    model = _v1({"payment_options": [], "customer": [], "participant_details": []})
    assert model.payment_options is not None
    assert model.payment_options.model_dump(exclude_none=True) == {}
    assert model.customer is not None
    assert model.participant_details is not None


@pytest.mark.parametrize(
    ("method", "nested"),
    [
        (
            {"type": "bank_account", "bank_account": {"system_type": "faster_payment_system"}},
            ("bank_account", "faster_payment_system"),
        ),
        ({"type": "wallet", "wallet": {"type": "global"}}, ("wallet", "global")),
    ],
)
def test_named_nested_object_may_arrive_as_a_list(method, nested):
    """``{"system_type": "faster_payment_system", "faster_payment_system": []}`` is accepted."""
    outer, inner = nested
    method[outer][inner] = []
    model = _v1({"payment_method": method})
    assert model.payment_method is not None
    named = getattr(getattr(model.payment_method, outer), "global_" if inner == "global" else inner)
    assert named.model_dump(exclude_none=True) == {}


def test_bank_account_must_name_its_system_object():
    """A ``system_type`` without the object it names, or an unknown one, is refused."""
    missing = {"type": "bank_account", "bank_account": {"system_type": "global"}}
    with pytest.raises(InvalidRequest, match=r"^payment_method\.bank_account: global: required"):
        _v1({"payment_method": missing})
    unknown = {"type": "bank_account", "bank_account": {"system_type": "ru", "ru": {}}}
    with pytest.raises(InvalidRequest, match=r"^payment_method\.bank_account\.system_type: "):
        _v1({"payment_method": unknown})


def test_v1_and_v2_name_the_payout_destination_differently():
    """v1 takes ``payment_method``, v2 ``payout_details``; each refuses the other's name."""
    card = {"type": "card", "card": {"type": "bank_card", "bank_card": {"number": "4242" * 4}}}
    assert parse(SessionCreateV2, orjson.dumps({"payout_details": card})).payout_details
    with pytest.raises(InvalidRequest, match="use payout_details"):
        parse(SessionCreateV2, orjson.dumps({"payment_method": card}))
    with pytest.raises(InvalidRequest, match="use payment_method"):
        _v1({"payout_details": card})


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "greater than 0"),
        (-1, "greater than 0"),
        (100.0, "valid integer"),
        ("100", "valid integer"),
        (True, "valid integer"),
        (None, "valid integer"),
    ],
)
def test_amount_must_be_a_positive_int(amount, message):
    """Amounts are int minor units above zero; floats, strings, booleans are refused."""
    with pytest.raises(InvalidRequest, match=rf"^amount_details\.amount: .*{message}"):
        _v1({"amount_details": {"amount": amount, "currency": "usd"}})


@pytest.mark.parametrize("currency", ["xyz", "us", "dollars", 840, ""])
def test_currency_must_be_iso_4217(currency):
    """Unknown codes, wrong lengths and non-strings are refused naming the field."""
    with pytest.raises(InvalidRequest, match=r"^amount_details\.currency: "):
        _v1({"amount_details": {"amount": 100, "currency": currency}})


def test_currency_is_lower_cased():
    """``"USD"`` is accepted and kept as ``usd``."""
    model = _v1({"amount_details": {"amount": 100, "currency": "USD"}})
    assert model.amount_details is not None
    assert model.amount_details.currency == "usd"


def test_session_id_is_required_for_status():
    """``session/status`` needs a non-empty string ``session_id``."""
    for body, field in (
        (b"{}", "session_id: Field required"),
        (b'{"session_id": 7}', "session_id"),
    ):
        with pytest.raises(InvalidRequest, match=f"^{field}"):
            parse(SessionIdRequest, body)
