"""The widgets' part of ``InMemoryStore``: public tokens and projects' widget origins.

Mixed into ``InMemoryUnitOfWork`` and ``InMemoryStore`` (``memory_store.py``), held to the same
contract as the SQL stores (``tests/public_token_contract.py``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kassa.domain.errors import PublicTokenUsed

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from kassa.domain.json import JSONObject
    from kassa.domain.public_token import PublicToken
    from kassa.testing.memory_uow import MemoryState


class TokenWrites:
    """Unit-of-work writes of public tokens."""

    _writes: list[Callable[[MemoryState], None]]

    def add_public_token(self, token: PublicToken) -> None:
        """Insert a public token (a duplicate hash fails the commit)."""

        def write(state: MemoryState) -> None:
            if token.token_hash in state.public_tokens:
                msg = "duplicate public token"
                raise ValueError(msg)
            state.public_tokens[token.token_hash] = token

        self._writes.append(write)

    def use_public_token(self, token_hash: str, used_at: datetime, result: JSONObject) -> None:
        """Mark the token used once; a second use fails the commit."""

        def write(state: MemoryState) -> None:
            stored = state.public_tokens.get(token_hash)
            if stored is None or stored.used_at is not None:
                msg = "the public token was already used"
                raise PublicTokenUsed(msg)
            state.public_tokens[token_hash] = replace(stored, used_at=used_at, result=result)

        self._writes.append(write)


class TokenReads:
    """Store methods of public tokens and widget origins."""

    state: MemoryState

    def apply(self, writes: list[Callable[[MemoryState], None]]) -> None:
        """Run ``writes`` as one transaction (``InMemoryStore.apply``)."""
        raise NotImplementedError

    async def get_public_token(
        self, token_hash: str, project_id: str | None = None
    ) -> PublicToken | None:
        """The token by hash (within ``project_id`` when given)."""
        found = self.state.public_tokens.get(token_hash)
        if found is None or (project_id is not None and found.project_id != project_id):
            return None
        return found

    async def take_card_attempt(self, token_hash: str, limit: int) -> bool:
        """Count one card attempt while fewer than ``limit`` were made."""
        stored = self.state.public_tokens.get(token_hash)
        if stored is None or stored.card_attempts >= limit:
            return False

        def write(state: MemoryState) -> None:
            current = state.public_tokens[token_hash]
            state.public_tokens[token_hash] = replace(
                current, card_attempts=current.card_attempts + 1
            )

        self.apply([write])
        return True

    async def set_widget_origins(self, project_id: str, origins: tuple[str, ...]) -> bool:
        """Set the widget origins; False if there is no such project."""
        if project_id not in self.state.projects:
            return False

        def write(state: MemoryState) -> None:
            state.projects[project_id] = replace(state.projects[project_id], widget_origins=origins)

        self.apply([write])
        return True
