"""Recurrent tokens: created by a successful ``recurrent=true`` payment; active or disabled."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime  # noqa: TC003 - dataclass field type
from enum import StrEnum

from kassa.domain.errors import RecurrentTokenInactive


class Initiator(StrEnum):
    """Who starts a charge on a token: MIT (no customer) or CIT (customer passes 3DS)."""

    MERCHANT = "merchant"
    CLIENT = "client"


@dataclass(frozen=True, slots=True)
class RecurrentToken:
    """A project's token for charging a vaulted card again."""

    token: str
    project_id: str
    session_id: str
    payment_id: str
    number_hash: str
    created_at: datetime
    disabled_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        """True until ``recurrent/disable``."""
        return self.disabled_at is None

    def disable(self, now: datetime) -> RecurrentToken:
        """The token disabled at ``now`` (disabling twice keeps the first time)."""
        return self if self.disabled_at is not None else replace(self, disabled_at=now)

    def require_active(self) -> None:
        """Raise ``RecurrentTokenInactive`` for a disabled token."""
        if not self.is_active:
            msg = "payment_details.recurrent.token: the recurrent token is disabled"
            raise RecurrentTokenInactive(msg)
