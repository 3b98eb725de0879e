"""The acquiring store contract on SQLite and PostgreSQL."""

from __future__ import annotations

from acquiring_store_contract import AcquiringStoreContract


class TestSqlAcquiringStore(AcquiringStoreContract):
    """``SqlStore`` keeps payments, ledger and tokens as the contract says."""
