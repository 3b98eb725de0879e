"""The public token contract on SQLite and PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

from public_token_contract import PublicTokenContract


class TestSqlPublicTokens(PublicTokenContract):
    """``SqlStore`` keeps public tokens and widget origins as the contract says."""
