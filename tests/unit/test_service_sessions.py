"""``service/sessions.py`` on in-memory fakes: create stores and vaults, status reads back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import orjson
import pytest

from kassa.domain.errors import InvalidRequest, SessionNotFound
from kassa.domain.money import Money
from kassa.domain.project import Project
from kassa.domain.session import ApiVersion, SessionStatus
from kassa.service import sessions, wire
from kassa.service.commands import (
    BankCardInput,
    CardInput,
    CreateSession,
    DraftInput,
    GetSession,
    MethodInput,
)
from kassa.service.idempotency import _CLAIM
from kassa.service.ports import IdempotencyClaim, IdempotencyRecord, IdempotencyState
from kassa.testing import EPOCH_OF_TESTS, FakeVault, FrozenClock, InMemoryStore, fake_deps

PAN = "4242424242424242"


@pytest.fixture
def store() -> InMemoryStore:
    """An empty fake database with two projects."""
    s = InMemoryStore()
    for pid in ("pj_a", "pj_b"):
        s.state.projects[pid] = Project(pid, pid, (), EPOCH_OF_TESTS)
        s.state.keys[pid] = []
    return s


@pytest.fixture
def clock() -> FrozenClock:
    """Time stands at the test epoch."""
    return FrozenClock()


@pytest.fixture
def deps(store, clock):
    """Handlers' dependencies made of fakes."""
    return fake_deps(store=store, clock=clock)


def card(number: str = PAN, **kw) -> CardInput:
    """A clear card instrument as the API edge builds it."""
    values = {"expiration_month": "5", "expiration_year": "2030", "security_code": "123"}
    values.update(kw)
    return CardInput(bank_card=BankCardInput(number=number, **values))


def create(draft: DraftInput, project: str = "pj_a", version: ApiVersion = ApiVersion.V1):
    """A ``session/create`` command."""
    return CreateSession(project_id=project, api_version=version, draft=draft)


async def test_create_stores_a_created_session_at_the_clock_time(deps, store, clock):
    """The new session is ``created``, ``ps_``-prefixed, stamped by the clock, version 0."""
    reply = await sessions.create_session(deps, create(DraftInput(amount=Money(100, "usd"))))
    assert reply.status == 200
    stored = await store.get_session("pj_a", reply.session_id)
    assert stored is not None
    assert stored.id.startswith("ps_")
    assert stored.status is SessionStatus.CREATED
    assert stored.created_at == stored.updated_at == clock.now()
    assert stored.draft.amount == Money(100, "usd")
    assert reply.body == wire.session_reply(stored, ApiVersion.V1)


async def test_reply_is_the_protocol_envelope(deps):
    """The reply body is ``{"status":"ok","session":{id,status,created_at,updated_at,…}}``."""
    reply = await sessions.create_session(deps, create(DraftInput()))
    body = orjson.loads(reply.body)
    assert body == {
        "status": "ok",
        "session": {
            "id": reply.session_id,
            "status": "created",
            "created_at": "2024-05-27T02:03:00.000000Z",
            "updated_at": "2024-05-27T02:03:00.000000Z",
        },
    }


async def test_card_is_vaulted_and_only_masked_data_is_kept(deps, store):
    """A clear card goes to the vault encrypted; the session keeps brand, last4, bin, expiry."""
    reply = await sessions.create_session(
        deps, create(DraftInput(payment_details=card(cardholder_name="HELEN ADAMS")))
    )
    stored = await store.get_session("pj_a", reply.session_id)
    ref = stored.draft.payment_details.card
    assert (ref.brand, ref.last4, ref.bin) == ("visa", "4242", "424242")
    assert (ref.expiration_month, ref.expiration_year) == ("05", "30")
    entry = await store.get_vault_entry("pj_a", ref.number_hash)
    assert entry is not None
    assert PAN.encode() not in entry.ciphertext
    assert FakeVault().decrypt(entry.ciphertext) == PAN
    assert orjson.loads(reply.body)["session"]["payment_details"] == {
        "type": "card",
        "card": {"brand": "visa", "last4": "4242", "bin": "424242"},
    }
    assert PAN not in repr(store.state.sessions)
    shown = orjson.dumps(wire.session_object(stored, ApiVersion.V1)).decode()
    assert "123" not in shown.replace(reply.session_id, "-")  # a random id may hold any digits


async def test_same_card_twice_is_vaulted_once(deps, store):
    """Two sessions with one card share one vault entry (same ``number_hash``)."""
    for _ in range(2):
        await sessions.create_session(deps, create(DraftInput(payment_details=card())))
    assert len(store.state.vault) == 1


async def test_vaulted_card_is_used_by_its_number_hash(deps, store):
    """An ``encrypted_card`` names a card of the project's vault by ``number_hash``."""
    first = await sessions.create_session(deps, create(DraftInput(payment_details=card())))
    ref = (await store.get_session("pj_a", first.session_id)).draft.payment_details.card
    by_hash = CardInput(number_hash=ref.number_hash)
    second = await sessions.create_session(deps, create(DraftInput(payout_details=by_hash)))
    assert (await store.get_session("pj_a", second.session_id)).draft.payout_details.card == ref


