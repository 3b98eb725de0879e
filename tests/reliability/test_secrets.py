"""Card numbers and CVCs after a run of every test card (issue 14 §6), on both databases.

Every sandbox test card is paid through the API (approved, 3DS, each decline), vaulted and
paid again through both widgets, paid out to, refunded and charged recurrently; each flow
uses its own CVC. Then the number (and any 12 of its digits in a row) and the CVC must be
absent from a dump of every row of every table, the server's log, every webhook body that
arrived and every answer and HTML page — only ``last4`` and the BIN may show. The vault's
ciphertexts decrypt with the configured key and with no other; every key file is 0600.
"""

from __future__ import annotations

import functools
import re
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from cryptography.exceptions import InvalidTag

import kassa
import reliability_tally
from kassa.adapters.vault import AesVault
from kassa.bench.procs import tree
from kassa.domain.project import ProjectSettings
from testkit import KassaServer, SignedClient, create_project, kassa_cli, table_rows, wait_for
from widget_kit import card_form, field_errors, form_token

if TYPE_CHECKING:
    from collections.abc import Iterator

    from webhook_receiver import Receiver

pytestmark = pytest.mark.slow

# docs/payments.md "Sandbox cards", plus a fresh Luhn-valid number of each brand.
CARDS = [
    "4242424242424242",
    "5555555555554444",
    "4000000000003220",
    "4000000000000002",
    "4000000000009995",
    "4000000000000069",
    "4000000000000119",
    "4111111111111111",
    "5105105105105100",
]


@functools.cache
def reserved_cvcs() -> frozenset[str]:
    """Four-digit numbers a run prints by design: a CVC equal to one would be a false leak.

    A card's last4, amounts and balances (all multiples of 10), years, and every four-digit
    number in kassa's own source (the card field's "1234 5678 9012 3456" placeholder, the
    widget script's BIN ranges, …). Read once, when the first ``Seen`` is made.
    """
    source = Path(kassa.__file__).resolve().parent
    return frozenset(
        {number[-4:] for number in CARDS}
        | {f"{n}" for n in range(1000, 10_000, 10)}
        | {f"{year}" for year in range(1900, 2101)}
        | {
            found
            for path in source.rglob("*")
            if path.suffix in {".py", ".html", ".js", ".css", ".json", ".txt"}
            for found in re.findall(r"(?<!\d)\d{4}(?!\d)", path.read_text("utf-8", "replace"))
        }
    )


@pytest.fixture(scope="module")
def card_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KassaServer]:
    """A server with its worker (webhooks delivered fast) and a debug log."""
    running = KassaServer(
        module_database_url,
        tmp_path_factory.mktemp("secrets"),
        KASSA_WORKER_POLL_SECONDS="0.02",
        KASSA_WEBHOOK_FIRST_DELAY_SECONDS="0.05",
        KASSA_LOG_LEVEL="debug",
    ).start()
    try:
        yield running
    finally:
        running.stop()


def card(number: str, cvc: str) -> dict[str, Any]:
    """``payment_details`` of a clear card."""
    return {
        "type": "card",
        "card": {
            "type": "bank_card",
            "bank_card": {
                "number": number,
                "expiration_month": "12",
                "expiration_year": "30",
                "security_code": cvc,
            },
        },
    }


class Seen:
    """Everything that left kassa during the run."""

    def __init__(self, reserved: set[str]) -> None:
        """Nothing yet; ``reserved``: more numbers the run prints (the server's pids)."""
        self.texts: list[str] = []
        self.cvcs: list[str] = []
        self.flows = 0
        self.reserved = reserved_cvcs() | reserved

    def cvc(self) -> str:
        """A CVC not used before that nothing else in a run can print as a whole number.

        Four digits, none of ``reserved`` (``reserved_cvcs`` and the server's pids).
        """
        while True:
            value = f"{secrets.randbelow(9000) + 1000}"
            if value not in self.cvcs and value not in self.reserved:
                self.cvcs.append(value)
                return value


