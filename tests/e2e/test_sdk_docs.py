"""The code in ``docs/sdk.md`` (and the README's SDK block) works.

The quickstart and the payout examples run against a real server, the FastAPI receiver
against signed, tampered and repeated webhooks; the Flask and Django snippets compile.
"""

from __future__ import annotations

import json
import re
import runpy
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from kassa_client import load_private_key, sign
from testkit import create_project, kassa_cli

ROOT = Path(__file__).parents[2]
DOC = (ROOT / "docs" / "sdk.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
VECTORS = ROOT / "sdk" / "tests" / "vectors"


def snippet(heading: str, doc: str = DOC) -> str:
    """The first ```python block after ``heading``."""
    start = doc.index(heading)
    found = re.search(r"```python\n(.*?)```", doc[start:], re.DOTALL)
    assert found is not None, heading
    return found.group(1)


def test_quickstart_is_short():
    """Pay, confirm and refund in under 20 lines."""
    assert len(snippet("## Quickstart").strip().splitlines()) < 20


def run_snippet(code: str, server, project, tmp_path) -> list[str]:
    """Run a docs block with the server's URL, the project and its key; its output lines."""
    key_path = tmp_path / "partner.pem"
    key_path.write_bytes(
        project.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    script = tmp_path / "snippet.py"
    script.write_text(
        code.replace("http://127.0.0.1:8131", server.base_url)
        .replace("pj_…", project.id)
        .replace("var/keys/demo_partner_private.pem", str(key_path))
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


async def test_quickstart_pays_confirms_and_refunds_on_a_real_server(server, tmp_path):
    """The quickstart block, with the server's URL, a project and its key, prints what it says."""
    project = await create_project(server.database_url)
    lines = run_snippet(snippet("## Quickstart"), server, project, tmp_path)
    assert lines == ["accepted succeeded", "accepted"]


def _topup_from_the_docs(server, project) -> None:
    """``kassa wallet topup`` as the payouts section writes it, for ``project``."""
    line = re.search(r"`(kassa wallet topup pj_… [^`]+)`", DOC)
    assert line is not None
    args = line.group(1).replace("pj_…", project.id).split()[1:]
    kassa_cli(*args, env={"KASSA_DATABASE_URL": server.database_url})


async def test_payout_examples_run_on_a_real_server(server, tmp_path):
    """Both payout blocks, after the documented top-up, print what the text says they print."""
    project = await create_project(server.database_url)
    _topup_from_the_docs(server, project)
    card = run_snippet(snippet("## Payouts"), server, project, tmp_path)
    assert card == ["[('wl_eur', 10000)]", "pending 4242", "accepted succeeded", "7500"]
    more = run_snippet(snippet("Other destinations"), server, project, tmp_path)
    assert more == [
        "{'description': 'rent', 'iban': '****5432'}",
        "accepted",
        "accepted succeeded succeeded",
    ]


async def test_the_readme_payout_runs_on_a_real_server(server, tmp_path):
    """The README's SDK block pays 25.00 EUR out of a wallet topped up with 100.00 EUR."""
    project = await create_project(server.database_url)
    _topup_from_the_docs(server, project)
    lines = run_snippet(snippet("## Python SDK", README), server, project, tmp_path)
    expected = "Wallet(id='wl_eur', amount_details=AmountDetails(amount=7500, currency='eur'))"
    assert lines == [f"[{expected}]"]


@pytest.fixture
def fastapi_app(tmp_path, monkeypatch):
    """The FastAPI receiver of the docs, with a test key standing in for the server's."""
    code = snippet("### FastAPI").replace(
        "var/keys/server_public.pem", str(VECTORS / "bank131_public.pem")
    )
    path = tmp_path / "receiver.py"
    path.write_text(code)
    monkeypatch.chdir(tmp_path)
    return runpy.run_path(str(path))["app"]


def _webhook(kind: str = "payment_finished") -> bytes:
    return json.dumps(
        {
            "type": kind,
            "session": {
                "id": "ps_doc",
                "status": "accepted",
                "acquiring_payments": [{"id": "pm_doc", "status": "succeeded"}],
            },
        }
    ).encode()


async def test_fastapi_receiver_from_the_docs(fastapi_app, capsys):
    """Signed: 200, handled once (a repeat is 200 but not handled); tampered: 401; unknown: 400."""
    key = load_private_key(VECTORS / "bank131_private.pem")
    body = _webhook()
    transport = httpx.ASGITransport(app=fastapi_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as http:

        async def post(content: bytes, signature: str) -> int:
            headers = {"X-PARTNER-SIGN": signature, "Content-Type": "application/json"}
            return (await http.post("/kassa/webhook", content=content, headers=headers)).status_code

        assert await post(body, sign(body, key)) == 200
        assert await post(body, sign(body, key)) == 200
        assert await post(body.replace(b"succeeded", b"failed!!!"), sign(body, key)) == 401
        odd = _webhook("payment_teleported")
        assert await post(odd, sign(odd, key)) == 400
    assert capsys.readouterr().out.count("paid: ps_doc succeeded") == 1


@pytest.mark.parametrize("heading", ["### Flask", "### Django"])
def test_other_framework_snippets_compile(heading):
    """Flask and Django are not installed here: their snippets are at least valid Python."""
    compile(snippet(heading), heading, "exec")
