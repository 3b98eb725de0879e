"""The widgets' pure rules: the card form's checks, origins, a public token's state."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from kassa.domain.card_form import Problem, check_card_form
from kassa.domain.errors import (
    PublicTokenExpired,
    PublicTokenNotFound,
    PublicTokenUsed,
    TooManyAttempts,
)
from kassa.domain.origin import OriginError, check_origin, origin_of
from kassa.domain.project import Project
from kassa.domain.public_token import (
    AcquiringWidget,
    PublicToken,
    TokenizeWidget,
    TokenState,
    WidgetKind,
    hash_token,
)
from kassa.web.limits import AttemptWindow

TODAY = date(2026, 5, 17)
T0 = datetime(2026, 5, 17, 12, tzinfo=UTC)
GOOD = {"number": "4242 4242 4242 4242", "expiry": "05/26", "cvc": "123", "cardholder_name": "A B"}


def problems(**changes: str) -> dict[str, Problem]:
    """The problems of the good form with ``changes``."""
    return check_card_form({**GOOD, **changes}, TODAY, want_cvc=True, want_name=True).problems


def test_a_good_card_passes_with_digits_only_and_two_digit_expiry():
    """Spaces are dropped from the number; MM/YY comes back as two-digit strings."""
    checked = check_card_form(GOOD, TODAY, want_cvc=True, want_name=True)
    assert checked.problems == {}
    assert checked.card is not None
    assert (checked.card.number, checked.card.month, checked.card.year) == (
        "4242424242424242",
        "05",
        "26",
    )
    assert (checked.card.brand, checked.card.last4, checked.card.cardholder_name) == (
        "visa",
        "4242",
        "A B",
    )
    assert "4242424242424242" not in repr(checked.card)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("number", "", Problem.REQUIRED),
        ("number", "4242 4242 4242 4241", Problem.LUHN),
        ("number", "4" * 20, Problem.DIGITS),
        ("number", "42424242424", Problem.DIGITS),
        ("number", "4242-4242-4242-4242", Problem.DIGITS),
        ("number", "\uff14\uff12" * 8, Problem.DIGITS),
        ("expiry", "", Problem.REQUIRED),
        ("expiry", "13/30", Problem.FORMAT),
        ("expiry", "1/2", Problem.FORMAT),
        ("expiry", "04/26", Problem.PAST),
        ("expiry", "12/2025", Problem.PAST),
        ("cvc", "", Problem.REQUIRED),
        ("cvc", "12", Problem.FORMAT),
        ("cvc", "12a", Problem.FORMAT),
        ("cardholder_name", "  ", Problem.REQUIRED),
        ("cardholder_name", "x" * 101, Problem.TOO_LONG),
        ("cardholder_name", "A\x00B", Problem.FORMAT),
    ],
)
def test_each_bad_field_is_named_with_its_problem(field, value, problem):
    """One bad field gives exactly that field's problem, and no card."""
    assert problems(**{field: value}) == {field: problem}


def test_every_empty_field_is_reported_at_once():
    """An empty form names all four fields."""
    checked = check_card_form({}, TODAY, want_cvc=True, want_name=True)
    assert checked.card is None
    assert set(checked.problems) == {"number", "expiry", "cvc", "cardholder_name"}


def test_the_current_month_and_other_expiry_spellings_are_accepted():
    """This month is still valid; MMYY, M/YY and MM/YYYY read the same."""
    for spelling in ("05/26", "0526", "5/26", "05 / 2026"):
        assert problems(expiry=spelling) == {}, spelling


def test_without_cvc_and_name_fields_those_are_not_required():
    """The tokenize form asks no CVC; the pay form's name is optional."""
    form = {"number": GOOD["number"], "expiry": "12/30"}
    checked = check_card_form(form, TODAY, want_cvc=False, want_name=False)
    assert checked.problems == {}
    assert checked.card is not None
    assert checked.card.cardholder_name is None


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Shop.Example/path?q=1", "https://shop.example"),
        ("https://shop.example:443/", "https://shop.example"),
        ("http://127.0.0.1:8080/hook", "http://127.0.0.1:8080"),
        ("http://[::1]:81/x", "http://[::1]:81"),
        ("ftp://shop.example", None),
        ("https://", None),
        ("https://shop.example:99999", None),
    ],
)
def test_origin_of_a_url(url, origin):
    """Scheme, lower-case host and a non-default port; anything else has no origin."""
    assert origin_of(url) == origin


