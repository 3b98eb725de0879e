"""The ``token`` method and ``token/info`` for public tokens over real HTTP (both databases)."""

from __future__ import annotations

import re

import pytest

import widget_kit as kit
from kassa.domain.public_token import hash_token
from testkit import SignedClient, assert_error, table_rows
from widget_kit import TOKENIZE, issue, new_session, pay_token, token_info, widget_project

# The kit's fixture, found by pytest under this name.
shop = kit.shop

# --- the token method --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recurrent", "on_hold"), [(True, False), ("true", "false"), ("false", True), (False, "true")]
)
async def test_token_takes_flags_as_booleans_or_strings(shop, recurrent, on_hold):
    """``show_recurrent_checkbox``/``success_on_hold`` as JSON booleans or "true"/"false"."""
    sid = await new_session(shop)
    token = await pay_token(
        shop, sid, show_recurrent_checkbox=recurrent, success_on_hold=on_hold, locale="ru"
    )
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    info = await token_info(shop, token)
    assert info["is_active"] is True
    assert info["widgets"] == ["acquiring_widget"]
    assert info["session_id"] == sid


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "at least one of tokenize_widget"),
        ([], "at least one of tokenize_widget"),
        ({"self_employed_widget": {"tax_reference": "1"}}, "self_employed_widget"),
        ({"tokenize_widget": {"access": False}}, "tokenize_widget.access"),
        ({"tokenize_widget": {"locale": "de"}}, "tokenize_widget.locale"),
        ({"acquiring_widget": {}}, "acquiring_widget.session_id"),
        (
            {"acquiring_widget": {"session_id": "ps_x", "show_recurrent_checkbox": "yes"}},
            "acquiring_widget.show_recurrent_checkbox",
        ),
        (
            {"acquiring_widget": {"session_id": "ps_x", "success_return_url": "javascript:x()"}},
            "acquiring_widget.success_return_url",
        ),
        ({"fps_no_account_widget": {"session_id": 5}}, "fps_no_account_widget.session_id"),
    ],
)
async def test_bad_token_requests_name_the_field(server, shop, body, field):
    """Schema violations are 400 ``invalid_request`` naming the field; no token is stored."""
    before = len((await table_rows(server.database_url))["public_tokens"])
    description = assert_error(await shop.post("token", body), 400, "invalid_request")
    assert field in description
    assert len((await table_rows(server.database_url))["public_tokens"]) == before


async def test_acquiring_token_for_a_session_that_is_not_created_is_409(shop):
    """A cancelled (finished) session cannot get a payment widget."""
    sid = await new_session(shop)
    await shop.ok("session/cancel", {"session_id": sid})
    response = await shop.post("token", {"acquiring_widget": {"session_id": sid}})
    assert "not created" in assert_error(response, 409, "invalid_session_status")


async def test_another_projects_session_is_not_found(server, shop):
    """A token for another project's session is refused exactly like a missing session."""
    other = SignedClient(server.base_url, await widget_project(server.database_url))
    try:
        sid = await new_session(other)
        theirs = await shop.post("token", {"acquiring_widget": {"session_id": sid}})
        missing = await shop.post("token", {"acquiring_widget": {"session_id": "ps_missing"}})
        assert_error(theirs, 404, "session_not_found")
        assert_error(missing, 404, "session_not_found")
    finally:
        await other.aclose()


async def test_token_is_idempotent_and_stored_only_as_a_hash(server, shop):
    """Same key and body replays the same token (one row); the database holds only its hash."""
    first = await shop.post("token", TOKENIZE, idempotency_key="tok-1")
    again = await shop.post("token", TOKENIZE, idempotency_key="tok-1")
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    plain = await issue(shop, TOKENIZE)
    rows = (await table_rows(server.database_url))["public_tokens"]
    hashes = {row[0] for row in rows}
    assert hash_token(first.json()["public_token"]) in hashes
    assert hash_token(plain) in hashes
    assert plain not in repr(rows)


async def test_token_info_of_a_public_token_and_of_another_projects(server, shop):
    """Valid with its expiry 24 h on; another project's token reads like one never issued."""
    token = await issue(shop, TOKENIZE)
    info = await token_info(shop, token)
    assert info["type"] == "public_token"
    assert info["is_active"] is True
    assert info["expires_at"] > info["created_at"]
    assert "finished_at" not in info
    other = SignedClient(server.base_url, await widget_project(server.database_url))
    try:
        body = {"type": "public_token", "public_token": {"token": token}}
        theirs = assert_error(await other.post("token/info", body), 400, "invalid_request")
        body = {"type": "public_token", "public_token": {"token": "0" * 64}}
        never = assert_error(await other.post("token/info", body), 400, "invalid_request")
        assert theirs == never == "public_token.token: no such public token"
    finally:
        await other.aclose()
