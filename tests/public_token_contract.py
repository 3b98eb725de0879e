"""The widgets' part of the repository contract: public tokens and projects' widget origins.

Run on SQLite and PostgreSQL (``tests/integration/test_public_token_contract.py``) and on the
in-memory fake (``tests/unit/test_memory_public_token_contract.py``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from kassa.domain.errors import PublicTokenUsed
from kassa.domain.public_token import AcquiringWidget, PublicToken, TokenizeWidget, hash_token
from kassa.service.ports import VaultEntry
from store_contract import T0, add_project, card, project, session


def token(project_id: str, text: str = "t-1", **changes: Any) -> PublicToken:
    """A stored public token opening both widgets of one session."""
    base = PublicToken(
        token_hash=hash_token(text),
        project_id=project_id,
        created_at=T0,
        expires_at=T0 + timedelta(hours=24),
        tokenize=TokenizeWidget(locale="ru"),
        acquiring=AcquiringWidget(
            session_id="ps_1",
            locale="ru",
            show_recurrent_checkbox=True,
            success_return_url="https://shop.example/ok",
            failure_return_url="https://shop.example/no",
            success_on_hold=True,
        ),
        fps_session_id="ps_1",
    )
    return replace(base, **changes)


async def add_token(store: Any, stored: PublicToken) -> PublicToken:
    """Insert ``stored`` through a unit of work."""
    async with store.unit_of_work() as uow:
        uow.add_public_token(stored)
        await uow.commit()
    return stored


class PublicTokenContract:
    """What every store does with public tokens; subclasses supply ``store``."""

    async def test_token_reads_back_unchanged_by_its_hash(self, store):
        """Every field, each widget's settings included, round-trips; the hash is the key."""
        p = await add_project(store)
        stored = await add_token(store, token(p.id))
        assert await store.get_public_token(stored.token_hash) == stored
        assert await store.get_public_token(stored.token_hash, p.id) == stored
        assert await store.get_public_token(hash_token("never issued")) is None

    async def test_a_token_with_one_widget_keeps_the_others_absent(self, store):
        """A tokenize-only token has no session and no acquiring settings."""
        p = await add_project(store)
        only = token(p.id, acquiring=None, fps_session_id=None, tokenize=TokenizeWidget())
        await add_token(store, only)
        found = await store.get_public_token(only.token_hash)
        assert found == only
        assert found.session_id is None

    async def test_another_projects_token_is_not_found(self, store):
        """Looked up within another project, a token does not exist."""
        owner = await add_project(store)
        other = await add_project(store)
        stored = await add_token(store, token(owner.id))
        assert await store.get_public_token(stored.token_hash, other.id) is None

    async def test_a_token_is_used_once(self, store):
        """The first use stores its time and result; a second use fails and changes nothing."""
        p = await add_project(store)
        stored = await add_token(store, token(p.id))
        used_at = T0 + timedelta(minutes=3)
        async with store.unit_of_work() as uow:
            uow.use_public_token(stored.token_hash, used_at, {"number_hash": "h", "last4": "4242"})
            await uow.commit()
        first = await store.get_public_token(stored.token_hash)
        assert first == replace(
            stored, used_at=used_at, result={"number_hash": "h", "last4": "4242"}
        )
        async with store.unit_of_work() as uow:
            uow.use_public_token(stored.token_hash, used_at + timedelta(seconds=1), {})
            with pytest.raises(PublicTokenUsed):
                await uow.commit()
        assert await store.get_public_token(stored.token_hash) == first

    async def test_a_refused_use_rolls_back_the_card_vaulted_with_it(self, store):
        """Vaulting and using a token commit together: a used token vaults nothing."""
        p = await add_project(store)
        stored = await add_token(store, token(p.id, used_at=T0))
        entry = VaultEntry(p.id, card("v" * 64), b"ciphertext", T0)
        async with store.unit_of_work() as uow:
            uow.add_vault_entry(entry)
            uow.use_public_token(stored.token_hash, T0, {"number_hash": "v" * 64})
            with pytest.raises(PublicTokenUsed):
                await uow.commit()
        assert await store.get_vault_entry(p.id, "v" * 64) is None

    async def test_an_unknown_token_cannot_be_used(self, store):
        """Using a hash that was never stored fails the commit."""
        await add_project(store)
        async with store.unit_of_work() as uow:
            uow.use_public_token(hash_token("nothing"), T0, {})
            with pytest.raises(PublicTokenUsed):
                await uow.commit()

    async def test_card_attempts_are_counted_up_to_the_limit(self, store):
        """``take_card_attempt`` counts while under the limit, then refuses without counting."""
        p = await add_project(store)
        stored = await add_token(store, token(p.id))
        assert [await store.take_card_attempt(stored.token_hash, 3) for _ in range(4)] == [
            True,
            True,
            True,
            False,
        ]
        assert (await store.get_public_token(stored.token_hash)).card_attempts == 3
        assert await store.take_card_attempt(hash_token("nothing"), 3) is False

    async def test_widget_origins_are_set_and_restored_to_the_default(self, store):
        """Origins round-trip in order; none brings back the webhook URL's origin."""
        p = await add_project(store, webhook_url="https://hooks.shop.example:8443/kassa")
        assert (await store.get_project(p.id)).allowed_origins == (
            "https://hooks.shop.example:8443",
        )
        origins = ("https://shop.example", "http://127.0.0.1:5000")
        assert await store.set_widget_origins(p.id, origins) is True
        found = await store.get_project(p.id)
        assert found.widget_origins == origins
        assert found.allowed_origins == origins
        assert [x.widget_origins for x in await store.list_projects() if x.id == p.id] == [origins]
        assert await store.set_widget_origins(p.id, ()) is True
        assert (await store.get_project(p.id)).allowed_origins == (
            "https://hooks.shop.example:8443",
        )
        assert await store.set_widget_origins("pj_missing", origins) is False

    async def test_a_project_is_added_with_its_widget_origins(self, store):
        """``add_project`` keeps the origins given at creation."""
        p = replace(project(), widget_origins=("https://a.example",))
        await store.add_project(p)
        assert await store.get_project(p.id) == p

    async def test_sessions_and_tokens_live_side_by_side(self, store):
        """A token bound to a real session reads back with that session id."""
        p = await add_project(store)
        s = session(p.id)
        async with store.unit_of_work() as uow:
            uow.add_session(s)
            uow.add_public_token(token(p.id, acquiring=AcquiringWidget(session_id=s.id)))
            await uow.commit()
        found = await store.get_public_token(hash_token("t-1"), p.id)
        assert found.session_id == s.id
