"""Request signing against Bank 131's published test vectors (RSASSA-PKCS1-v1_5 + SHA-256).

``vectors/`` holds the 2048-bit test key pair of Bank 131's PHP SDK and the signatures of the
bodies ``{}`` (from that SDK's own test) and ``[]``. PKCS#1 v1.5 is deterministic, so the
client must produce exactly these strings.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sdk_kit import PRIVATE, PUBLIC, VECTORS, Wire, ok, sync

from kassa_client import load_private_key, load_public_key, sign, verify

EMPTY_OBJECT = (VECTORS / "bank131_empty_object.sig").read_text().strip()
EMPTY_ARRAY = (VECTORS / "bank131_empty_array.sig").read_text().strip()


@pytest.mark.parametrize(("body", "expected"), [(b"{}", EMPTY_OBJECT), (b"[]", EMPTY_ARRAY)])
def test_signature_matches_the_bank131_vector(body, expected):
    """``sign`` gives the published signature, and it verifies with the public key."""
    assert sign(body, load_private_key(PRIVATE)) == expected
    assert verify(body, expected, load_public_key(PUBLIC))


def test_fps_banks_sends_get_with_body_array_signed_like_bank131():
    """``fps_banks()`` is a GET with the body ``[]`` and exactly Bank 131's signature of it."""
    wire = Wire(ok("banks", []))
    with sync(wire) as client:
        assert client.fps_banks() == []
    request = wire.last
    assert request.method == "GET"
    assert request.content == b"[]"
    assert request.headers["x-partner-sign"] == EMPTY_ARRAY


def test_raw_request_of_empty_object_is_signed_like_bank131():
    """A raw call with ``{}`` sends the 2 bytes ``{}`` with the published signature."""
    wire = Wire(ok("session", {}))
    with sync(wire) as client:
        client.request("session/create", b"{}")
    assert wire.last.content == b"{}"
    assert wire.last.headers["x-partner-sign"] == EMPTY_OBJECT


@pytest.mark.parametrize("form", ["bytes", "str", "path", "path-str", "key", "pkcs8"])
def test_private_key_forms(form, tmp_path):
    """PEM bytes, a PEM string, a Path, a path string, a key object, PKCS#8: the same key."""
    pem = PRIVATE.read_bytes()
    key_object = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key_object, rsa.RSAPrivateKey)
    pkcs8 = tmp_path / "pkcs8.pem"
    pkcs8.write_bytes(
        key_object.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    given = {
        "bytes": pem,
        "str": pem.decode(),
        "path": PRIVATE,
        "path-str": str(PRIVATE),
        "key": key_object,
        "pkcs8": pkcs8,
    }[form]
    assert sign(b"{}", load_private_key(given)) == EMPTY_OBJECT


def test_encrypted_private_key_needs_its_password(tmp_path):
    """A passphrase-protected PEM loads with ``key_password`` and is refused without it."""
    key = load_private_key(PRIVATE)
    locked = tmp_path / "locked.pem"
    locked.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    assert sign(b"{}", load_private_key(locked, b"s3cret")) == EMPTY_OBJECT
    with pytest.raises(ValueError, match="private_key"):
        load_private_key(locked)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (b"not a key", "not a PEM private key"),
        ("/nonexistent/key.pem", "cannot read"),
    ],
)
def test_unusable_private_key_is_a_clear_value_error(given, message):
    """A key that cannot be loaded says why, naming the argument."""
    with pytest.raises(ValueError, match=message):
        load_private_key(given)


def test_public_key_where_private_is_expected_is_refused():
    """A public PEM is not a private key."""
    with pytest.raises(ValueError, match="private_key"):
        load_private_key(PUBLIC)


@pytest.mark.parametrize(
    "signature",
    ["", "!!!not base64!!!", EMPTY_OBJECT[:-8], EMPTY_ARRAY, "A" * 3000],
    ids=["empty", "garbage", "truncated", "other-body", "oversized"],
)
def test_verify_refuses_what_does_not_sign_the_body(signature):
    """Empty, non-base64, truncated, another body's, or absurdly long: all False, no exception."""
    assert not verify(b"{}", signature, load_public_key(PUBLIC))
