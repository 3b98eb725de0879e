"""The delivery-queue contract on the real adapters: SQLite and PostgreSQL (``store`` fixture)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from delivery_contract import DeliveryContract

if TYPE_CHECKING:
    from kassa.adapters.db.deliveries import SqlDeliveries
    from kassa.adapters.db.store import SqlStore


class TestSqlDeliveriesContract(DeliveryContract):
    """``SqlStore.deliveries`` over each driver keeps the delivery-queue contract."""

    def deliveries(self, store: SqlStore) -> SqlDeliveries:
        """The store's delivery queue."""
        return store.deliveries
