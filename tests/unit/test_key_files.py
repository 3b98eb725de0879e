"""Key files made by several processes at once: all of them end up with the one key written."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from kassa.adapters.keys import ServerKey
from kassa.adapters.vault import AesVault

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

STARTERS = 8  # as many as `kassa serve --workers 4` plus workers starting on a fresh folder


def _at_once(make: Callable[[], object]) -> list[object]:
    barrier = threading.Barrier(STARTERS)
    made: list[object] = []

    def start() -> None:
        barrier.wait()
        made.append(make())

    threads = [threading.Thread(target=start) for _ in range(STARTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return made


def test_server_key_created_by_many_at_once_is_one_key(tmp_path: Path) -> None:
    """Every starter signs with the key the file holds (a webhook verifies for the merchant)."""
    path = tmp_path / "keys" / "server_private.pem"
    keys = _at_once(lambda: ServerKey(path))
    on_disk = ServerKey(path, create=False).public_pem
    assert {k.public_pem for k in keys if isinstance(k, ServerKey)} == {on_disk}
    assert path.with_name("server_public.pem").read_text() == on_disk
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "server_private.pem",
        "server_public.pem",
    ]


def test_vault_key_created_by_many_at_once_is_one_key(tmp_path: Path) -> None:
    """A card vaulted by one process is readable by every other."""
    path = tmp_path / "vault.key"
    vaults = [
        v
        for v in _at_once(lambda: AesVault.from_file(path, create=True))
        if isinstance(v, AesVault)
    ]
    sealed = vaults[0].encrypt("4242424242424242")
    assert {v.decrypt(sealed) for v in vaults} == {"4242424242424242"}
    assert (path.stat().st_mode & 0o777) == 0o600
