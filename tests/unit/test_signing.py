"""X-PARTNER-SIGN: RSA PKCS#1 v1.5 + SHA-256 over the raw body, base64.

Vectors: kassa's own (``tests/keys``) and Bank 131's PHP SDK (``tests/vectors``).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kassa.adapters.keys import (
    KeyError_,
    ServerKey,
    decode_signature,
    load_private_key,
    load_public_key,
    public_pem,
    sign,
    verify_any,
)

TESTS = Path(__file__).parents[1]
KEYS = TESTS / "keys"
VECTORS = TESTS / "vectors"


def _text(path: Path) -> str:
    return path.read_text(encoding="ascii").strip()


@pytest.fixture(scope="module")
def own_private() -> rsa.RSAPrivateKey:
    """The committed kassa test partner key."""
    return load_private_key((KEYS / "test_partner_private.pem").read_bytes())


@pytest.fixture(scope="module")
def bank131_private() -> rsa.RSAPrivateKey:
    """The Bank 131 PHP SDK test key."""
    return load_private_key((VECTORS / "bank131_private.pem").read_bytes())


def test_own_vector_signs_to_the_committed_signature(own_private):
    """Signing ``test_vector.body`` with the test key gives exactly ``test_vector.sig``."""
    body = (KEYS / "test_vector.body").read_bytes()
    assert sign(body, own_private) == _text(KEYS / "test_vector.sig")


def test_own_vector_verifies_with_the_committed_public_key():
    """The committed signature verifies under ``test_partner_public.pem``."""
    body = (KEYS / "test_vector.body").read_bytes()
    pem = (KEYS / "test_partner_public.pem").read_text()
    assert verify_any(body, _text(KEYS / "test_vector.sig"), [pem])


def test_own_public_key_matches_the_private_key(own_private):
    """The committed public PEM is the public half of the committed private key."""
    pem = (KEYS / "test_partner_public.pem").read_text()
    assert public_pem(load_public_key(pem)) == public_pem(own_private)


@pytest.mark.parametrize(
    ("body", "vector"),
    [(b"{}", "bank131_empty_object.sig"), (b"[]", "bank131_empty_array.sig")],
)
def test_bank131_vector_is_reproduced(bank131_private, body, vector):
    """Bank 131's SDK key signs the 2-byte bodies ``{}`` and ``[]`` to the published strings."""
    assert sign(body, bank131_private) == _text(VECTORS / vector)


@pytest.mark.parametrize(
    ("body", "vector"),
    [(b"{}", "bank131_empty_object.sig"), (b"[]", "bank131_empty_array.sig")],
)
def test_bank131_vector_verifies_with_its_public_key(body, vector):
    """The published signatures verify under ``bank131_public.pem``."""
    pem = (VECTORS / "bank131_public.pem").read_text()
    assert verify_any(body, _text(VECTORS / vector), [pem])


def test_bank131_signatures_are_not_interchangeable():
    """The ``{}`` signature does not verify ``[]``: the exact bytes are signed."""
    pem = (VECTORS / "bank131_public.pem").read_text()
    assert not verify_any(b"[]", _text(VECTORS / "bank131_empty_object.sig"), [pem])


def test_body_changed_by_one_byte_does_not_verify():
    """Flipping one byte of the signed body breaks the signature."""
    body = bytearray((KEYS / "test_vector.body").read_bytes())
    body[20] ^= 0x01
    pem = (KEYS / "test_partner_public.pem").read_text()
    assert not verify_any(bytes(body), _text(KEYS / "test_vector.sig"), [pem])


def test_whitespace_reserialisation_does_not_verify():
    """The same JSON with one extra space is a different body: no canonicalisation."""
    body = (KEYS / "test_vector.body").read_bytes().replace(b":", b": ", 1)
    pem = (KEYS / "test_partner_public.pem").read_text()
    assert not verify_any(body, _text(KEYS / "test_vector.sig"), [pem])


def test_another_key_does_not_verify():
    """A signature by the Bank 131 key is refused for a project holding kassa's test key."""
    pem = (KEYS / "test_partner_public.pem").read_text()
    assert not verify_any(b"{}", _text(VECTORS / "bank131_empty_object.sig"), [pem])


def test_any_of_two_rotation_keys_verifies(own_private, bank131_private):
    """With two keys registered, a signature by either one verifies."""
    keys = [public_pem(own_private), public_pem(bank131_private)]
    assert verify_any(b"{}", sign(b"{}", own_private), keys)
    assert verify_any(b"{}", sign(b"{}", bank131_private), keys)
    assert not verify_any(b"{}", sign(b"{}", own_private), keys[1:])


@pytest.mark.parametrize(
    "garbled",
    ["", "not base64!", "QUJD=", "Q" * 3000, "QUJDRA==\n" * 2, "@@@@"],
)
def test_garbled_signature_is_refused(garbled):
    """Empty, non-base64, over-long or badly padded signatures never verify."""
    pem = (KEYS / "test_partner_public.pem").read_text()
    assert not verify_any(b"{}", garbled, [pem])


def test_signature_is_strict_standard_base64():
    """Decoding refuses the URL-safe alphabet and accepts the standard one with padding."""
    raw = bytes(range(250, 256)) * 3
    assert decode_signature(base64.b64encode(raw).decode()) == raw
    assert decode_signature(base64.urlsafe_b64encode(raw).decode()) is None


def test_small_rsa_keys_are_refused():
    """A public key under 2048 bits cannot be registered."""
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    with pytest.raises(KeyError_, match="2048"):
        load_public_key(public_pem(small))


def test_non_pem_public_key_is_refused():
    """Text that is not a PEM public key raises ``KeyError_``."""
    with pytest.raises(KeyError_):
        load_public_key("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")


@pytest.mark.parametrize(
    ("path", "header"),
    [
        (VECTORS / "bank131_private.pem", "-----BEGIN RSA PRIVATE KEY-----"),
        (KEYS / "test_partner_private.pem", "-----BEGIN PRIVATE KEY-----"),
    ],
)
def test_pkcs1_and_pkcs8_private_keys_load(path, header):
    """Bank 131's PKCS#1 PEM and kassa's PKCS#8 PEM both load as RSA-2048 keys."""
    text = path.read_text()
    assert text.startswith(header)
    assert load_private_key(text.encode()).key_size == 2048


def test_server_key_is_created_once_and_reused(tmp_path):
    """The server key pair is generated on first use, then loaded unchanged."""
    path = tmp_path / "keys" / "server_private.pem"
    first = ServerKey(path)
    second = ServerKey(path)
    assert first.public_pem == second.public_pem
    assert first.public_path.read_text() == first.public_pem
    assert path.stat().st_mode & 0o777 == 0o600
    assert verify_any(b"body", second.sign(b"body"), [first.public_pem])


def test_server_key_is_not_created_outside_sandbox(tmp_path):
    """Without ``create`` a missing server key is an error, not a silent new key."""
    with pytest.raises(KeyError_, match="does not exist"):
        ServerKey(tmp_path / "server_private.pem", create=False)
