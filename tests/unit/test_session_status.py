"""The session status machine: one transition table, one guard, terminal states stay put."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from kassa.domain.errors import InvalidSessionStatus
from kassa.domain.session import NEXT, ApiVersion, PaymentSession, SessionDraft, SessionStatus

T0 = datetime(2024, 5, 27, 2, 3, tzinfo=UTC)
T1 = T0 + timedelta(seconds=5)
S = SessionStatus

ALLOWED = {
    (S.CREATED, S.IN_PROGRESS),
    (S.CREATED, S.CANCELLED),
    (S.IN_PROGRESS, S.ACCEPTED),
    (S.IN_PROGRESS, S.CANCELLED),
    (S.IN_PROGRESS, S.ERROR),
    (S.ACCEPTED, S.IN_PROGRESS),
    (S.ERROR, S.ACCEPTED),
    (S.ERROR, S.CANCELLED),
}


def _session(status: SessionStatus) -> PaymentSession:
    return PaymentSession(
        id="ps_1",
        project_id="pj_1",
        api_version=ApiVersion.V1,
        status=status,
        created_at=T0,
        updated_at=T0,
        draft=SessionDraft(),
    )


def test_table_lists_every_status():
    """Every status has a row, so no state is a dead end by omission."""
    assert set(NEXT) == set(SessionStatus)


def test_table_is_the_documented_machine():
    """The table allows exactly the documented moves (protocol §5.2)."""
    assert {(a, b) for a, nexts in NEXT.items() for b in nexts} == ALLOWED


@pytest.mark.parametrize(("old", "new"), sorted(ALLOWED))
def test_allowed_move_changes_status_and_time(old, new):
    """An allowed move returns a new session with the new status and ``updated_at``."""
    moved = _session(old).transition_to(new, T1)
    assert (moved.status, moved.updated_at) == (new, T1)
    assert moved.created_at == T0


@pytest.mark.parametrize(
    ("old", "new"),
    sorted(set(product(SessionStatus, SessionStatus)) - ALLOWED),
)
def test_illegal_move_raises_naming_both_states(old, new):
    """Any other move raises ``InvalidSessionStatus`` naming the current and asked state."""
    with pytest.raises(InvalidSessionStatus, match=f"from {old} to {new}"):
        _session(old).transition_to(new, T1)


def test_cancelled_is_terminal():
    """Nothing leaves ``cancelled``."""
    assert NEXT[S.CANCELLED] == frozenset()


@pytest.mark.parametrize("final", [S.ACCEPTED, S.CANCELLED])
def test_finishing_stamps_finished_at(final):
    """Reaching accepted or cancelled sets ``finished_at``."""
    start = S.IN_PROGRESS
    assert _session(start).transition_to(final, T1).finished_at == T1


def test_reopening_clears_finished_at():
    """A new operation on an accepted session (accepted → in_progress) is not finished."""
    done = _session(S.IN_PROGRESS).transition_to(S.ACCEPTED, T0)
    assert done.transition_to(S.IN_PROGRESS, T1).finished_at is None


def test_transition_leaves_the_original_untouched():
    """Sessions are immutable: the move returns a copy."""
    original = _session(S.CREATED)
    original.transition_to(S.IN_PROGRESS, T1)
    assert original.status is S.CREATED
