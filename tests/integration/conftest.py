"""Fixtures of the acquiring integration tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from acquiring_kit import Kassa
from kassa.domain.project import ProjectSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@pytest.fixture
async def open_kassa(database_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """Factory: an in-process kassa with a project of the given settings."""
    opened: list[Kassa] = []

    async def factory(probe: Any = None, **settings: Any) -> Kassa:
        kassa = await Kassa.open(database_url, tmp_path, ProjectSettings(**settings), probe=probe)
        opened.append(kassa)
        return kassa

    yield factory
    for kassa in opened:
        await kassa.ledger_ok()
        await kassa.close()
