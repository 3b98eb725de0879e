"""Read side for the CLI and dashboard: ledger invariants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kassa.domain.ledger import violations

if TYPE_CHECKING:
    from kassa.service.ports import Store


@dataclass(frozen=True, slots=True)
class LedgerReport:
    """What ``kassa ledger check`` found."""

    postings: int
    transactions: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        """True when every invariant holds."""
        return not self.problems


async def check_ledger(store: Store) -> LedgerReport:
    """Replay every posting and check the ledger's invariants."""
    entries = await store.ledger_entries()
    return LedgerReport(
        postings=len(entries),
        transactions=len({e.transaction_id for e in entries}),
        problems=violations(entries),
    )
