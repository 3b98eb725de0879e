"""The delivery-queue contract on ``kassa.testing.InMemoryDeliveries``, so the fake cannot drift."""

from __future__ import annotations

import pytest

from delivery_contract import DeliveryContract
from kassa.testing import InMemoryDeliveries, InMemoryStore


class TestInMemoryDeliveriesContract(DeliveryContract):
    """The in-memory fake keeps the same contract as the SQL delivery queue."""

    @pytest.fixture
    def store(self) -> InMemoryStore:
        """A fresh fake database."""
        return InMemoryStore()

    def deliveries(self, store: InMemoryStore) -> InMemoryDeliveries:
        """A fake delivery queue over ``store`` (kept per store, as ``SqlStore.deliveries``)."""
        if not hasattr(store, "_deliveries"):
            store._deliveries = InMemoryDeliveries(store)  # type: ignore[attr-defined]
        return store._deliveries  # type: ignore[attr-defined]
