"""Log redaction: card numbers, CVCs, keys and signatures never reach a log line."""

from __future__ import annotations

import orjson
import pytest
import structlog

from kassa.logging import configure, redact, request_line, scrub

PAN = "4242424242424242"
SIGNATURE = "S4O2gUXvj505YZJkbmFal/CLuaSKnECVClYCLCPpggr0Fzxo0b46PnFJ9qh4eSGL9O610d+mZTue4bD3=="
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----"


@pytest.mark.parametrize(
    "text",
    [
        f"card {PAN} declined",
        "card 4242 4242 4242 4242 declined",
        "card 4242-4242-4242-4242 declined",
        "amex 378282246310005!",
        "nineteen 6759000000000000005 here",
        "twelve-digit maestro 501800000009.",
    ],
)
def test_luhn_valid_card_numbers_in_text_are_masked(text):
    """A Luhn-valid run of 12 to 19 digits (spaces or dashes allowed) keeps only BIN and last 4."""
    out = scrub(text)
    digits = "".join(ch for ch in text if ch.isdigit())
    assert digits not in "".join(ch for ch in out if ch.isdigit())
    assert f"{digits[:6]}…{digits[-4:]}" in out


@pytest.mark.parametrize(
    "text",
    ["order 1234567890123 paid", "ts 1716775380000001", "phone +79990000000", "amount 10000"],
)
def test_other_numbers_are_kept(text):
    """Digit runs that fail the Luhn check (ids, timestamps, phones) stay readable."""
    assert scrub(text) == text


@pytest.mark.parametrize(
    "key",
    [
        "number",
        "pan",
        "security_code",
        "cvc",
        "cvv",
        "signature",
        "X-PARTNER-SIGN",
        "private_key",
        "password",
        "body",
        "public_token",
        "form_token",
    ],
)
def test_secret_fields_are_redacted_whatever_their_value(key):
    """Fields that hold secrets are replaced outright, even when the value looks harmless."""
    assert scrub({key: "123", "other": "kept"}) == {key: "[redacted]", "other": "kept"}


def test_nested_containers_are_walked():
    """Dicts in lists in dicts are scrubbed at every depth."""
    event = {"request": {"cards": [{"number": PAN}, f"pan {PAN}"], "keys": (PEM,)}}
    out = scrub(event)
    assert out == {
        "request": {"cards": [{"number": "[redacted]"}, "pan 424242…4242"], "keys": ["[pem]"]},
    }


def test_pem_blocks_are_removed():
    """Private (or public) key PEM blocks in text are replaced."""
    assert scrub(f"loaded {PEM} ok") == "loaded [pem] ok"


def test_redact_processor_scrubs_the_whole_event():
    """The structlog processor returns a scrubbed copy of the event dict."""
    out = redact(None, "info", {"event": f"card {PAN}", "x_partner_sign": SIGNATURE})
    assert out == {"event": "card 424242…4242", "x_partner_sign": "[redacted]"}


@pytest.fixture
def json_logs(capsys):
    """Captured stdout; the test configures logging into it, structlog is reset afterwards.

    pytest swaps ``sys.stdout`` between set-up and call, so ``configure`` (which binds the
    current stdout) must run inside the test body.
    """
    yield capsys
    structlog.reset_defaults()


def test_configured_logger_writes_one_redacted_json_line(json_logs):
    """A logged card number, CVC or signature never appears in the JSON output."""
    configure("info", json=True)
    log = structlog.get_logger("kassa.test")
    log.info(
        "request",
        note=f"paid with {PAN}",
        security_code="123",
        signature=SIGNATURE,
        method="/api/v1/session/create",
    )
    out = json_logs.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 1
    event = orjson.loads(lines[0])
    assert event["event"] == "request"
    assert event["method"] == "/api/v1/session/create"
    assert event["level"] == "info"
    assert PAN not in out
    assert SIGNATURE not in out
    assert '"123"' not in out


def test_exception_traces_are_scrubbed_too(json_logs):
    """A card number inside an exception message is masked in the rendered trace."""
    configure("info", json=True)
    log = structlog.get_logger("kassa.test")
    try:
        int(f"bad card {PAN}")
    except ValueError:
        log.exception("boom")
    out = json_logs.readouterr().out
    assert "ValueError" in out
    assert PAN not in out


def test_level_filter_drops_debug_lines(capsys):
    """At level ``warning`` info lines are not written."""
    configure("warning", json=True)
    try:
        structlog.get_logger("kassa.test").info("quiet")
        structlog.get_logger("kassa.test").warning("loud")
    finally:
        structlog.reset_defaults()
    out = capsys.readouterr().out
    assert "quiet" not in out
    assert "loud" in out


def test_every_pan_length_kassa_accepts_is_masked():
    """The redactor covers the same 12 to 19 digits that ``normalize_pan`` accepts."""
    from kassa.domain.card import luhn_valid, normalize_pan

    for length in range(12, 20):
        body = "4" + "0" * (length - 2)
        number = next(body + str(d) for d in range(10) if luhn_valid(body + str(d)))
        assert normalize_pan(number, "n") == number
        assert number not in scrub(f"card {number} end"), length


def test_the_request_line_is_the_structlog_line_rendered_directly(json_logs):
    """``request_line`` writes what structlog would: one JSON line, strings scrubbed."""
    configure("info", json=True)
    request_line(method="session/create", project="pj_1", session_id=f"ps {PAN}", status=200)
    structlog.get_logger("kassa.api").info(
        "request", method="session/create", project="pj_1", session_id=f"ps {PAN}", status=200
    )
    fast, slow = (orjson.loads(line) for line in json_logs.readouterr().out.splitlines())
    assert PAN not in str(fast)
    assert fast["session_id"] == "ps 424242…4242"
    assert fast["timestamp"].endswith("Z")
    assert fast.keys() == slow.keys()
    assert {k: v for k, v in fast.items() if k != "timestamp"} == {
        k: v for k, v in slow.items() if k != "timestamp"
    }


def test_the_request_line_follows_the_level_and_a_reset(json_logs):
    """Above info nothing is written; after structlog is reset it goes through structlog."""
    configure("warning", json=True)
    request_line(method="session/create", status=200)
    assert json_logs.readouterr().out == ""
    structlog.reset_defaults()
    request_line(method="session/create", status=200)  # structlog's default console logger
    assert "session/create" in json_logs.readouterr().out
