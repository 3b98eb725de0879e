"""Receiving webhooks: verify ``X-PARTNER-SIGN`` over the raw body, parse, drop duplicates.

```python
event = verify_and_parse(raw_body, request.headers["X-PARTNER-SIGN"], server_public_pem)
if dedup.first_time(event):
    handle(event)          # on failure call dedup.forget(event) so the retry is handled
```

Verify before parsing, over the exact bytes received: a re-serialised body no longer matches
its signature. Answer HTTP 200 to every webhook you accepted, duplicates included; any other
answer makes the server send it again later.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from enum import StrEnum
from typing import Protocol

from pydantic import ValidationError

from kassa_client._signing import PublicKeyInput, load_public_key, verify
from kassa_client.errors import SignatureError, WebhookPayloadError
from kassa_client.models._base import KassaModel
from kassa_client.models.session import PaymentSession  # noqa: TC001 - pydantic needs it


class WebhookType(StrEnum):
    """The five webhook types of the protocol."""

    READY_TO_CONFIRM = "ready_to_confirm"  # answer with confirm() or cancel()
    READY_TO_CAPTURE = "ready_to_capture"  # money held: capture() or cancel()
    ACTION_REQUIRED = "action_required"  # the payer must act (3DS, redirect)
    PAYMENT_FINISHED = "payment_finished"  # an operation reached its final status
    PAYMENT_REFUNDED = "payment_refunded"  # a refund (or chargeback) completed


class WebhookEvent(KassaModel):
    """``{"type": …, "session": …}``; other top-level fields are kept in ``model_extra``."""

    type: WebhookType
    session: PaymentSession

    def dedup_key(self) -> str:
        """What makes two deliveries the same event: session, type and every operation's status.

        A later event of the same type (a second partial refund, a new payment in the
        session) changes an operation or adds one, so it gets a new key.
        """
        session = self.session
        parts = [session.id, self.type.value, session.status.value]
        for payment in session.acquiring_payments:
            parts.append(f"{payment.id}={payment.status.value}")
            parts.extend(f"{r.id}={r.status.value}" for r in payment.refunds)
        parts.extend(f"{p.id}={p.status.value}" for p in session.payments)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def verify_and_parse(
    body: bytes, signature: str | None, server_public_key: PublicKeyInput
) -> WebhookEvent:
    """Check ``signature`` over exactly ``body`` with the server's public key, then parse it.

    Raises ``SignatureError`` for a missing, garbled, truncated or wrong signature and for a
    body changed in any byte; ``WebhookPayloadError`` for a signed body that is not a webhook
    (not JSON, an unknown ``type``, no ``session``). A key that cannot be loaded is a
    ``ValueError`` (a configuration mistake, not a bad webhook).
    """
    if not isinstance(body, bytes | bytearray):
        msg = "body: pass the raw request bytes, not parsed or decoded JSON"
        raise TypeError(msg)
    key = load_public_key(server_public_key)
    if not signature or not verify(bytes(body), signature, key):
        msg = "X-PARTNER-SIGN does not verify over the webhook body with the server public key"
        raise SignatureError(msg)
    try:
        data = json.loads(body)
    except ValueError as exc:
        msg = f"webhook body is not JSON: {exc}"
        raise WebhookPayloadError(msg) from None
    if not isinstance(data, dict):
        msg = "webhook body must be a JSON object"
        raise WebhookPayloadError(msg)
    kind = data.get("type")
    if kind not in {t.value for t in WebhookType}:
        known = ", ".join(t.value for t in WebhookType)
        msg = f"unknown webhook type {kind!r}; this client knows {known}"
        raise WebhookPayloadError(msg)
    try:
        return WebhookEvent.model_validate(data)
    except ValidationError as exc:
        msg = f"{kind} webhook does not have the protocol's shape: {str(exc).splitlines()[0]}"
        raise WebhookPayloadError(msg) from None


class DedupStore(Protocol):
    """Where a ``Deduplicator`` remembers events: in memory, Redis (``SET NX EX``), a table."""

    def add(self, key: str) -> bool:
        """Remember ``key``; True if it was new. Must be atomic across your workers."""
        ...

    def discard(self, key: str) -> None:
        """Forget ``key`` (its handling failed, so the next delivery must be handled)."""
        ...


class MemoryDedupStore:
    """A thread-safe in-process store: at most ``max_keys`` keys, each kept ``ttl`` seconds.

    Fine for one process. With several workers, use a shared store (a Redis ``SET key 1 NX
    EX ttl``, or a table with a unique key) behind the same two methods.
    """

    def __init__(self, *, max_keys: int = 100_000, ttl: float = 24 * 3600.0) -> None:
        self.max_keys = max_keys
        self.ttl = ttl
        self._keys: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: str) -> bool:
        """Remember ``key``; True if it was not remembered yet."""
        now = time.monotonic()
        with self._lock:
            while self._keys:
                oldest, at = next(iter(self._keys.items()))
                if now - at < self.ttl and len(self._keys) < self.max_keys:
                    break
                del self._keys[oldest]
            if key in self._keys:
                return False
            self._keys[key] = now
            return True

    def discard(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._keys.pop(key, None)


class Deduplicator:
    """Drops repeated deliveries of one event, keyed by ``WebhookEvent.dedup_key()``."""

    def __init__(self, store: DedupStore | None = None) -> None:
        self.store: DedupStore = store if store is not None else MemoryDedupStore()

    def first_time(self, event: WebhookEvent) -> bool:
        """True the first time ``event`` is seen (then handle it), False for a repeat."""
        return self.store.add(event.dedup_key())

    def forget(self, event: WebhookEvent) -> None:
        """Un-see ``event`` after its handling failed, so the server's retry is handled."""
        self.store.discard(event.dedup_key())
