"""The authentication matrix over every signed method of ``/openapi.json`` (issue 14 §4).

``tests/e2e/test_rejections.py`` shows each refusal once on ``session/create``; here every
refusal of the matrix is sent to every method (v1 and v2), each must answer its documented
code, and no row of any table may change over the whole matrix. The accepted variants
(header names in any case, a 4096-bit key) must work; a 1024-bit key is refused when it is
registered. Secret comparisons in ``src/`` are shown to be constant-time by reading the code.
"""

from __future__ import annotations

import ast
import base64
import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import reliability_tally
from kassa.adapters.clock import SystemClock
from kassa.adapters.keys import RsaVerifier, generate_private_key, public_pem
from kassa.bootstrap import open_store
from kassa.service import projects
from testkit import (
    KassaServer,
    ProjectHandle,
    assert_error,
    create_project,
    kassa_cli,
    sign,
    table_counts,
    table_rows,
)

if TYPE_CHECKING:
    from collections.abc import Callable

SRC = Path(__file__).resolve().parents[2] / "src" / "kassa"
BODY = orjson.dumps({"amount_details": {"amount": 100, "currency": "usd"}, "session_id": "ps_x"})
Headers = list[tuple[str, str]]


def signed_paths(server: KassaServer) -> list[str]:
    """Every POST path under ``/api/`` that ``/openapi.json`` documents."""
    doc = httpx.get(f"{server.base_url}/openapi.json", timeout=10).json()
    return sorted(p for p, ops in doc["paths"].items() if p.startswith("/api/") and "post" in ops)


class Parties:
    """Project A (the caller), project B (another tenant) and A's retired first key."""

    def __init__(self, a: ProjectHandle, b: ProjectHandle, retired: rsa.RSAPrivateKey) -> None:
        """Hold the parties of the matrix."""
        self.a, self.b, self.retired = a, b, retired


def _p(project_id: str) -> tuple[str, str]:
    return ("X-PARTNER-PROJECT", project_id)


def _s(signature: str) -> tuple[str, str]:
    return ("X-PARTNER-SIGN", signature)


IDENT, AUTHN = (401, "identification_error"), (401, "authentication_error")


def matrix(p: Parties) -> dict[str, tuple[Callable[[bytes], Headers], tuple[int, str]]]:
    """Name → (headers for a body, expected status and code)."""
    a, b = p.a, p.b
    junk = base64.b64encode(b"x" * 256).decode()
    return {
        "no headers": (lambda _: [], IDENT),
        "no project header": (lambda r: [_s(sign(r, a.key))], IDENT),
        "unknown project": (lambda r: [_p("pj_never"), _s(sign(r, a.key))], IDENT),
        "no signature": (lambda _: [_p(a.id)], AUTHN),
        "empty signature": (lambda _: [_p(a.id), _s("")], AUTHN),
        "non-base64 signature": (lambda _: [_p(a.id), _s("not base64!")], AUTHN),
        "base64 of junk": (lambda _: [_p(a.id), _s(junk)], AUTHN),
        "signature of another body": (lambda r: [_p(a.id), _s(sign(r + b" ", a.key))], AUTHN),
        "same body, another project's key": (lambda r: [_p(a.id), _s(sign(r, b.key))], AUTHN),
        "A's request replayed as B": (lambda r: [_p(b.id), _s(sign(r, a.key))], AUTHN),
        "rotated-out key": (lambda r: [_p(a.id), _s(sign(r, p.retired))], AUTHN),
        "duplicate project header": (
            lambda r: [_p(a.id), _p(b.id), _s(sign(r, a.key))],
            IDENT,
        ),
        "duplicate signature header": (
            lambda r: [_p(a.id), _s(sign(r, a.key)), _s(sign(r, b.key))],
            AUTHN,
        ),
    }


async def rotated_project(database_url: str) -> tuple[ProjectHandle, rsa.RSAPrivateKey]:
    """A project whose first key was rotated out by two ``add-key``s (the newest two verify)."""
    first = generate_private_key()
    made = await create_project(database_url, name="rotated", key=first)
    newest = first
    store = await open_store(database_url)
    try:
        for _ in range(2):
            newest = generate_private_key()
            await projects.add_public_key(
                store, RsaVerifier(), SystemClock(), made.id, public_pem(newest)
            )
    finally:
        await store.close()
    return ProjectHandle(made.id, newest), first


