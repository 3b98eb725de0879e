"""Processes starting at once on a fresh data dir agree on the server key and the vault key.

``kassa serve --workers N`` and ``kassa worker`` start together; before the keys were created
once, each generated its own, the last write won on disk, and webhooks signed by the others
failed verification (seen as HTTP 400 from the benchmark's receiver) — the vault's case
would make cards vaulted by one process undecryptable by the others.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

PROCESSES = 6
_CHILD = """
import json, sys, time
from pathlib import Path
from kassa.adapters.keys import ServerKey
from kassa.adapters.vault import AesVault
start, folder = float(sys.argv[1]), Path(sys.argv[2])
while time.time() < start:
    pass
server = ServerKey(folder / "keys" / "server_private.pem")
vault = AesVault.from_file(folder / "vault.key", create=True)
print(json.dumps({"public": server.public_pem, "hash": vault.number_hash("pj_x", "4242")}))
"""


def test_concurrent_first_starts_share_one_server_key_and_one_vault_key(tmp_path: Path) -> None:
    """Six processes create the keys at the same instant: one key each, on disk and in use."""
    start = time.time() + 2.0  # every child is imported and spinning by then
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(start), str(tmp_path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    seen = [json.loads(child.communicate(timeout=60)[0]) for child in children]
    on_disk = (tmp_path / "keys" / "server_public.pem").read_text(encoding="ascii")
    assert {s["public"] for s in seen} == {on_disk}
    assert len({s["hash"] for s in seen}) == 1
    assert (tmp_path / "keys" / "server_private.pem").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "vault.key").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [
        "server_private.pem",
        "server_public.pem",
    ]  # no temporary file left behind