def test_origins_must_be_bare_and_https_outside_the_sandbox():
    """Paths, credentials and http (outside sandbox mode) are refused with a reason."""
    assert check_origin("https://shop.example/", allow_http=False) == "https://shop.example"
    assert check_origin("http://127.0.0.1:5000", allow_http=True) == "http://127.0.0.1:5000"
    for bad, why in (
        ("https://shop.example/pay", "not an origin"),
        ("https://u:p@shop.example", "credentials"),
        ("http://shop.example", "sandbox"),
        ("ftp://shop.example", "http(s)"),
        ("javascript:alert(1)", "not an origin"),
        ("", "1 to"),
    ):
        with pytest.raises(OriginError, match=re.escape(why)):
            check_origin(bad, allow_http=False)


def test_allowed_origins_default_to_the_webhook_urls_origin():
    """No widget origins: the webhook URL's origin; none at all without a webhook URL."""
    base = Project("pj_1", "shop", ("pem",), T0)
    assert base.allowed_origins == ()
    hooked = Project("pj_1", "shop", ("pem",), T0, webhook_url="https://api.shop.example/h")
    assert hooked.allowed_origins == ("https://api.shop.example",)
    chosen = Project("pj_1", "shop", ("pem",), T0, "https://a.example/h", widget_origins=("x",))
    assert chosen.allowed_origins == ("x",)


def public_token(**changes) -> PublicToken:
    """A tokenize token valid for a day from T0."""
    values = {
        "token_hash": hash_token("t"),
        "project_id": "pj_1",
        "created_at": T0,
        "expires_at": T0 + timedelta(hours=24),
        "tokenize": TokenizeWidget(),
    }
    values.update(changes)
    return PublicToken(**values)


def test_a_token_is_active_until_used_or_expired():
    """State follows ``used_at`` and ``expires_at`` (expiry is exclusive of the last instant)."""
    fresh = public_token()
    assert fresh.state(T0) is TokenState.ACTIVE
    assert fresh.state(T0 + timedelta(hours=24)) is TokenState.EXPIRED
    assert public_token(used_at=T0).state(T0) is TokenState.USED


def test_require_refuses_other_widgets_expired_and_used_tokens():
    """A tokenize token cannot open the payment form; expired and used tokens are refused."""
    fresh = public_token()
    fresh.require(WidgetKind.TOKENIZE, T0)
    with pytest.raises(PublicTokenNotFound):
        fresh.require(WidgetKind.ACQUIRING, T0)
    with pytest.raises(PublicTokenExpired):
        fresh.require(WidgetKind.TOKENIZE, T0 + timedelta(days=1))
    used = public_token(used_at=T0)
    with pytest.raises(PublicTokenUsed):
        used.require(WidgetKind.TOKENIZE, T0)
    used.require(WidgetKind.TOKENIZE, T0, allow_used=True)
    with pytest.raises(PublicTokenExpired):
        used.require(WidgetKind.TOKENIZE, T0 + timedelta(days=1), allow_used=True)


def test_kinds_and_session_follow_the_widgets_given():
    """The widgets in wire order; the session of the acquiring (or FPS) widget."""
    both = public_token(acquiring=AcquiringWidget("ps_1"), fps_session_id="ps_1")
    assert both.kinds == (WidgetKind.TOKENIZE, WidgetKind.ACQUIRING, WidgetKind.FPS)
    assert both.session_id == "ps_1"
    assert public_token().session_id is None
    assert public_token(tokenize=None, fps_session_id="ps_2").session_id == "ps_2"


def test_hash_token_is_sha256_hex():
    """The stored key is the SHA-256 of the token text."""
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_the_address_window_refuses_past_the_limit_until_the_oldest_leaves():
    """``limit`` attempts per window; a refused attempt is not counted; addresses are apart."""
    now = [0.0]
    window = AttemptWindow(3, 10.0, clock=lambda: now[0])
    for _ in range(3):
        window.take("10.0.0.1")
    with pytest.raises(TooManyAttempts, match="more than 3 card attempts"):
        window.take("10.0.0.1")
    window.take("10.0.0.2")
    now[0] = 9.9
    with pytest.raises(TooManyAttempts, match="more than 3"):
        window.take("10.0.0.1")
    now[0] = 10.0
    window.take("10.0.0.1")
