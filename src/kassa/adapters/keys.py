"""RSA-SHA256 (PKCS#1 v1.5) signatures over raw bytes; project keys cached, two in rotation."""

from __future__ import annotations

import base64
import binascii
import functools
import os
import secrets
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kassa.domain.errors import InvalidRequest

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

MIN_KEY_BITS = 2048
_SIGNATURE_MAX_CHARS = 2048  # 8192-bit keys give 1368 base64 chars; anything longer is junk


class KeyError_(ValueError):  # noqa: N801 - avoid shadowing the builtin KeyError
    """A PEM could not be loaded or is not an acceptable RSA key."""


def sign(body: bytes, private_key: rsa.RSAPrivateKey) -> str:
    """Return the base64 RSA-SHA256 signature of ``body``."""
    raw = private_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


@functools.lru_cache(maxsize=4096)
def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """Parse a ``BEGIN PUBLIC KEY`` (or PKCS#1 ``BEGIN RSA PUBLIC KEY``) PEM; cached."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        msg = f"not a PEM public key: {exc}"
        raise KeyError_(msg) from None
    if not isinstance(key, rsa.RSAPublicKey):
        msg = "public key must be RSA"
        raise KeyError_(msg)
    if key.key_size < MIN_KEY_BITS:
        msg = f"RSA key must have at least {MIN_KEY_BITS} bits, got {key.key_size}"
        raise KeyError_(msg)
    return key


def load_private_key(pem: bytes, password: bytes | None = None) -> rsa.RSAPrivateKey:
    """Parse a PKCS#1 or PKCS#8 RSA private key PEM."""
    key = serialization.load_pem_private_key(pem, password=password)
    if not isinstance(key, rsa.RSAPrivateKey):
        msg = "private key must be RSA"
        raise KeyError_(msg)
    return key


def decode_signature(signature: str) -> bytes | None:
    """Strict base64 decode of a header value; None if garbled."""
    if not signature or len(signature) > _SIGNATURE_MAX_CHARS:
        return None
    try:
        return base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def verify_any(body: bytes, signature: str, public_pems: Iterable[str]) -> bool:
    """True if ``signature`` verifies ``body`` under any of the keys (rotation)."""
    raw = decode_signature(signature)
    if raw is None:
        return False
    for pem in public_pems:
        try:
            load_public_key(pem).verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, KeyError_):
            continue
        return True
    return False


def generate_private_key() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=MIN_KEY_BITS)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    """PKCS#8 PEM without encryption (files are written 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    """``BEGIN PUBLIC KEY`` PEM of a key."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode("ascii")


def write_secret(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _beside(path: Path) -> Path:
    """A hidden temporary name in ``path``'s folder, this process's own."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")


def create_secret_once(path: Path, data: bytes) -> bytes:
    """Make ``path`` hold ``data`` unless another process got there first; what it holds.

    Several processes start at once on a fresh data dir (``kassa serve --workers N`` and a
    ``kassa worker``): each would generate its own server or vault key, the last write would
    win on disk while the others kept signing (or encrypting) with a key nobody can check.
    The secret is written whole to a private temporary file and hard-linked into place, which
    fails if the name exists: exactly one process's key is ever at ``path``, never a partial
    file, and every loser reads the winner's.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = _beside(path)
    write_secret(temp, data)
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        temp.unlink()
    return path.read_bytes()


def _publish_public(public_path: Path, pem: str) -> None:
    """Write the public half atomically (a reader never sees a partial file)."""
    temp = _beside(public_path)
    temp.write_text(pem, encoding="ascii")
    temp.replace(public_path)


def write_key_pair(private_path: Path, public_path: Path) -> rsa.RSAPrivateKey:
    """Generate an RSA-2048 pair and write both PEM files."""
    key = generate_private_key()
    write_secret(private_path, private_pem(key))
    public_path.write_text(public_pem(key), encoding="ascii")
    return key


class ServerKey:
    """kassa's own key pair: signs webhooks. Created on first use if absent."""

    def __init__(self, private_path: Path, *, create: bool = True) -> None:
        """Load the key at ``private_path``; generate it there if missing and allowed."""
        if private_path.exists():
            pem = private_path.read_bytes()
        elif create:  # first start: one process's key wins, the others load it
            pem = create_secret_once(private_path, private_pem(generate_private_key()))
        else:
            msg = f"server key {private_path} does not exist"
            raise KeyError_(msg)
        self._key = load_private_key(pem)
        self.private_path = private_path
        self.public_path = private_path.with_name("server_public.pem")
        self.public_pem = public_pem(self._key)
        if not self.public_path.exists() or self.public_path.read_text() != self.public_pem:
            _publish_public(self.public_path, self.public_pem)

    def sign(self, body: bytes) -> str:
        """Return the base64 signature of ``body`` with the server key."""
        return sign(body, self._key)


class RsaVerifier:
    """``service.ports.Verifier``: RSA-SHA256 over the raw body, parsed keys cached."""

    def verify_any(self, body: bytes, signature: str, public_pems: Iterable[str]) -> bool:
        """True if ``signature`` verifies ``body`` under any of the keys."""
        return verify_any(body, signature, public_pems)

    def check_public_key(self, pem: str) -> str:
        """The PEM if it loads as an RSA key of at least 2048 bits, else ``InvalidRequest``."""
        try:
            load_public_key(pem)
        except KeyError_ as exc:
            raise InvalidRequest(f"public key: {exc}") from None
        return pem