async def test_another_projects_number_hash_is_refused(deps, store):
    """A ``number_hash`` from project A's vault is unknown to project B; nothing is written."""
    first = await sessions.create_session(deps, create(DraftInput(payment_details=card())))
    ref = (await store.get_session("pj_a", first.session_id)).draft.payment_details.card
    commits = store.commits
    by_hash = CardInput(number_hash=ref.number_hash)
    with pytest.raises(InvalidRequest, match=r"^payment_method\.card\.encrypted_card\.number_hash"):
        await sessions.create_session(deps, create(DraftInput(payout_details=by_hash), "pj_b"))
    assert store.commits == commits


@pytest.mark.parametrize(
    ("version", "field"),
    [(ApiVersion.V1, "payment_method"), (ApiVersion.V2, "payout_details")],
)
async def test_bad_card_is_refused_naming_the_versions_field(deps, store, version, field):
    """A Luhn-invalid payout card is named with the API version's field; nothing is stored."""
    draft = DraftInput(payout_details=card("4242424242424241"))
    with pytest.raises(InvalidRequest, match=rf"^{field}\.card\.bank_card\.number: .*Luhn"):
        await sessions.create_session(deps, create(draft, version=version))
    assert store.commits == 0
    assert store.state.vault == {}


async def test_bad_expiry_is_refused(deps, store):
    """Month 13 is refused naming the field; the card is not vaulted."""
    with pytest.raises(InvalidRequest, match=r"payment_details\.card\.bank_card\.expiration_month"):
        await sessions.create_session(
            deps, create(DraftInput(payment_details=card(expiration_month="13")))
        )
    assert store.state.vault == {}


async def test_other_instruments_are_kept_as_given(deps, store):
    """Non-card instruments keep their validated wire data and echo it with the type."""
    wallet = MethodInput(type="wallet", data={"wallet": {"type": "qiwi", "account": "79"}})
    reply = await sessions.create_session(
        deps, create(DraftInput(payout_details=wallet), version=ApiVersion.V2)
    )
    assert orjson.loads(reply.body)["session"]["payout_details"] == {
        "type": "wallet",
        "wallet": {"type": "qiwi", "account": "79"},
    }


@pytest.mark.parametrize(("metadata", "given"), [(False, True), (0, True), (None, False)])
async def test_metadata_is_echoed_when_given_even_if_falsy(deps, metadata, given):
    """``false`` and ``0`` metadata are echoed; absent metadata is omitted, never null."""
    draft = DraftInput(metadata=metadata, has_metadata=given)
    session = orjson.loads((await sessions.create_session(deps, create(draft))).body)
    assert ("metadata" in session["session"]) is given
    if given:
        assert session["session"]["metadata"] == metadata


async def test_claim_is_completed_in_the_same_commit(deps, store, clock):
    """With an idempotency claim, the reply is stored by the commit that stores the session."""
    record = IdempotencyRecord(
        "pj_a",
        "k",
        "fp",
        IdempotencyState.RUNNING,
        "me",
        clock.now() + timedelta(seconds=60),
        clock.now() + timedelta(hours=1),
    )
    assert await store.claim_idempotency(record, clock.now()) is None
    commits = store.commits
    token = _CLAIM.set(IdempotencyClaim("pj_a", "k", "me"))  # as run_idempotent does
    try:
        reply = await sessions.create_session(deps, create(DraftInput()))
    finally:
        _CLAIM.reset(token)
    assert store.commits == commits + 1
    done = store.state.idempotency["pj_a", "k"]
    assert (done.state, done.response_status, done.response_body) == (
        IdempotencyState.DONE,
        200,
        reply.body,
    )


async def test_status_returns_the_same_session(deps):
    """``session/status`` answers the bytes ``session/create`` answered for a fresh session."""
    created = await sessions.create_session(deps, create(DraftInput(payment_details=card())))
    status = await sessions.session_status(
        deps, GetSession("pj_a", ApiVersion.V1, created.session_id)
    )
    assert status.body == created.body


async def test_status_speaks_the_requested_version(deps, store):
    """A v2 status call names the payout destination ``payout_details``."""
    created = await sessions.create_session(deps, create(DraftInput(payout_details=card())))
    v2 = await sessions.session_status(deps, GetSession("pj_a", ApiVersion.V2, created.session_id))
    session = orjson.loads(v2.body)["session"]
    assert "payout_details" in session
    assert "payment_method" not in session


async def test_status_of_another_projects_session_is_not_found(deps):
    """Project B asking for project A's session gets the same error as for a missing id."""
    created = await sessions.create_session(deps, create(DraftInput()))
    with pytest.raises(SessionNotFound) as foreign:
        await sessions.session_status(deps, GetSession("pj_b", ApiVersion.V1, created.session_id))
    with pytest.raises(SessionNotFound) as missing:
        await sessions.session_status(deps, GetSession("pj_b", ApiVersion.V1, "ps_nope"))
    assert foreign.value.description.replace(created.session_id, "X") == (
        missing.value.description.replace("ps_nope", "X")
    )


async def test_status_reflects_later_changes(deps, store, clock):
    """Status reads the stored aggregate, not a cached reply."""
    created = await sessions.create_session(deps, create(DraftInput()))
    stored = await store.get_session("pj_a", created.session_id)
    later = clock.advance(timedelta(minutes=1))
    async with store.unit_of_work() as uow:
        uow.update_session(replace(stored.transition_to(SessionStatus.IN_PROGRESS, later)))
        await uow.commit()
    status = await sessions.session_status(
        deps, GetSession("pj_a", ApiVersion.V1, created.session_id)
    )
    body = orjson.loads(status.body)["session"]
    assert body["status"] == "in_progress"
    assert body["updated_at"] == "2024-05-27T02:04:00.000000Z"