async def api_flows(client: SignedClient, seen: Seen) -> list[str]:
    """Every test card through init/payment; refunds, recurrent charges, a payout."""
    sessions: list[str] = []

    async def call(method: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await client.post(method, body)
        seen.texts.append(response.text)
        seen.flows += 1
        data: dict[str, Any] = response.json()
        return data

    for number in CARDS:
        paid = await call(
            "session/init/payment",
            {
                "amount_details": {"amount": 1000, "currency": "usd"},
                "customer": {"reference": "secrets"},
                "payment_details": card(number, seen.cvc()),
                "payment_options": {"recurrent": True},
            },
        )
        if paid.get("status") != "ok":
            continue
        session = paid["session"]
        sessions.append(session["id"])
        payment = session["acquiring_payments"][0]
        interaction = payment.get("customer_interaction")
        if interaction:
            page = httpx.get(interaction["redirect"]["url"], timeout=10)
            seen.texts.append(page.text)
        if payment["status"] == "succeeded":
            await call(
                "session/refund",
                {"session_id": session["id"], "amount_details": {"amount": 10, "currency": "usd"}},
            )
            token = (payment.get("recurrent") or {}).get("token")
            if token:
                await call(
                    "session/init/payment",
                    {
                        "amount_details": {"amount": 500, "currency": "usd"},
                        "payment_details": {
                            "type": "recurrent",
                            "recurrent": {"token": token, "initiator": "merchant"},
                        },
                    },
                )
    return sessions


async def widget_flows(server: KassaServer, client: SignedClient, seen: Seen) -> None:
    """The tokenize widget vaults a card; token/info describes it; the pay widget pays."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as pages:
        for number in ("4242424242424242", "5555555555554444"):
            token = (await client.ok("token", {"tokenize_widget": {"access": True}}))[
                "public_token"
            ]
            page = await pages.get("/widget/tokenize", params={"public_token": token})
            seen.texts.append(page.text)
            form = {"public_token": token, "form_token": form_token(page.text)}
            spaced = " ".join(number[i : i + 4] for i in range(0, 16, 4))
            done = await pages.post(
                "/widget/tokenize", data={**form, **card_form(number=spaced, cvc=seen.cvc())}
            )
            seen.texts.append(done.text)
            assert done.status_code == 200, (done.status_code, field_errors(done.text))
            seen.flows += 1
        sid = (
            await client.ok(
                "session/create",
                {
                    "amount_details": {"amount": 700, "currency": "usd"},
                    "customer": {"reference": "w"},
                },
            )
        )["session"]["id"]
        token = (await client.ok("token", {"acquiring_widget": {"session_id": sid}}))[
            "public_token"
        ]
        page = await pages.get("/widget/pay", params={"public_token": token})
        seen.texts.append(page.text)
        form = {"public_token": token, "form_token": form_token(page.text)}
        paid = await pages.post("/widget/pay", data={**form, **card_form(cvc=seen.cvc())})
        seen.texts.append(paid.text)
        seen.flows += 1
        if paid.is_redirect:
            seen.texts.append((await pages.get(paid.headers["location"])).text)


def dump(rows: dict[str, list[tuple[Any, ...]]]) -> str:
    """Every value of every row as text (bytes as latin-1, so no digit run hides)."""
    parts: list[str] = []
    for table, found in rows.items():
        for row in found:
            for value in row:
                if isinstance(value, bytes | bytearray | memoryview):
                    parts.append(bytes(value).decode("latin-1"))
                else:
                    parts.append(str(value))
        parts.append(f"-- {table}")
    return "\n".join(parts)


def leaks(text: str, seen: Seen) -> list[str]:
    """Card numbers (or 12 of their digits in a row) and CVCs found in ``text``.

    A CVC counts as a whole number: not part of a longer word, number or decimal, nor of a
    token (base64url ids and nonces join their parts with ``-`` and ``_``).
    """
    found: list[str] = []
    digits = re.sub(r"(?<=\d)[ -](?=\d)", "", text)
    for number in CARDS:
        for start in range(len(number) - 11):
            if number[start : start + 12] in digits:
                found.append(f"digits of {number[:6]}…{number[-4:]}")
                break
    found += [
        f"cvc {cvc}"
        for cvc in seen.cvcs
        if re.search(rf"(?<![0-9A-Za-z._-]){cvc}(?![0-9A-Za-z._-])", text)
    ]
    return found


async def test_no_card_number_or_cvc_anywhere_and_vault_keys_hold(
    card_server: KassaServer, receiver: Receiver, tmp_path: Path
) -> None:
    """Every test card through every flow; then search everything for numbers and CVCs."""
    server = card_server
    project = await create_project(
        server.database_url,
        webhook_url=receiver.url("secrets"),
        settings=ProjectSettings(auto_confirm=True),
    )
    client = SignedClient(server.base_url, project)
    assert server.proc is not None
    seen = Seen({str(pid) for pid in tree(server.proc.pid)})  # log lines carry the pid
    try:
        sessions = await api_flows(client, seen)
        await widget_flows(server, client, seen)
    finally:
        await client.aclose()
    await wait_for(lambda: all(receiver.for_session(s) for s in sessions), timeout=30)
    rows = await table_rows(server.database_url)
    webhooks = "\n".join(r.body.decode("utf-8", "replace") for r in receiver.received)
    places = {
        "database dump": dump(rows),
        "server log": server.log(),
        "webhook bodies": webhooks,
        "answers and pages": "\n".join(seen.texts),
    }
    found = {where: leaks(text, seen) for where, text in places.items()}
    assert all(not f for f in found.values()), found
    # last4 do show (so the search above would have seen a number had it been there).
    assert "4242" in places["answers and pages"]
    assert "4444" in places["webhook bodies"] or "4242" in places["webhook bodies"]

    vault_rows = rows.get("vault_cards", [])
    assert len(vault_rows) >= 2, list(rows)
    keys = server.data_dir / "keys"
    vault = AesVault((keys / "vault.key").read_bytes())
    other = AesVault(secrets.token_bytes(32))
    ciphertexts = [bytes(v) for row in vault_rows for v in row if isinstance(v, bytes | memoryview)]
    assert ciphertexts
    assert {vault.decrypt(c) for c in ciphertexts} <= set(CARDS)
    for ciphertext in ciphertexts:
        with pytest.raises(InvalidTag):
            other.decrypt(ciphertext)

    made = tmp_path / "partner"
    kassa_cli(
        "projects", "create", "--name", "k", "--generate-keys", str(made),
        env={"KASSA_DATABASE_URL": server.database_url, "KASSA_DATA_DIR": str(server.data_dir)},
    )  # fmt: skip
    secret_files = [keys / "vault.key", keys / "server_private.pem"]
    secret_files += [p for p in made.iterdir() if "private" in p.name]
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in secret_files}
    assert len(secret_files) >= 3, secret_files
    assert set(modes.values()) == {0o600}, modes

    dialect = "sqlite" if server.database_url.startswith("sqlite") else "postgres"
    reliability_tally.record(
        "secrets",
        f"cards-and-cvcs-{dialect}",
        {
            "test cards": len(CARDS),
            "flows (API calls and widget posts)": seen.flows,
            "CVCs used": len(seen.cvcs),
            "rows searched": sum(len(r) for r in rows.values()),
            "webhooks searched": len(receiver.received),
            "log bytes searched": len(places["server log"]),
            "numbers or CVCs found": 0,
            "vault ciphertexts": len(ciphertexts),
            "decrypted by another key": 0,
            "key files not 0600": 0,
        },
        ".venv/bin/pytest tests/reliability/test_secrets.py",
        notes=[
            (
                "Searched for each number's every run of 12 digits (spaces and dashes ignored) "
                "and each CVC as a free-standing 4-digit token; the server logged at debug level."
            ),
            f"Key files: {', '.join(sorted(modes))}, all 0600.",
        ],
    )
