"""Fakes for the small ports: clock, signer, vault, processor."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from kassa.adapters.processor.sandbox import SandboxProcessor

if TYPE_CHECKING:
    from kassa.domain.money import Money
    from kassa.domain.refund import TransactionInfo
    from kassa.service.ports import (
        Authorization,
        AuthorizationRequest,
        PayoutAnswer,
        PayoutRequest,
        RefundAnswer,
    )


EPOCH_OF_TESTS = datetime(2024, 5, 27, 2, 3, tzinfo=UTC)


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = EPOCH_OF_TESTS) -> None:
        """Stand still at ``start`` (aware UTC)."""
        self._now = start

    def now(self) -> datetime:
        """The frozen time."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta``; return the new time."""
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``."""
        self._now = moment


class FakeSigner:
    """Signs with a keyed SHA-256 instead of RSA (fast, deterministic); remembers the bodies."""

    def __init__(self) -> None:
        """Nothing signed yet."""
        self.signed: list[bytes] = []

    def sign(self, body: bytes) -> str:
        """Base64 of SHA-256 over a fixed prefix and ``body``."""
        self.signed.append(body)
        return base64.b64encode(hashlib.sha256(b"fake-signer:" + body).digest()).decode("ascii")

    def verify(self, body: bytes, signature: str) -> bool:
        """True if ``signature`` is what ``sign`` gives for ``body``."""
        expected = base64.b64encode(hashlib.sha256(b"fake-signer:" + body).digest())
        return hmac.compare_digest(expected, signature.encode("ascii", "replace"))


class FakeVault:
    """Deterministic stand-in for the AES vault; the ciphertext never holds the clear digits."""

    _MASK = 0x5A

    def number_hash(self, project_id: str, pan: str) -> str:
        """SHA-256 of project and number (hex), scoped per project like the real vault."""
        return hashlib.sha256(f"fake-vault:{project_id}:{pan}".encode()).hexdigest()

    def encrypt(self, pan: str) -> bytes:
        """Every byte XOR-ed with a constant: reversible, and no digit survives."""
        return bytes(b ^ self._MASK for b in pan.encode("ascii"))

    def decrypt(self, ciphertext: bytes) -> str:
        """Inverse of ``encrypt``."""
        return bytes(b ^ self._MASK for b in ciphertext).decode("ascii")


class FakeProcessor(SandboxProcessor):
    """The sandbox processor on a frozen clock and a memory journal; remembers every call.

    ``calls`` holds ``(operation, operation_id, minor units)`` of every call, repeats included
    (the journal keeps only the first of each key); card numbers are not kept.
    """

    def __init__(self, clock: FrozenClock | None = None) -> None:
        """Decide expiry against ``clock`` (default: a fresh frozen clock)."""
        self.clock = clock or FrozenClock()
        super().__init__(self.clock)
        self.calls: list[tuple[str, str, int]] = []

    async def authorize(self, key: str, request: AuthorizationRequest) -> Authorization:
        """Record the call; approve, challenge or decline like the sandbox."""
        self.calls.append(("authorize", request.operation_id, request.amount.minor))
        return await super().authorize(key, request)

    async def capture(self, key: str, operation_id: str, amount: Money) -> None:
        """Record a capture."""
        self.calls.append(("capture", operation_id, amount.minor))
        await super().capture(key, operation_id, amount)

    async def release(self, key: str, operation_id: str, amount: Money) -> None:
        """Record a release."""
        self.calls.append(("release", operation_id, amount.minor))
        await super().release(key, operation_id, amount)

    async def refund(self, key: str, operation_id: str, amount: Money) -> RefundAnswer:
        """Record a refund; the sandbox's answer."""
        self.calls.append(("refund", operation_id, amount.minor))
        return await super().refund(key, operation_id, amount)

    async def payout(self, key: str, request: PayoutRequest) -> PayoutAnswer:
        """Record a payout."""
        self.calls.append(("payout", request.operation_id, request.amount.minor))
        return await super().payout(key, request)

    async def verify_fps(self, key: str, operation_id: str, phone: str, bank_id: str) -> bool:
        """Record an FPS verification."""
        self.calls.append(("verify", operation_id, 0))
        return await super().verify_fps(key, operation_id, phone, bank_id)

    async def chargeback(self, key: str, operation_id: str, amount: Money) -> TransactionInfo:
        """Record a chargeback notice."""
        self.calls.append(("chargeback", operation_id, amount.minor))
        return await super().chargeback(key, operation_id, amount)
