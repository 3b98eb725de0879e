"""Hand-written hostile bodies for every signed method, and hostile text in every field.

Per method of ``/openapi.json`` (``hostile_kit.BODIES``): bodies over 1 MiB (honest, lying
and chunked length), 10,000-deep nesting, invalid UTF-8, NaN/Infinity, integers beyond 2**63,
NUL characters, a non-object: each is the documented 4xx envelope and writes nothing.
Duplicate keys are read as the last one wins (the signature covers the bytes, so the signer
and kassa see the same text). Per free-text field: control characters, 10,000 characters,
SQL and HTML injection are stored verbatim or refused naming the field, never a 500, and
come back JSON-escaped; the 3DS and widget pages show them escaped.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest

import reliability_tally
from hostile_kit import envelope_problem
from kassa.domain.project import ProjectSettings
from testkit import KassaServer, SignedClient, assert_error, create_project, sign, table_counts
from widget_kit import fund

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
AMOUNT = {"amount": 100, "currency": "usd"}
DEEP = b'{"metadata":' + b"[" * 10_000 + b"]" * 10_000 + b"}"

# name → (raw body, expected status, expected code); sent to every signed method.
BODIES: dict[str, tuple[bytes, int, str]] = {
    "over 1 MiB": (b'{"metadata":"' + b"x" * MIB + b'"}', 413, "invalid_request"),
    "10,000-deep nesting": (DEEP, 400, "invalid_request"),
    "invalid UTF-8": (b'{"metadata":"\xff\xfe\xc3("}', 400, "invalid_request"),
    "NaN": (b'{"amount_details":{"amount":NaN,"currency":"usd"}}', 400, "invalid_request"),
    "Infinity": (b'{"metadata":Infinity}', 400, "invalid_request"),
    "1e400": (b'{"metadata":1e400}', 400, "invalid_request"),
    "2**63": (b'{"metadata":9223372036854775808}', 400, "invalid_request"),
    "amount 2**63": (
        b'{"amount_details":{"amount":9223372036854775808,"currency":"usd"},"session_id":"ps_x"}',
        400,
        "invalid_request",
    ),
    "2**64": (b'{"amount_details":{"amount":18446744073709551616}}', 400, "invalid_request"),
    "-2**63-1": (b'{"metadata":-9223372036854775809}', 400, "invalid_request"),
    "NUL in a string": (b'{"metadata":"a\\u0000b"}', 400, "invalid_request"),
    "NUL in a key": (b'{"meta\\u0000data":"a"}', 400, "invalid_request"),
    "truncated": (b'{"metadata":"abc', 400, "invalid_request"),
    "a JSON string": (b'"session"', 400, "invalid_request"),
    "a JSON number": (b"42", 400, "invalid_request"),
}

HOSTILE_TEXT: dict[str, str] = {
    "control characters": "a\x01\x02\x07\x08\t\n\r\x1b[31m\x7f\u2028\u2029\ufeffz",
    "10,000 characters": "ü" * 10_000,
    "SQL injection": "'; DROP TABLE sessions; -- \" OR 1=1 --",
    "HTML injection": '<script>alert(1)</script>"><img src=x onerror=alert(2)>&amp;',
}


@pytest.fixture(scope="module")
def plain_server(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> KassaServer:
    """A server without its worker: only requests write."""
    running = KassaServer(
        module_database_url, tmp_path_factory.mktemp("hostile"), KASSA_WORKER="0"
    ).start()
    yield running  # type: ignore[misc]
    running.stop()


@pytest.fixture
async def shop(plain_server: KassaServer) -> AsyncIterator[SignedClient]:
    """A project that confirms card payments at once."""
    project = await create_project(
        plain_server.database_url, settings=ProjectSettings(auto_confirm=True)
    )
    client = SignedClient(plain_server.base_url, project)
    yield client
    await client.aclose()


def signed_paths(server: KassaServer) -> list[str]:
    """Every POST path under ``/api/``."""
    doc = httpx.get(f"{server.base_url}/openapi.json", timeout=10).json()
    return sorted(p for p, ops in doc["paths"].items() if p.startswith("/api/") and "post" in ops)


async def test_hostile_bodies_on_every_method_are_documented_errors_writing_nothing(
    plain_server: KassaServer, shop: SignedClient
) -> None:
    """Every body of ``BODIES`` to every method: its status and code, no row written."""
    paths = signed_paths(plain_server)
    before = await table_counts(plain_server.database_url)
    sent = 0
    for path in paths:
        for name, (raw, status, code) in BODIES.items():
            headers = {
                "Content-Type": "application/json",
                "X-PARTNER-PROJECT": shop.project.id,
                "X-PARTNER-SIGN": sign(raw, shop.project.key),
            }
            response = await shop.http.post(path, content=raw, headers=headers)
            sent += 1
            try:
                assert_error(response, status, code)
            except AssertionError as exc:
                msg = f"{name} on {path}: {exc}"
                raise AssertionError(msg) from None
    assert await table_counts(plain_server.database_url) == before
    reliability_tally.record(
        "hostile",
        "hand-written-bodies",
        {"bodies": len(BODIES), "methods (paths)": len(paths), "requests": sent,
         "documented error": sent, "rows written": 0},
        ".venv/bin/pytest tests/reliability/test_hostile_input.py -k hostile_bodies",
        notes=["bodies: " + ", ".join(BODIES) + "."],
    )  # fmt: skip


async def test_chunked_and_lying_content_length_over_the_limit(
    plain_server: KassaServer, shop: SignedClient
) -> None:
    """Chunked 2 MiB, a declared 2 MiB with 10 bytes, a declared 10 with 2 MiB: no harm."""
    body = b'{"metadata":"' + b"y" * (2 * MIB) + b'"}'
    signed = {
        "Content-Type": "application/json",
        "X-PARTNER-PROJECT": shop.project.id,
        "X-PARTNER-SIGN": sign(body, shop.project.key),
    }

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    before = await table_counts(plain_server.database_url)
    chunked = await shop.http.post("/api/v1/session/create", content=chunks(), headers=signed)
    assert_error(chunked, 413, "invalid_request")
    declared_big = raw_exchange(plain_server, signed, declared=2 * MIB, sent=b'{"a":"b"}')
    assert declared_big.startswith(b"HTTP/1.1 413"), declared_big[:200]
    declared_small = raw_exchange(plain_server, signed, declared=10, sent=body)
    # The first 10 bytes are the request; the signature is over all of them: 401.
    assert declared_small.startswith(b"HTTP/1.1 401"), declared_small[:200]
    assert b"internal_error" not in declared_small
    assert await table_counts(plain_server.database_url) == before
    ok = await shop.post("session/create", {"amount_details": AMOUNT})
    assert ok.status_code == 200, ok.text
    reliability_tally.record(
        "hostile",
        "body-length-lies",
        {"chunked 2 MiB": 413, "Content-Length 2 MiB, 9 bytes sent": 413,
         "Content-Length 10, 2 MiB sent": 401, "served afterwards": "yes"},
        ".venv/bin/pytest tests/reliability/test_hostile_input.py -k lying",
    )  # fmt: skip


def raw_exchange(server: KassaServer, headers: dict[str, str], declared: int, sent: bytes) -> bytes:
    """A request with ``Content-Length: declared`` and then ``sent`` bytes; the answer.

    The first ``min(declared, len(sent))`` bytes go first and the answer is read, then the
    rest is pushed after it (the server may have closed by then: that is fine).
    """
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST /api/v1/session/create HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
        f"Content-Length: {declared}\r\nConnection: close\r\n\r\n"
    ).encode()
    first = min(declared, len(sent))
    answer = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request + sent[:first])
        deadline = time.monotonic() + 10
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        with contextlib.suppress(OSError):
            sock.sendall(sent[first:])
    return answer


async def test_duplicate_keys_read_the_last_one(shop: SignedClient) -> None:
    """``{"metadata":"a","metadata":"b"}`` is ``b``: one reading, the one that was signed."""
    raw = b'{"amount_details":{"amount":100,"currency":"usd"},"metadata":"first","metadata":"last"}'
    created = await shop.ok("session/create", raw)  # type: ignore[arg-type]
    status = await shop.ok("session/status", {"session_id": created["session"]["id"]})
    assert status["session"]["metadata"] == "last"


def free_text_fields(server: KassaServer) -> dict[str, list[str]]:
    """Per method, the request's string fields without enum, pattern or format (free text)."""
    doc = httpx.get(f"{server.base_url}/openapi.json", timeout=10).json()
    components = doc["components"]["schemas"]
    found: dict[str, list[str]] = {}
    for method in ("session/create", "session/init/payment", "session/init/payout"):
        op = doc["paths"][f"/api/v1/{method}"]["post"]
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        fields: set[str] = set()
        walk(schema, "", components, fields, frozenset())
        fields.add("metadata")  # free text whatever its schema says (string or object)
        found[method] = sorted(fields)
    return found


