"""The repository contract: test classes that every ``Store`` implementation must pass.

``StoreContract`` (projects, keys, sessions, vault, outbox; this module) and
``IdempotencyContract`` (``idempotency_contract.py``) are run by
``tests/integration/test_store_contract.py`` on SQLite and PostgreSQL and by
``tests/unit/test_memory_store_contract.py`` on ``kassa.testing.InMemoryStore``. A subclass
provides the ``store`` fixture and ``outbox_rows`` (the port has no outbox read yet).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kassa.domain.errors import ConcurrentUpdate
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.instrument import BankCard, CardRef, UnprocessedDestination
from kassa.domain.money import Money
from kassa.domain.project import Project, ProjectSettings
from kassa.domain.session import (
    ApiVersion,
    PaymentSession,
    SessionDraft,
    SessionStatus,
)
from kassa.service.ports import (
    IdempotencyClaim,
    IdempotencyRecord,
    IdempotencyState,
    OutboxMessage,
    VaultEntry,
)

T0 = datetime(2024, 5, 27, 2, 3, 0, 123456, tzinfo=UTC)

# (event_type, session_id, body, signature, status) of one outbox row
OutboxRow = tuple[str, str, bytes, str, str]


def project(
    *,
    keys: tuple[str, ...] = ("pem-1",),
    created_at: datetime = T0,
    webhook_url: str | None = None,
    name: str = "shop",
) -> Project:
    """A project with fake key PEMs (stores keep them as text)."""
    return Project(
        id=new_id(IdPrefix.PROJECT),
        name=name,
        public_keys=keys,
        created_at=created_at,
        webhook_url=webhook_url,
        settings=ProjectSettings(auto_confirm=True, partial_refunds=False),
    )


async def add_project(store: Any, **kw: Any) -> Project:
    """Store a new ``project(**kw)`` and return it."""
    p = project(**kw)
    await store.add_project(p)
    return p


def card(number_hash: str = "h" * 64) -> CardRef:
    """A vaulted card reference."""
    return CardRef(number_hash, "visa", "4242", "424242", "05", "30", "Helen Adams")


def session(project_id: str, **changes: Any) -> PaymentSession:
    """A created session holding every kind of draft data."""
    draft = SessionDraft(
        amount=Money(10000, "usd"),
        payment_details=BankCard(card()),
        payout_details=UnprocessedDestination(
            "wallet", {"wallet": {"type": "qiwi", "account": "7"}}
        ),
        customer={"reference": "user-1", "contacts": [{"email": "a@b.c"}]},
        participant_details={"sender": {"full_name": "Хелен Адамс"}},
        payment_options={"return_url": "https://shop.example/back", "recurrent": False},
        metadata={"order": 123, "flags": [True, None]},
        has_metadata=True,
        extra={"custom_routing": {"tags": []}},
    )
    base = PaymentSession(
        id=new_id(IdPrefix.SESSION),
        project_id=project_id,
        api_version=ApiVersion.V2,
        status=SessionStatus.CREATED,
        created_at=T0,
        updated_at=T0,
        draft=draft,
    )
    return replace(base, **changes)


def idem(
    project_id: str, key: str = "key-1", *, owner: str = "owner-a", **kw: Any
) -> IdempotencyRecord:
    """A running idempotency record leased for a minute, kept a day."""
    values: dict[str, Any] = {
        "project_id": project_id,
        "key": key,
        "fingerprint": "fp-1",
        "state": IdempotencyState.RUNNING,
        "owner": owner,
        "lease_until": T0 + timedelta(seconds=60),
        "expires_at": T0 + timedelta(hours=24),
    }
    values.update(kw)
    return IdempotencyRecord(**values)


def claim_of(record: IdempotencyRecord) -> IdempotencyClaim:
    """The claim a request holds after claiming ``record``."""
    return IdempotencyClaim(record.project_id, record.key, record.owner)


class StoreContract:
    """What every store does; subclasses supply ``store`` and ``outbox_rows``."""

    async def outbox_rows(self, store: Any, project_id: str) -> list[OutboxRow]:
        """The project's outbox rows, oldest first."""
        raise NotImplementedError

    # --- projects ---------------------------------------------------------------------------

    async def test_added_project_reads_back_unchanged(self, store):
        """A project round-trips with its name, keys in order, webhook URL, settings, time."""
        p = project(keys=("pem-a", "pem-b"), webhook_url="http://127.0.0.1:9000/hook")
        await store.add_project(p)
        assert await store.get_project(p.id) == p

    async def test_unknown_project_is_none(self, store):
        """Looking up an id that was never added gives None."""
        assert await store.get_project("pj_missing") is None

    async def test_projects_are_listed_oldest_first(self, store):
        """``list_projects`` orders by creation time."""
        late = await add_project(store, created_at=T0 + timedelta(seconds=5), name="late")
        early = await add_project(store, created_at=T0, name="early")
        assert [p.id for p in await store.list_projects()] == [early.id, late.id]

    async def test_webhook_url_is_set_and_cleared(self, store):
        """``set_webhook_url`` sets, clears, and reports a missing project as False."""
        p = await add_project(store)
        assert await store.set_webhook_url(p.id, "https://shop.example/hook") is True
        assert (await store.get_project(p.id)).webhook_url == "https://shop.example/hook"
        assert await store.set_webhook_url(p.id, None) is True
        assert (await store.get_project(p.id)).webhook_url is None
        assert await store.set_webhook_url("pj_missing", "https://x.example") is False

    async def test_project_settings_are_updated(self, store):
        """``set_project_settings`` stores the new switches."""
        p = await add_project(store)
        changed = replace(p, settings=ProjectSettings(two_step_capture=True))
        await store.set_project_settings(changed)
        assert (await store.get_project(p.id)).settings == ProjectSettings(two_step_capture=True)

    # --- key rotation -----------------------------------------------------------------------

    async def test_second_key_joins_the_first(self, store):
        """During rotation both the old and the new key are active, oldest first."""
        p = await add_project(store, keys=("pem-1",))
        await store.add_public_key(p.id, "pem-2", T0 + timedelta(seconds=1))
        assert (await store.get_project(p.id)).public_keys == ("pem-1", "pem-2")

    async def test_third_key_retires_the_oldest(self, store):
        """Adding a third key keeps only the newest two."""
        p = await add_project(store, keys=("pem-1",))
        await store.add_public_key(p.id, "pem-2", T0 + timedelta(seconds=1))
        await store.add_public_key(p.id, "pem-3", T0 + timedelta(seconds=2))
        assert (await store.get_project(p.id)).public_keys == ("pem-2", "pem-3")
        [listed] = [x for x in await store.list_projects() if x.id == p.id]
        assert listed.public_keys == ("pem-2", "pem-3")

    # --- sessions ---------------------------------------------------------------------------

    async def test_inserted_session_reads_back_unchanged(self, store):
        """A session with every kind of draft data round-trips exactly (times to the µs)."""
        p = await add_project(store)
        s = session(p.id)
        async with store.unit_of_work() as uow:
            uow.add_session(s)
            await uow.commit()
        assert await store.get_session(p.id, s.id) == s

    async def test_other_projects_session_is_not_found(self, store):
        """``get_session`` with another project's id answers None, like a missing id."""
        owner = await add_project(store)
        other = await add_project(store)
        s = session(owner.id)
        async with store.unit_of_work() as uow:
            uow.add_session(s)
            await uow.commit()
        assert await store.get_session(other.id, s.id) is None
        assert await store.get_session(owner.id, "ps_missing") is None

    async def test_uncommitted_unit_of_work_writes_nothing(self, store):
        """Leaving the unit of work without ``commit`` discards its writes."""
        p = await add_project(store)
        s = session(p.id)
        async with store.unit_of_work() as uow:
            uow.add_session(s)
        assert await store.get_session(p.id, s.id) is None
        assert await store.count_sessions(p.id) == 0

    async def test_update_bumps_the_version(self, store):
        """An update written against the loaded version succeeds and increments it."""
        p = await add_project(store)
        s = session(p.id)
        async with store.unit_of_work() as uow:
            uow.add_session(s)
            await uow.commit()
        loaded = await store.get_session(p.id, s.id)
        moved = loaded.transition_to(SessionStatus.IN_PROGRESS, T0 + timedelta(seconds=1))
        async with store.unit_of_work() as uow:
            uow.update_session(replace(moved, deadline_at=T0 + timedelta(hours=1)))
            await uow.commit()
        again = await store.get_session(p.id, s.id)
        assert again.version == loaded.version + 1
        assert again.status is SessionStatus.IN_PROGRESS
        assert again.updated_at == T0 + timedelta(seconds=1)
        assert again.deadline_at == T0 + timedelta(hours=1)

    async def test_stale_update_raises_concurrent_update(self, store):
        """The second writer of the same loaded version loses with ``ConcurrentUpdate``."""
        p = await add_project(store)
        s = session(p.id)
        async with store.unit_of_work() as uow:
            uow.add_session(s)
            await uow.commit()
        loaded = await store.get_session(p.id, s.id)
        first = loaded.transition_to(SessionStatus.IN_PROGRESS, T0)
        second = loaded.transition_to(SessionStatus.CANCELLED, T0)
        async with store.unit_of_work() as uow:
            uow.update_session(first)
            await uow.commit()
        async with store.unit_of_work() as uow:
            uow.update_session(second)
            with pytest.raises(ConcurrentUpdate):
                await uow.commit()
        assert (await store.get_session(p.id, s.id)).status is SessionStatus.IN_PROGRESS

    async def test_failed_commit_writes_nothing_at_all(self, store):
        """A version conflict rolls back every other write of the same unit of work."""
        p = await add_project(store)
        s = session(p.id)
        async with store.unit_of_work() as uow:
            uow.add_session(s)
            await uow.commit()
        stale = replace(s, version=s.version + 7)
        fresh = session(p.id)
        entry = VaultEntry(p.id, card("f" * 64), b"\x01cipher", T0)
        async with store.unit_of_work() as uow:
            uow.add_session(fresh)
            uow.add_vault_entry(entry)
            uow.add_outbox(_message(p.id, fresh.id))
            uow.update_session(stale)
            with pytest.raises(ConcurrentUpdate):
                await uow.commit()
        assert await store.get_session(p.id, fresh.id) is None
        assert await store.get_vault_entry(p.id, "f" * 64) is None
        assert await self.outbox_rows(store, p.id) == []
        assert await store.count_sessions(p.id) == 1

    async def test_sessions_are_counted_per_project(self, store):
        """``count_sessions`` counts one project's sessions, or all."""
        a = await add_project(store)
        b = await add_project(store)
        before = await store.count_sessions()
        async with store.unit_of_work() as uow:
            uow.add_session(session(a.id))
            uow.add_session(session(a.id))
            uow.add_session(session(b.id))
            await uow.commit()
        assert await store.count_sessions(a.id) == 2
        assert await store.count_sessions(b.id) == 1
        assert await store.count_sessions() == before + 3

    # --- vault ------------------------------------------------------------------------------

    async def test_vault_entry_reads_back_for_its_project_only(self, store):
        """A vaulted card is found by project and hash; another project does not see it."""
        p = await add_project(store)
        other = await add_project(store)
        entry = VaultEntry(p.id, card("a" * 64), b"\x00\xffcipher", T0)
        async with store.unit_of_work() as uow:
            uow.add_vault_entry(entry)
            await uow.commit()
        assert await store.get_vault_entry(p.id, "a" * 64) == entry
        assert await store.get_vault_entry(other.id, "a" * 64) is None

    async def test_vaulting_the_same_card_again_without_expiry_keeps_the_stored_data(self, store):
        """A second sighting without an expiry is a no-op, not an error."""
        p = await add_project(store)
        first = VaultEntry(p.id, card("b" * 64), b"first", T0)
        bare = replace(card("b" * 64), expiration_month=None, expiration_year=None)
        second = VaultEntry(p.id, bare, b"second", T0 + timedelta(seconds=1))
        for entry in (first, second):
            async with store.unit_of_work() as uow:
                uow.add_vault_entry(entry)
                await uow.commit()
        assert await store.get_vault_entry(p.id, "b" * 64) == first

    async def test_vaulting_the_same_card_again_with_expiry_updates_it(self, store):
        """A card first seen without an expiry gets the one a later sighting brings."""
        p = await add_project(store)
        bare = replace(card("c" * 64), expiration_month=None, expiration_year=None)
        first = VaultEntry(p.id, bare, b"first", T0)
        second = VaultEntry(p.id, card("c" * 64), b"second", T0 + timedelta(seconds=1))
        for entry in (first, second):
            async with store.unit_of_work() as uow:
                uow.add_vault_entry(entry)
                await uow.commit()
        assert await store.get_vault_entry(p.id, "c" * 64) == replace(second, created_at=T0)

    # --- outbox -----------------------------------------------------------------------------

    async def test_outbox_rows_commit_with_the_unit_of_work(self, store):
        """Queued webhooks are stored with their exact bytes and signature; no URL → skipped."""
        p = await add_project(store)
        s = session(p.id)
        deliver = _message(p.id, s.id, body=b'{"type":"payment_finished","n":"\xd0\x96"}')
        skip = _message(p.id, s.id, deliver=False, event_type="ready_to_confirm")
        async with store.unit_of_work() as uow:
            uow.add_session(s)
            uow.add_outbox(deliver)
            uow.add_outbox(skip)
            assert await self.outbox_rows(store, p.id) == []
            await uow.commit()
        assert await self.outbox_rows(store, p.id) == [
            ("payment_finished", s.id, deliver.body, "c2ln", "pending"),
            ("ready_to_confirm", s.id, skip.body, "c2ln", "skipped"),
        ]


def _message(
    project_id: str,
    session_id: str,
    *,
    body: bytes = b'{"type":"payment_finished"}',
    deliver: bool = True,
    event_type: str = "payment_finished",
) -> OutboxMessage:
    return OutboxMessage(
        project_id=project_id,
        session_id=session_id,
        event_type=event_type,
        body=body,
        signature="c2ln",
        created_at=T0,
        deliver=deliver,
    )
