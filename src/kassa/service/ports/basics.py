"""Small ports: the clock, the server's signer, request-signature checks, the card vault."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from kassa.domain.instrument import CardRef


class Clock(Protocol):
    """Source of the current time (UTC, aware)."""

    def now(self) -> datetime:
        """Return the current time."""
        ...


class Signer(Protocol):
    """Signs outgoing bytes with kassa's server key."""

    def sign(self, body: bytes) -> str:
        """Return the base64 RSA-SHA256 signature of ``body``."""
        ...


@dataclass(frozen=True, slots=True)
class VaultEntry:
    """An encrypted card number stored under its keyed hash, scoped to one project."""

    project_id: str
    card: CardRef
    ciphertext: bytes
    created_at: datetime


class Vault(Protocol):
    """Encrypts card numbers and derives their keyed ``number_hash``."""

    def number_hash(self, project_id: str, pan: str) -> str:
        """Return the keyed hash of a card number (hex)."""
        ...

    def encrypt(self, pan: str) -> bytes:
        """Return the encrypted card number."""
        ...

    def decrypt(self, ciphertext: bytes) -> str:
        """Return the card number from its ciphertext."""
        ...


class Verifier(Protocol):
    """Checks a partner's ``X-PARTNER-SIGN`` over the raw body against its public keys."""

    def verify_any(self, body: bytes, signature: str, public_pems: Iterable[str]) -> bool:
        """True if ``signature`` verifies ``body`` under any of the PEM keys (rotation)."""
        ...

    def check_public_key(self, pem: str) -> str:
        """The PEM if it is an acceptable partner key (RSA, at least 2048 bits).

        Raises ``InvalidRequest`` saying why not.
        """
        ...


class Probe(Protocol):
    """A seam at each step of an operation, for fault injection; does nothing in production.

    Steps: ``intent:decided`` (before the intent commits), ``intent:committed``,
    ``call:before``, ``call:after`` (the processor answered, nothing recorded yet),
    ``record:decided``, ``record:committed``, and ``conflict`` (a version check lost and the
    transaction is about to be retried).
    """

    async def at(self, step: str, session_id: str) -> None:
        """Called when an operation of ``session_id`` reaches ``step``."""
        ...


class NoProbe:
    """The production probe: every step passes straight through."""

    async def at(self, step: str, session_id: str) -> None:
        """Nothing."""
        del step, session_id