def walk(
    schema: dict[str, Any], where: str, comps: dict[str, Any], out: set[str], seen: frozenset[str]
) -> None:
    """Collect dotted paths of free-text string properties (no union branches but the first)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            walk(comps[name], where, comps, out, seen | {name})
        return
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if options and not schema.get("properties"):
        walk(options[0], where, comps, out, seen)
        return
    if schema.get("type") == "string" and where:
        if not ({"enum", "pattern", "format", "const"} & set(schema)):
            out.add(where)
        return
    for name, sub in schema.get("properties", {}).items():
        if name in {"payment_details", "payment_method", "session_id", "type"}:
            continue
        walk(sub, f"{where}.{name}" if where else name, comps, out, seen)


def put(body: dict[str, Any], path: str, value: str) -> dict[str, Any]:
    """``body`` with ``value`` at dotted ``path`` (objects made on the way)."""
    out = orjson.loads(orjson.dumps(body))
    node = out
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out  # type: ignore[no-any-return]


BASES: dict[str, dict[str, Any]] = {
    "session/create": {"amount_details": AMOUNT, "customer": {"reference": "r"}},
    "session/init/payment": {
        "amount_details": AMOUNT,
        "customer": {"reference": "r"},
        "payment_details": {
            "type": "card",
            "card": {"type": "bank_card", "bank_card": {
                "number": "4242424242424242", "expiration_month": "12",
                "expiration_year": "30", "security_code": "123"}},
        },
    },
    "session/init/payout": {
        "amount_details": AMOUNT,
        "payment_method": {"type": "card", "card": {"type": "bank_card",
                                                    "bank_card": {"number": "4242424242424242"}}},
        "participant_details": {"recipient": {"full_name": "John Johnson"}},
    },
}  # fmt: skip


def found_verbatim(data: Any, value: str) -> bool:
    """True if ``value`` is a string somewhere in ``data``."""
    if isinstance(data, str):
        return data == value
    if isinstance(data, dict):
        return any(found_verbatim(v, value) for v in data.values())
    if isinstance(data, list):
        return any(found_verbatim(v, value) for v in data)
    return False


async def test_hostile_text_in_every_free_text_field(
    plain_server: KassaServer, shop: SignedClient
) -> None:
    """Stored verbatim and echoed JSON-escaped, or refused naming the field; never a 500."""
    await fund(plain_server.database_url, shop.project.id, 10**9)
    fields = free_text_fields(plain_server)
    assert sum(len(v) for v in fields.values()) >= 10, fields
    verbatim = refused = echoed_back = 0
    for method, paths in fields.items():
        for path in paths:
            for name, text in HOSTILE_TEXT.items():
                response = await shop.post(method, put(BASES[method], path, text))
                where = f"{method} {path} {name}: {response.text[:300]}"
                problem = envelope_problem(
                    response.status_code,
                    response.headers.get("content-type", ""),
                    response.content,
                )
                assert problem is None, (where, problem)
                if response.status_code == 200:
                    # JSON-escaped: the answer is JSON and parses back to exactly the text.
                    assert response.headers["content-type"].startswith("application/json")
                    echoed = found_verbatim(response.json(), text)
                    verbatim += 1
                    if "'; DROP" in text or "<script>" in text:
                        sid = response.json()["session"]["id"]
                        again = await shop.ok("session/status", {"session_id": sid})
                        assert found_verbatim(again, text) == echoed, where
                        echoed_back += int(echoed)
                else:
                    assert response.status_code == 400, where
                    description = response.json()["error"]["description"]
                    assert description.split(":")[0] in {path, "body"} or path in description, where
                    assert text not in description, where  # the value is never echoed
                    refused += 1
    reliability_tally.record(
        "hostile",
        "hostile-text-fields",
        {"free-text fields": sum(len(v) for v in fields.values()),
         "texts": len(HOSTILE_TEXT), "stored verbatim": verbatim,
         "refused naming the field": refused,
         "injections read back verbatim by session/status": echoed_back, "500 answers": 0},
        ".venv/bin/pytest tests/reliability/test_hostile_input.py -k free_text",
        notes=["fields: " + "; ".join(f"{m}: {', '.join(p)}" for m, p in fields.items())],
    )  # fmt: skip


AMOUNT_METHODS = ("session/create", "session/init/payment", "session/init/payout")
BAD_AMOUNTS: dict[str, dict[str, Any]] = {
    "zero": {"amount": 0, "currency": "usd"},
    "negative": {"amount": -100, "currency": "usd"},
    "a float": {"amount": 100.5, "currency": "usd"},
    "a string": {"amount": "100", "currency": "usd"},
    "unknown currency": {"amount": 100, "currency": "xyz"},
    "currency in words": {"amount": 100, "currency": "dollars"},
    "empty currency": {"amount": 100, "currency": ""},
}


async def test_bad_amounts_and_currencies_on_every_amount_method(
    plain_server: KassaServer, shop: SignedClient
) -> None:
    """Zero, negative, non-integer amounts and unknown currencies: 4xx naming the field."""
    await fund(plain_server.database_url, shop.project.id, 10**6)
    sid = (await shop.ok("session/init/payment", BASES["session/init/payment"]))["session"]["id"]
    methods: dict[str, dict[str, Any]] = {m: BASES[m] for m in AMOUNT_METHODS}
    methods["session/refund"] = {"session_id": sid}
    methods["session/capture"] = {"session_id": sid}
    before = await table_counts(plain_server.database_url)
    sent = 0
    for method, base in methods.items():
        for name, amount in BAD_AMOUNTS.items():
            response = await shop.post(method, base | {"amount_details": amount})
            sent += 1
            where = f"{method} {name}: {response.text[:300]}"
            problem = envelope_problem(
                response.status_code, response.headers.get("content-type", ""), response.content
            )
            assert problem is None, (where, problem)
            assert response.status_code in {400, 409, 422}, where
            if response.status_code == 400:
                assert response.json()["error"]["description"].startswith("amount_details"), where
    assert await table_counts(plain_server.database_url) == before
    reliability_tally.record(
        "hostile",
        "amounts-and-currencies",
        {"methods": len(methods), "bad amounts": len(BAD_AMOUNTS), "requests": sent,
         "refused (400/409/422)": sent, "rows written": 0},
        ".venv/bin/pytest tests/reliability/test_hostile_input.py -k bad_amounts",
        notes=["amounts: " + ", ".join(BAD_AMOUNTS) + "."],
    )  # fmt: skip


INJECTED = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


async def test_injection_strings_are_shown_escaped_on_the_html_pages(
    plain_server: KassaServer,
) -> None:
    """A project name and session fields with HTML reach the 3DS and widget pages escaped."""
    project = await create_project(plain_server.database_url, name=INJECTED)
    client = SignedClient(plain_server.base_url, project)
    try:
        body = BASES["session/init/payment"] | {
            "metadata": INJECTED,
            "customer": {"reference": INJECTED},
        }
        body["payment_details"]["card"]["bank_card"]["number"] = "4000000000003220"  # 3DS card
        started = await client.ok("session/init/payment", body)
        pages: dict[str, str] = {}
        payment = started["session"]["acquiring_payments"][0]
        url = payment["customer_interaction"]["redirect"]["url"]
        pages["3ds"] = httpx.get(url, timeout=10).text
        created = await client.ok(
            "session/create",
            {"amount_details": AMOUNT, "customer": {"reference": INJECTED}, "metadata": INJECTED},
        )
        widget = {"acquiring_widget": {"session_id": created["session"]["id"]}}
        public = (await client.ok("token", widget))["public_token"]
    finally:
        await client.aclose()
    pages["pay widget"] = httpx.get(
        f"{plain_server.base_url}/widget/pay", params={"public_token": public}, timeout=10
    ).text
    assert len(pages) == 2, pages
    for name, html in pages.items():
        assert "<script>alert" not in html, name
        assert "onerror=alert(2)>" not in html.replace("&gt;", ">").replace("&lt;", "<") or (
            "<img src=x" not in html
        ), name
    reliability_tally.record(
        "hostile",
        "html-escaping",
        {"pages checked": len(pages), "unescaped injections": 0},
        ".venv/bin/pytest tests/reliability/test_hostile_input.py -k html_pages",
        notes=["pages: " + ", ".join(pages) + "; the injection was the project name, the "
               "customer reference and the metadata."],
    )  # fmt: skip
