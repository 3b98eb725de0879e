"""Card vault crypto: AES-256-GCM for the number, keyed HMAC-SHA256 for ``number_hash``."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kassa.adapters.keys import create_secret_once

if TYPE_CHECKING:
    from pathlib import Path

_KEY_BYTES = 32
_NONCE_BYTES = 12


class VaultKeyError(ValueError):
    """The vault key file is missing or malformed."""


class AesVault:
    """Encrypts card numbers; the master key never leaves this object."""

    def __init__(self, master_key: bytes) -> None:
        """Derive separate encryption and hashing keys from ``master_key``."""
        if len(master_key) != _KEY_BYTES:
            msg = f"vault key must be {_KEY_BYTES} bytes"
            raise VaultKeyError(msg)
        self._aead = AESGCM(hmac.digest(master_key, b"kassa-vault-encrypt", hashlib.sha256))
        self._hash_key = hmac.digest(master_key, b"kassa-vault-hash", hashlib.sha256)
        self._master = master_key

    @classmethod
    def from_file(cls, path: Path, *, create: bool) -> AesVault:
        """Load the key file; create a random one if missing and ``create``."""
        if path.exists():
            return cls(path.read_bytes())
        if not create:
            msg = f"vault key {path} does not exist (KASSA_VAULT_KEY_PATH)"
            raise VaultKeyError(msg)
        # processes starting at once on a fresh data dir all end up with the same key
        return cls(create_secret_once(path, secrets.token_bytes(_KEY_BYTES)))

    def derive_key(self, purpose: bytes) -> bytes:
        """A 32-byte key for another purpose (widget form tokens), independent of the others."""
        return hmac.digest(self._master, b"kassa-derived:" + purpose, hashlib.sha256)

    def number_hash(self, project_id: str, pan: str) -> str:
        """Keyed hash of the card number within one project (64 hex chars)."""
        message = f"{project_id}:{pan}".encode("ascii")
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()

    def encrypt(self, pan: str) -> bytes:
        """Nonce followed by the AES-GCM ciphertext of the number."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, pan.encode("ascii"), b"pan")

    def decrypt(self, ciphertext: bytes) -> str:
        """The card number back from ``encrypt``'s output."""
        nonce, body = ciphertext[:_NONCE_BYTES], ciphertext[_NONCE_BYTES:]
        return self._aead.decrypt(nonce, body, b"pan").decode("ascii")
