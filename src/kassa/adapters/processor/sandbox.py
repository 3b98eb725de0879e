"""The sandbox acquirer: deterministic answers from the test-card table, no network.

It honours the operation-scoped key as a real acquirer does: the first call with a key acts
and is written to its journal (``processor_calls``, or memory in the tests); a repeated key
gets the journalled answer and acts again never; the same key with another request is refused.
It sees a card number only inside an ``AuthorizationRequest`` and journals none: no number, no
CVC. References (``rrn``, ``auth_code``) are derived from the operation id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from kassa.adapters.processor.rules import (
    FPS_BANKS,
    decide,
    fps_registered,
    needs_challenge,
    payout_decision,
    references,
)
from kassa.domain.errors import InternalError
from kassa.domain.money import Money
from kassa.domain.refund import TransactionInfo
from kassa.service.ports import (
    Authorization,
    Decision,
    FpsBank,
    Outcome,
    PayoutAnswer,
    ProcessorRecord,
    RefundAnswer,
)

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.service.ports import AuthorizationRequest, Clock, PayoutRequest

DONE = "done"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One call the sandbox acted on, with the answer it gave (JSON object)."""

    key: str
    kind: str
    operation_id: str
    amount: int
    currency: str
    answer: dict[str, Any]
    created_at: datetime


class Journal(Protocol):
    """The sandbox's own storage of what it did, keyed by the call key."""

    async def remember(self, entry: JournalEntry) -> JournalEntry:
        """Store ``entry`` unless its key is taken; return the entry stored under the key."""
        ...

    async def entries(self) -> list[JournalEntry]:
        """Every entry, oldest first."""
        ...


class MemoryJournal:
    """A journal in a dict (for tests and one-process use)."""

    def __init__(self) -> None:
        """Empty."""
        self._by_key: dict[str, JournalEntry] = {}

    async def remember(self, entry: JournalEntry) -> JournalEntry:
        """First writer of a key wins."""
        return self._by_key.setdefault(entry.key, entry)

    async def entries(self) -> list[JournalEntry]:
        """In insertion order."""
        return list(self._by_key.values())


def _info(answer: dict[str, Any]) -> TransactionInfo | None:
    rrn, code = answer.get("rrn"), answer.get("auth_code")
    return TransactionInfo(rrn, code) if isinstance(rrn, str) and isinstance(code, str) else None


class SandboxProcessor:
    """``service.ports.Processor`` following ``kassa.adapters.processor.rules``."""

    def __init__(self, clock: Clock, journal: Journal | None = None) -> None:
        """Decide expiry against ``clock``; journal calls in ``journal`` (memory by default)."""
        self._clock = clock
        self.journal = journal or MemoryJournal()

    async def _act(
        self, key: str, kind: str, operation_id: str, amount: Money, answer: dict[str, Any]
    ) -> dict[str, Any]:
        entry = JournalEntry(
            key, kind, operation_id, amount.minor, amount.currency, answer, self._clock.now()
        )
        stored = await self.journal.remember(entry)
        same = (stored.kind, stored.operation_id, stored.amount, stored.currency)
        if same != (kind, operation_id, amount.minor, amount.currency):
            msg = f"processor key {key} was used for another request"
            raise InternalError(msg)
        return stored.answer

    async def authorize(self, key: str, request: AuthorizationRequest) -> Authorization:
        """Approve, ask for 3DS, or decline, by the card number and expiry."""
        decision = decide(
            request.pan,
            month=request.expiration_month,
            year=request.expiration_year,
            today=self._clock.now().date(),
            challenge=needs_challenge(request.pan, initiator=request.initiator),
            three_ds_passed=request.three_ds_passed,
        )
        answer: dict[str, Any] = {"outcome": decision.outcome.value}
        if decision.code is not None:
            answer |= {"code": decision.code, "description": decision.description}
        if decision.outcome is Outcome.APPROVED:
            rrn, auth_code = references(request.operation_id)
            answer |= {"rrn": rrn, "auth_code": auth_code}
        stored = await self._act(key, "authorize", request.operation_id, request.amount, answer)
        first = Decision(Outcome(stored["outcome"]), stored.get("code"), stored.get("description"))
        return Authorization(first, _info(stored))

    async def capture(self, key: str, operation_id: str, amount: Money) -> None:
        """Captures always succeed in the sandbox."""
        await self._act(key, "capture", operation_id, amount, {"outcome": DONE})

    async def release(self, key: str, operation_id: str, amount: Money) -> None:
        """Releases always succeed in the sandbox."""
        await self._act(key, "release", operation_id, amount, {"outcome": DONE})

    async def refund(self, key: str, operation_id: str, amount: Money) -> RefundAnswer:
        """Refunds always succeed in the sandbox."""
        rrn, auth_code = references(f"{operation_id}:refund:{amount.minor}")
        answer = {"outcome": "accepted", "rrn": rrn, "auth_code": auth_code}
        stored = await self._act(key, "refund", operation_id, amount, answer)
        return RefundAnswer(stored["outcome"] == "accepted", _info(stored))

    async def payout(self, key: str, request: PayoutRequest) -> PayoutAnswer:
        """Pay out, or refuse by the sandbox rules (``rules.payout_decision``)."""
        refused = payout_decision(request.kind.value, request.identifier)
        answer: dict[str, Any] = {"outcome": "declined" if refused else "accepted"}
        if refused:
            answer |= {"code": refused[0], "description": refused[1]}
        else:
            rrn, auth_code = references(request.operation_id)
            answer |= {"rrn": rrn, "auth_code": auth_code}
        stored = await self._act(key, "payout", request.operation_id, request.amount, answer)
        return PayoutAnswer(
            stored["outcome"] == "accepted",
            _info(stored),
            stored.get("code"),
            stored.get("description"),
        )

    async def verify_fps(self, key: str, operation_id: str, phone: str, bank_id: str) -> bool:
        """Registered unless the phone ends in 0000 (``bank_id`` was checked against the list)."""
        del bank_id
        outcome = "registered" if fps_registered(phone) else "unregistered"
        zero = Money(0, "rub")
        stored = await self._act(key, "verify", operation_id, zero, {"outcome": outcome})
        return bool(stored["outcome"] == "registered")

    async def fps_banks(self) -> list[FpsBank]:
        """The sandbox's fixed FPS bank list."""
        return [FpsBank(*bank) for bank in FPS_BANKS]

    async def chargeback(self, key: str, operation_id: str, amount: Money) -> TransactionInfo:
        """Simulate the scheme charging ``amount`` of the payment back."""
        rrn, auth_code = references(key)
        answer = {"outcome": "accepted", "rrn": rrn, "auth_code": auth_code}
        stored = await self._act(key, "chargeback", operation_id, amount, answer)
        return _info(stored) or TransactionInfo(rrn, auth_code)

    async def records(self) -> list[ProcessorRecord]:
        """The journal as the processor's record of what it did."""
        return [
            ProcessorRecord(
                e.key, e.kind, e.operation_id, e.amount, e.currency, str(e.answer["outcome"])
            )
            for e in await self.journal.entries()
        ]
