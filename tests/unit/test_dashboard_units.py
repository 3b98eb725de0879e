"""Dashboard pieces without a server: search columns, passwords, form tokens, CSV, limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import orjson
import pytest

from acquiring_store_contract import full_payment
from kassa.adapters.db.dashboard_sql import filter_sql, like_pattern
from kassa.adapters.db.search_rows import search_values, values_from_doc
from kassa.adapters.db.session_rows import session_doc
from kassa.domain.errors import AuthenticationError
from kassa.service import admin
from kassa.service.ports.dashboard import SessionFilter
from kassa.web.dashboard_model import csv_cell, cursor_text, parse_cursor, parse_filter
from kassa.web.limits import AttemptWindow
from store_contract import T0, session


def test_search_columns_from_a_session_and_from_its_stored_doc_agree() -> None:
    """The write path and the migration's back-fill give the same columns."""
    base = session("pj_1")
    paid = replace(base, payments=(full_payment(),))
    for one in (base, paid):
        doc = orjson.loads(session_doc(one))
        assert search_values(one) == values_from_doc(doc)
    amount, currency, kinds, last4, ref, text = search_values(paid)
    assert (amount, currency, last4, ref) == (10000, "usd", "4242", "user-1")
    assert kinds == "payment refund"
    assert text is not None
    assert '"order":123' in text
    assert "two" in text


def test_password_hash_verifies_only_the_password() -> None:
    """Scrypt hash: the password verifies, another does not, a garbled hash never does."""
    stored = admin.hash_password("correct horse battery")
    assert stored.startswith("scrypt$16384$8$1$")
    assert admin.verify_password("correct horse battery", stored)
    assert not admin.verify_password("correct horse batterY", stored)
    assert not admin.verify_password("x", "garbled")
    assert admin.hash_password("same") != admin.hash_password("same")  # salted


def test_form_tokens_are_bound_to_their_log_in() -> None:
    """A token verifies for its binding only; tampering with nonce or MAC is refused."""
    key = admin.form_key(b"k" * 32)
    token = admin.form_token(key, "login-a")
    nonce = admin.check_form_token(key, "login-a", token)
    assert token.startswith(nonce + ".")
    for given, binding in ((token, "login-b"), ("", "login-a"), ("x" + token, "login-a")):
        with pytest.raises(AuthenticationError):
            admin.check_form_token(key, binding, given)
    with pytest.raises(AuthenticationError):
        admin.check_form_token(admin.form_key(b"j" * 32), "login-a", token)
    with pytest.raises(AuthenticationError):
        admin.check_form_token(key, "", admin.form_token(key, ""))


def test_like_pattern_escapes_wildcards() -> None:
    """``%``, ``_`` and the escape character itself match literally."""
    assert like_pattern("50%_OFF\\") == "%50\\%\\_off\\\\%"


def test_search_term_shapes() -> None:
    """Four digits search last4; an id searches ids; anything else reference or text."""
    clause, params = filter_sql(SessionFilter(query="4242"), None)
    assert "s.last4 = ?" in clause
    assert params == ["4242"]
    clause, params = filter_sql(SessionFilter(query="pm_01abc"), None)
    assert "session_operations" in clause
    assert params == ["pm_01abc", "pm_01abc"]
    clause, params = filter_sql(SessionFilter(query="Order 7"), None)
    assert "search_text LIKE" in clause
    assert params == ["Order 7", "%order 7%"]


def test_keyset_cursor_round_trips() -> None:
    """The ``after`` parameter names the last row shown; garbage is ignored."""
    one = session("pj_1")
    cursor = parse_cursor(cursor_text(one))
    assert cursor is not None
    assert (cursor.created_at, cursor.id) == (one.created_at, one.id)
    assert parse_cursor("x~y") is None
    assert parse_cursor("") is None
    clause, params = filter_sql(SessionFilter(), cursor)
    assert "(s.created_at, s.id) < (?, ?)" in clause
    assert params[-1] == one.id


def test_filters_from_the_query_string() -> None:
    """Unknown statuses and kinds do not narrow; ``to`` includes its whole day."""
    where = parse_filter(
        {"status": "nope", "kind": "payout", "to": "2024-05-27", "currency": "USD"}
    )
    assert where.status == ""
    assert where.kind == "payout"
    assert where.currency == "usd"
    assert where.created_to == T0.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+1", "'=1+1"), ("+7", "'+7"), ("-2", "'-2"), ("@x", "'@x"), ("ok", "ok"), (None, "")],
)
def test_csv_cells_never_start_a_formula(value: str | None, cell: str) -> None:
    """Spreadsheet formula prefixes get a leading quote."""
    assert csv_cell(value) == cell


def test_login_window_counts_failures_only() -> None:
    """``note`` counts; ``blocked`` reads; the window slides."""
    now = [0.0]
    window = AttemptWindow(2, 10, clock=lambda: now[0])
    assert not window.blocked("a")
    window.note("a")
    window.note("a")
    assert window.blocked("a")
    assert not window.blocked("b")
    now[0] = 10.5
    assert not window.blocked("a")


@pytest.mark.parametrize(
    ("scheme", "forwarded", "trusted", "secure"),
    [
        ("http", "", False, False),
        ("https", "", False, True),
        ("http", "https", False, False),
        ("http", "https", True, True),
    ],
)
def test_cookie_is_secure_over_https_or_a_trusted_proxy(
    scheme: str, forwarded: str, trusted: bool, secure: bool
) -> None:
    """Secure on HTTPS; ``X-Forwarded-Proto: https`` counts only when the proxy is trusted."""
    from types import SimpleNamespace

    from starlette.requests import Request

    from kassa.config import Settings
    from kassa.web.dashboard_view import Dashboard

    headers = [(b"x-forwarded-proto", forwarded.encode())] if forwarded else []
    request = Request(
        {"type": "http", "scheme": scheme, "headers": headers, "path": "/", "server": ("h", 1)}
    )
    runtime = SimpleNamespace(settings=Settings(trust_forwarded_proto=trusted))
    ctx = Dashboard(runtime, AttemptWindow(1, 1))  # type: ignore[arg-type]
    assert ctx.secure(request) is secure


def test_overview_sums_days_per_currency_and_draws_a_bar_per_day() -> None:
    """30-day figures are the days' sums; success rate = accepted / count; bars by day."""
    from datetime import UTC, datetime

    from kassa.service.ports.dashboard import DayFigures
    from kassa.web.dashboard_overview import HEIGHT, charts, per_currency
    from kassa.web.dashboard_view import money

    start = datetime(2026, 11, 3, tzinfo=UTC)
    days = [
        DayFigures(start, "usd", 4, 3, 3000),
        DayFigures(start + timedelta(days=29), "usd", 2, 1, 6000),
        DayFigures(start + timedelta(days=29), "jpy", 1, 0, 0),
    ]
    [jpy, usd] = per_currency(days)
    assert (usd.count, usd.accepted, usd.volume) == (6, 4, 9000)
    assert usd.success_rate == pytest.approx(4 / 6)
    assert jpy.success_rate == 0
    [chart] = charts(days, start, money)  # no accepted JPY: no chart for it
    assert chart.currency == "usd"
    small, big = chart.bars
    assert small.x == 0
    assert big.x == 29 * (600 // 30)
    assert big.height == HEIGHT - 20
    assert small.height == round(3000 / 6000 * (HEIGHT - 20))
    assert "60.00 USD" in big.label
    assert money(1234, "jpy") == "1,234 JPY"
    assert money(-5, "kwd") == "-0.005 KWD"
