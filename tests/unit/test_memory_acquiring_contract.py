"""The acquiring store contract on ``kassa.testing.InMemoryStore``."""

from __future__ import annotations

import pytest

from acquiring_store_contract import AcquiringStoreContract
from kassa.testing import InMemoryStore


class TestMemoryAcquiringStore(AcquiringStoreContract):
    """The fake keeps payments, ledger and tokens like the SQL stores."""

    @pytest.fixture
    def store(self) -> InMemoryStore:
        """A fresh fake database."""
        return InMemoryStore()