async def test_every_refusal_on_every_method_answers_its_code_and_writes_nothing(server):
    """13 refusals times every signed method: documented 401s, not one row of any table changed."""
    a, retired = await rotated_project(server.database_url)
    b = await create_project(server.database_url, name="other")
    cases = matrix(Parties(a, b, retired))
    paths = signed_paths(server)
    assert len(paths) >= 30, paths
    before = await table_rows(server.database_url)
    sent = 0
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        for path in paths:
            for name, (headers_for, (status, code)) in cases.items():
                headers = [("Content-Type", "application/json"), *headers_for(BODY)]
                response = await http.post(path, content=BODY, headers=headers)
                sent += 1
                try:
                    assert_error(response, status, code)
                except AssertionError as exc:
                    msg = f"{name} on {path}: {exc}"
                    raise AssertionError(msg) from None
    assert await table_rows(server.database_url) == before
    reliability_tally.record(
        "auth",
        "refusal-matrix",
        {
            "refusals": len(cases),
            "methods (paths)": len(paths),
            "requests": sent,
            "answered the documented code": sent,
            "rows changed": 0,
        },
        ".venv/bin/pytest tests/reliability/test_auth_matrix.py",
        notes=[f"refusals: {', '.join(cases)}."],
    )


@pytest.mark.parametrize("case", ["lower", "upper", "mixed"])
async def test_header_names_in_any_case_are_accepted(server, case):
    """HTTP header names are case-insensitive: every spelling authenticates the same."""
    project = await create_project(server.database_url)
    spell: dict[str, Callable[[str], str]] = {
        "lower": str.lower,
        "upper": str.upper,
        "mixed": lambda s: "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(s)),
    }
    raw = orjson.dumps({"amount_details": {"amount": 100, "currency": "usd"}})
    headers = {
        spell[case]("X-PARTNER-PROJECT"): project.id,
        spell[case]("X-PARTNER-SIGN"): sign(raw, project.key),
        "Content-Type": "application/json",
    }
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.post("/api/v1/session/create", content=raw, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["session"]["id"].startswith("ps_")


async def test_a_4096_bit_key_works(server):
    """A project registered with an RSA-4096 key signs like any other."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    project = await create_project(server.database_url, key=key)
    raw = orjson.dumps({"amount_details": {"amount": 100, "currency": "usd"}})
    headers = {
        "X-PARTNER-PROJECT": project.id,
        "X-PARTNER-SIGN": sign(raw, key),
        "Content-Type": "application/json",
    }
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.post("/api/v1/session/create", content=raw, headers=headers)
    assert response.status_code == 200, response.text


async def test_a_1024_bit_key_is_refused_at_registration(server, tmp_path):
    """``projects create`` and ``projects add-key`` refuse RSA-1024: exit 2, nothing stored."""
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    path = tmp_path / "weak.pem"
    path.write_text(public_pem(weak))
    project = await create_project(server.database_url)
    env = {"KASSA_DATABASE_URL": server.database_url, "KASSA_DATA_DIR": str(tmp_path)}
    before = await table_counts(server.database_url)
    create = kassa_cli(
        "projects", "create", "--name", "weak", "--public-key", str(path), env=env, check=False
    )
    add = kassa_cli(
        "projects", "add-key", project.id, "--public-key", str(path), env=env, check=False
    )
    assert (create.returncode, add.returncode) == (2, 2), (create.stderr, add.stderr)
    for done in (create, add):
        assert "at least 2048 bits" in done.stderr, done.stderr
    assert await table_counts(server.database_url) == before
    reliability_tally.record(
        "auth",
        "key-sizes",
        {"4096-bit key": "accepted", "1024-bit key at create": "refused (exit 2)",
         "1024-bit key at add-key": "refused (exit 2)", "rows changed by refusals": 0},
        ".venv/bin/pytest tests/reliability/test_auth_matrix.py -k bit_key",
    )  # fmt: skip


SECRET_NAME = re.compile(r"(secret|token|csrf|mac|sign|signature|digest|password)$", re.IGNORECASE)


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def secret_equality_comparisons() -> list[str]:
    """``==``/``!=`` in ``src/`` between two non-literal operands, one named like a secret."""
    found: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Compare) or len(node.ops) != 1:
                continue
            if not isinstance(node.ops[0], ast.Eq | ast.NotEq):
                continue
            left, right = node.left, node.comparators[0]
            if isinstance(left, ast.Constant) or isinstance(right, ast.Constant):
                continue
            if SECRET_NAME.search(_name(left)) or SECRET_NAME.search(_name(right)):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_secrets_are_compared_in_constant_time():
    """Tokens, CSRF form tokens and 3DS secrets meet ``hmac.compare_digest``, never ``==``."""
    digests = [
        f"{p.relative_to(SRC)}"
        for p in sorted(SRC.rglob("*.py"))
        if "hmac.compare_digest(" in p.read_text("utf-8")
    ]
    assert {"service/three_ds.py", "service/public_tokens.py"} <= set(digests), digests
    assert secret_equality_comparisons() == []
    reliability_tally.record(
        "auth",
        "constant-time-comparisons",
        {"modules using hmac.compare_digest": len(digests), "== on secret-named values": 0},
        ".venv/bin/pytest tests/reliability/test_auth_matrix.py -k constant_time",
        notes=[
            "compare_digest in: " + ", ".join(digests) + ". Signatures are verified by "
            "RSA (cryptography), public tokens, idempotency keys and card hashes are looked "
            "up by their hash, never compared in Python."
        ],
    )
