"""In-memory fakes for every port in ``kassa.service.ports``; unit tests wire handlers with them.

``InMemoryStore`` runs the same contract tests as the SQLite and PostgreSQL stores
(``tests/store_contract.py``), so it cannot drift from them: a unit of work applies all of its
writes or none, a session update checks the version it was loaded with, an idempotency claim
can be taken over only once its lease or retention has passed.

Modules: ``fakes`` (clock, signer, vault, processor), ``memory_store``, ``memory_deliveries``.
When a port gains a method, add it here too (and to the contract tests).
"""

from __future__ import annotations

from kassa.adapters.keys import RsaVerifier
from kassa.service.deps import Deps
from kassa.service.idempotency import IdempotencyPolicy
from kassa.testing.fakes import (
    EPOCH_OF_TESTS,
    FakeProcessor,
    FakeSigner,
    FakeVault,
    FrozenClock,
)
from kassa.testing.memory_deliveries import InMemoryDeliveries, ScriptedSender
from kassa.testing.memory_store import InMemoryStore
from kassa.testing.memory_uow import InMemoryUnitOfWork, MemoryState, OutboxRecord, StoredKey

__all__ = [
    "EPOCH_OF_TESTS",
    "FakeProcessor",
    "FakeSigner",
    "FakeVault",
    "FrozenClock",
    "InMemoryDeliveries",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "MemoryState",
    "OutboxRecord",
    "ScriptedSender",
    "StoredKey",
    "fake_deps",
]


def fake_deps(
    *,
    store: InMemoryStore | None = None,
    clock: FrozenClock | None = None,
    vault: FakeVault | None = None,
    signer: FakeSigner | None = None,
    idempotency: IdempotencyPolicy | None = None,
    processor: FakeProcessor | None = None,
) -> Deps:
    """``Deps`` made of fakes; pass any part to keep a handle on it."""
    clock = clock or FrozenClock()
    return Deps(
        store=store or InMemoryStore(),
        clock=clock,
        vault=vault or FakeVault(),
        signer=signer or FakeSigner(),
        verifier=RsaVerifier(),
        idempotency=idempotency or IdempotencyPolicy(),
        processor=processor or FakeProcessor(clock),
    )
