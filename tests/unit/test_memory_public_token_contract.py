"""The public token contract on ``kassa.testing.InMemoryStore``."""

from __future__ import annotations

import pytest

from kassa.testing import InMemoryStore
from public_token_contract import PublicTokenContract


class TestMemoryPublicTokens(PublicTokenContract):
    """The fake keeps public tokens and widget origins like the SQL stores."""

    @pytest.fixture
    def store(self) -> InMemoryStore:
        """A fresh fake database."""
        return InMemoryStore()
