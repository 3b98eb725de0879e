"""The ports a use case may call, bundled once by ``kassa.bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kassa.service.idempotency import IdempotencyPolicy

if TYPE_CHECKING:
    from kassa.service.ports import Clock, Signer, Store, Vault


@dataclass(frozen=True, slots=True)
class Deps:
    """Everything the handlers need; real or fake parts are chosen by the caller."""

    store: Store
    clock: Clock
    vault: Vault
    signer: Signer
    idempotency: IdempotencyPolicy = field(default_factory=IdempotencyPolicy)
