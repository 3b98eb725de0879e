"""Ports: what the use cases need from the outside world, as Protocols, in one package.

Every port has an in-memory or fixed fake in ``kassa.testing``; the real adapters live in
``kassa.adapters`` and are chosen by ``kassa.bootstrap``.

- ``basics``: Clock, Signer, Verifier, Vault (+ VaultEntry), Probe (fault-injection seam);
- ``store``: Store, UnitOfWork, OutboxMessage, idempotency records;
- ``processor``: Processor and its request/answer types;
- ``delivery``: the outbox as a delivery queue (DeliveryStore) and the WebhookSender.
"""

from kassa.service.ports.basics import (
    Clock,
    NoProbe,
    Probe,
    Signer,
    Vault,
    VaultEntry,
    Verifier,
)
from kassa.service.ports.processor import (
    Authorization,
    AuthorizationRequest,
    Decision,
    FpsBank,
    Outcome,
    PayeeKind,
    PayoutAnswer,
    PayoutRequest,
    Processor,
    ProcessorRecord,
    RefundAnswer,
)
from kassa.service.ports.store import (
    IdempotencyClaim,
    IdempotencyRecord,
    IdempotencyState,
    OutboxMessage,
    Store,
    UnitOfWork,
)

__all__ = [
    "Authorization",
    "AuthorizationRequest",
    "Clock",
    "Decision",
    "FpsBank",
    "IdempotencyClaim",
    "IdempotencyRecord",
    "IdempotencyState",
    "NoProbe",
    "OutboxMessage",
    "Outcome",
    "PayeeKind",
    "PayoutAnswer",
    "PayoutRequest",
    "Probe",
    "Processor",
    "ProcessorRecord",
    "RefundAnswer",
    "Signer",
    "Store",
    "UnitOfWork",
    "Vault",
    "VaultEntry",
    "Verifier",
]
