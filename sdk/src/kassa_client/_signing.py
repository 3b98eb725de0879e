"""RSA keys and ``X-PARTNER-SIGN``: RSASSA-PKCS1-v1_5 with SHA-256 over the exact body bytes.

Keys are accepted as PEM bytes (or a PEM string), a filesystem path, or an already loaded
``cryptography`` key. Signatures are standard base64 (``+/``, ``=`` padding, no line breaks).
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import TypeAlias

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PrivateKeyInput: TypeAlias = bytes | str | os.PathLike[str] | rsa.RSAPrivateKey
PublicKeyInput: TypeAlias = bytes | str | os.PathLike[str] | rsa.RSAPublicKey

_PEM_START = b"-----BEGIN"
MAX_SIGNATURE_LENGTH = 2048  # base64 characters; RSA-8192 needs 1,368


def _pem_bytes(value: bytes | str | os.PathLike[str], what: str) -> bytes:
    """PEM data from bytes, a PEM string or a path to a PEM file."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str) and value.lstrip().startswith(_PEM_START.decode()):
        return value.encode("ascii")
    path = Path(value)
    try:
        return path.read_bytes()
    except OSError as exc:
        msg = f"{what}: cannot read {path}: {exc.strerror or exc}"
        raise ValueError(msg) from None


def load_private_key(key: PrivateKeyInput, password: bytes | None = None) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM bytes or string (PKCS#1 or PKCS#8), a path, or a key object."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key
    data = _pem_bytes(key, "private_key")
    try:
        loaded = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as exc:
        msg = f"private_key: not a PEM private key ({exc})"
        raise ValueError(msg) from None
    if not isinstance(loaded, rsa.RSAPrivateKey):
        msg = f"private_key: must be an RSA key, got {type(loaded).__name__}"
        raise TypeError(msg)
    return loaded


def load_public_key(key: PublicKeyInput) -> rsa.RSAPublicKey:
    """An RSA public key from PEM (``BEGIN PUBLIC KEY`` or PKCS#1), a path, or a key object."""
    if isinstance(key, rsa.RSAPublicKey):
        return key
    data = _pem_bytes(key, "public_key")
    try:
        loaded = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        msg = f"public_key: not a PEM public key ({exc})"
        raise ValueError(msg) from None
    if not isinstance(loaded, rsa.RSAPublicKey):
        msg = f"public_key: must be an RSA key, got {type(loaded).__name__}"
        raise TypeError(msg)
    return loaded


def sign(body: bytes, key: rsa.RSAPrivateKey) -> str:
    """The ``X-PARTNER-SIGN`` value of exactly these ``body`` bytes."""
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def verify(body: bytes, signature: str, key: rsa.RSAPublicKey) -> bool:
    """Whether ``signature`` (strict base64) signs exactly ``body`` with ``key``'s private half."""
    if not signature or len(signature) > MAX_SIGNATURE_LENGTH:
        return False
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        key.verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
