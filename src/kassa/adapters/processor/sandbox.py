"""The sandbox acquirer: deterministic answers from the test-card table, no network.

It sees a card number only inside an ``AuthorizationRequest`` and keeps nothing: no number, no
CVC. References (``rrn``, ``auth_code``) are derived from the operation id, so a replay of the
same operation gets the same ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.adapters.processor.rules import decide, needs_challenge, references
from kassa.domain.refund import TransactionInfo
from kassa.service.ports import Authorization, Outcome

if TYPE_CHECKING:
    from kassa.domain.money import Money
    from kassa.service.ports import AuthorizationRequest, Clock


class SandboxProcessor:
    """``service.ports.Processor`` following ``kassa.adapters.processor.rules``."""

    def __init__(self, clock: Clock) -> None:
        """Decide expiry against ``clock``."""
        self._clock = clock

    async def authorize(self, request: AuthorizationRequest) -> Authorization:
        """Approve, ask for 3DS, or decline, by the card number and expiry."""
        decision = decide(
            request.pan,
            month=request.expiration_month,
            year=request.expiration_year,
            today=self._clock.now().date(),
            challenge=needs_challenge(request.pan, initiator=request.initiator),
            three_ds_passed=request.three_ds_passed,
        )
        if decision.outcome is not Outcome.APPROVED:
            return Authorization(decision)
        return Authorization(decision, TransactionInfo(*references(request.operation_id)))

    async def capture(self, operation_id: str, amount: Money) -> None:
        """Captures always succeed in the sandbox."""
        del operation_id, amount

    async def release(self, operation_id: str, amount: Money) -> None:
        """Releases always succeed in the sandbox."""
        del operation_id, amount

    async def refund(self, operation_id: str, amount: Money) -> TransactionInfo:
        """Refunds always succeed in the sandbox."""
        return TransactionInfo(*references(f"{operation_id}:refund:{amount.minor}"))
