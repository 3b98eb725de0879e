"""The idempotency half of the repository contract: claim, takeover, release, complete.

Run with ``StoreContract`` against every store (see ``store_contract.py``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from kassa.domain.errors import IdempotencyKeyAlreadyExists
from kassa.service.ports import IdempotencyClaim, IdempotencyState
from store_contract import T0, add_project, claim_of, idem, session


class IdempotencyContract:
    """Idempotency keys in the store; subclasses supply the ``store`` fixture."""

    async def test_first_claim_owns_the_key(self, store):
        """Claiming a new key returns None: the caller owns it."""
        p = await add_project(store)
        assert await store.claim_idempotency(idem(p.id), T0) is None

    async def test_second_claim_sees_the_running_record(self, store):
        """A live running key is returned to a second claimant, with its fingerprint."""
        p = await add_project(store)
        await store.claim_idempotency(idem(p.id), T0)
        found = await store.claim_idempotency(idem(p.id, owner="owner-b", fingerprint="fp-2"), T0)
        assert found is not None
        assert found.state is IdempotencyState.RUNNING
        assert found.fingerprint == "fp-1"
        assert found.owner == "owner-a"

    async def test_completed_key_returns_the_stored_response(self, store):
        """After ``complete_idempotency`` commits, a claim sees state done and the exact bytes."""
        p = await add_project(store)
        record = idem(p.id)
        await store.claim_idempotency(record, T0)
        body = b'{"status":"ok","session":{"id":"ps_1","x":"\\u0416\xd0\x96"}}'
        async with store.unit_of_work() as uow:
            uow.complete_idempotency(claim_of(record), 200, body)
            await uow.commit()
        found = await store.claim_idempotency(idem(p.id, owner="owner-b"), T0)
        assert found is not None
        assert found.state is IdempotencyState.DONE
        assert (found.response_status, found.response_body) == (200, body)

    async def test_released_key_can_be_claimed_again(self, store):
        """``release_idempotency`` forgets a running key so the client may retry."""
        p = await add_project(store)
        record = idem(p.id)
        await store.claim_idempotency(record, T0)
        await store.release_idempotency(claim_of(record))
        assert await store.claim_idempotency(idem(p.id, owner="owner-b"), T0) is None

    async def test_release_by_another_owner_is_ignored(self, store):
        """Only the owner of a running key can release it."""
        p = await add_project(store)
        await store.claim_idempotency(idem(p.id), T0)
        await store.release_idempotency(IdempotencyClaim(p.id, "key-1", "intruder"))
        found = await store.claim_idempotency(idem(p.id, owner="owner-b"), T0)
        assert found is not None
        assert found.owner == "owner-a"

    async def test_completed_key_is_not_released(self, store):
        """A done key survives ``release_idempotency``: its response stays replayable."""
        p = await add_project(store)
        record = idem(p.id)
        await store.claim_idempotency(record, T0)
        async with store.unit_of_work() as uow:
            uow.complete_idempotency(claim_of(record), 200, b"{}")
            await uow.commit()
        await store.release_idempotency(claim_of(record))
        found = await store.claim_idempotency(idem(p.id, owner="owner-b"), T0)
        assert found is not None
        assert found.state is IdempotencyState.DONE

    async def test_abandoned_key_is_taken_over_after_its_lease(self, store):
        """A running key whose lease has passed belongs to the next claimant."""
        p = await add_project(store)
        old = idem(p.id)
        await store.claim_idempotency(old, T0)
        later = T0 + timedelta(seconds=61)
        new = idem(p.id, owner="owner-b", lease_until=later + timedelta(seconds=60))
        assert await store.claim_idempotency(new, later) is None
        found = await store.claim_idempotency(idem(p.id, owner="owner-c"), later)
        assert found is not None
        assert found.owner == "owner-b"

    async def test_lost_claim_cannot_complete(self, store):
        """The first owner, taken over, fails to complete; its other writes roll back too."""
        p = await add_project(store)
        old = idem(p.id)
        await store.claim_idempotency(old, T0)
        later = T0 + timedelta(seconds=61)
        await store.claim_idempotency(
            idem(p.id, owner="owner-b", lease_until=later + timedelta(seconds=60)), later
        )
        s = session(p.id)
        async with store.unit_of_work() as uow:
            uow.add_session(s)
            uow.complete_idempotency(claim_of(old), 200, b"{}")
            with pytest.raises(IdempotencyKeyAlreadyExists):
                await uow.commit()
        assert await store.get_session(p.id, s.id) is None

    async def test_done_key_is_kept_until_it_expires(self, store):
        """A done key is replayed until ``expires_at``, then a new request may claim it."""
        p = await add_project(store)
        record = idem(p.id)
        await store.claim_idempotency(record, T0)
        async with store.unit_of_work() as uow:
            uow.complete_idempotency(claim_of(record), 200, b"{}")
            await uow.commit()
        hour_later = T0 + timedelta(hours=1)
        assert await store.claim_idempotency(idem(p.id, owner="b"), hour_later) is not None
        next_day = T0 + timedelta(hours=25)
        fresh = idem(
            p.id,
            owner="c",
            fingerprint="fp-9",
            lease_until=next_day + timedelta(seconds=60),
            expires_at=next_day + timedelta(hours=24),
        )
        assert await store.claim_idempotency(fresh, next_day) is None
        found = await store.claim_idempotency(idem(p.id, owner="d"), next_day)
        assert found is not None
        assert (found.fingerprint, found.state) == ("fp-9", IdempotencyState.RUNNING)

    async def test_keys_are_scoped_per_project(self, store):
        """The same key string in two projects is two independent keys."""
        a = await add_project(store)
        b = await add_project(store)
        assert await store.claim_idempotency(idem(a.id), T0) is None
        assert await store.claim_idempotency(idem(b.id), T0) is None

    async def test_a_bound_key_is_never_taken_over_and_completes_later(self, store):
        """Bound to a pending operation: no take-over past its lease, no release; completes."""
        p = await add_project(store)
        record = idem(p.id)
        await store.claim_idempotency(record, T0)
        claim = claim_of(record)
        recover_at = T0 + timedelta(seconds=30)
        async with store.unit_of_work() as uow:
            uow.add_session(session(p.id))
            uow.bind_idempotency(claim, recover_at)
            await uow.commit()
        late = T0 + timedelta(minutes=10)  # far past the 60 s lease
        found = await store.claim_idempotency(idem(p.id, owner="owner-b"), late)
        assert found is not None
        assert (found.state, found.owner, found.lease_until) == (
            IdempotencyState.BOUND,
            "owner-a",
            recover_at,
        )
        await store.release_idempotency(claim)  # a failing request cannot free a bound key
        assert (await store.claim_idempotency(idem(p.id, owner="owner-c"), late)) is not None
        async with store.unit_of_work() as uow:
            uow.complete_idempotency(claim, 200, b"final")
            await uow.commit()
        done = await store.claim_idempotency(idem(p.id, owner="owner-d"), late)
        assert done is not None
        assert (done.state, done.response_body) == (IdempotencyState.DONE, b"final")

    async def test_binding_a_lost_claim_fails_the_commit(self, store):
        """Binding a key another request took over rolls the whole unit of work back."""
        p = await add_project(store)
        record = idem(p.id)
        await store.claim_idempotency(record, T0)
        await store.release_idempotency(claim_of(record))
        created = session(p.id)
        async with store.unit_of_work() as uow:
            uow.add_session(created)
            uow.bind_idempotency(claim_of(record), T0)
            with pytest.raises(IdempotencyKeyAlreadyExists):
                await uow.commit()
        assert await store.get_session(p.id, created.id) is None
