"""Public tokens and the widget use cases on the in-memory fakes (no database, no HTTP)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from kassa.domain.card_form import check_card_form
from kassa.domain.errors import (
    CsrfMismatch,
    InvalidRequest,
    InvalidSessionStatus,
    PublicTokenExpired,
    PublicTokenNotFound,
    PublicTokenUsed,
    SessionNotFound,
    TooManyAttempts,
)
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.money import Money
from kassa.domain.operation import Awaiting
from kassa.domain.payment import PaymentStatus
from kassa.domain.project import Project, ProjectSettings
from kassa.domain.public_token import AcquiringWidget, TokenizeWidget, WidgetKind, hash_token
from kassa.domain.session import ApiVersion, SessionStatus
from kassa.service import public_tokens, session_actions, widgets
from kassa.service.commands import CreateSession, DraftInput, IssueToken, SessionAction
from kassa.service.deps import WidgetPolicy
from kassa.service.sessions import create_session
from kassa.testing import EPOCH_OF_TESTS, FrozenClock, InMemoryStore, fake_deps

if TYPE_CHECKING:
    from kassa.service.deps import Deps

CARD = {"number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123", "cardholder_name": "A"}


def shop(**settings: bool) -> Project:
    """A project with ``settings``."""
    return Project(
        id=new_id(IdPrefix.PROJECT),
        name="shop",
        public_keys=("pem",),
        created_at=EPOCH_OF_TESTS,
        settings=ProjectSettings(**settings),
    )


async def setup(**settings: bool) -> tuple[Deps, Project, InMemoryStore, FrozenClock]:
    """Deps over fakes with one project stored."""
    store, clock = InMemoryStore(), FrozenClock()
    deps = fake_deps(store=store, clock=clock)
    project = shop(**settings)
    await store.add_project(project)
    return deps, project, store, clock


async def new_session(deps: Deps, project: Project, **draft: Any) -> str:
    """A created session of 100.00 USD for customer ``c1`` (``draft`` overrides)."""
    values: dict[str, Any] = {"amount": Money(10000, "usd"), "customer": {"reference": "c1"}}
    values.update(draft)
    reply = await create_session(
        deps, CreateSession(project.id, ApiVersion.V1, DraftInput(**values))
    )
    return str(orjson.loads(reply.body)["session"]["id"])


async def issue(deps: Deps, cmd: IssueToken) -> str:
    """Issue and return the public token."""
    reply = await public_tokens.issue_token(deps, cmd)
    token = orjson.loads(reply.body)["public_token"]
    assert isinstance(token, str)
    return token


async def info(deps: Deps, project: Project, token: str) -> dict[str, Any]:
    """``token/info``'s ``info`` object."""
    reply = await public_tokens.token_info(deps, project.id, token)
    found: dict[str, Any] = orjson.loads(reply.body)["info"]
    return found


def card(**changes: str):
    """The checked test card (``changes`` to the form)."""
    checked = check_card_form({**CARD, **changes}, date(2026, 1, 1), want_cvc=True, want_name=True)
    assert checked.card is not None
    return checked.card


async def test_issued_token_is_64_hex_and_only_its_hash_is_stored():
    """The reply carries the token; the store holds its SHA-256 and never the token."""
    deps, project, store, clock = await setup()
    token = await issue(deps, IssueToken(project.id, tokenize=TokenizeWidget()))
    assert len(token) == 64
    assert int(token, 16) >= 0
    stored = await store.get_public_token(hash_token(token), project.id)
    assert stored is not None
    assert stored.expires_at == clock.now() + timedelta(hours=24)
    assert token not in repr(store.state)


async def test_a_token_request_without_a_widget_is_refused():
    """At least one widget object is required."""
    deps, project, store, _ = await setup()
    with pytest.raises(InvalidRequest, match="at least one of tokenize_widget"):
        await public_tokens.issue_token(deps, IssueToken(project.id))
    assert store.state.public_tokens == {}


async def test_an_acquiring_token_needs_a_created_session_of_this_project():
    """Another project's session is not found; a cancelled one is 409; nothing is stored."""
    deps, project, store, _ = await setup()
    other = shop()
    await store.add_project(other)
    sid = await new_session(deps, project)
    with pytest.raises(SessionNotFound):
        await issue(deps, IssueToken(other.id, acquiring=AcquiringWidget(sid)))
    await session_actions.cancel(deps, project, SessionAction(project.id, ApiVersion.V1, sid))
    with pytest.raises(InvalidSessionStatus, match="not created"):
        await issue(deps, IssueToken(project.id, acquiring=AcquiringWidget(sid)))
    assert store.state.public_tokens == {}


@pytest.mark.parametrize(
    ("draft", "missing"),
    [({"amount": None}, "amount_details"), ({"customer": {}}, "customer.reference")],
)
async def test_an_acquiring_token_needs_what_the_widget_cannot_ask(draft, missing):
    """The widget shows the amount and asks only for the card: both must be on the session."""
    deps, project, _, _ = await setup()
    sid = await new_session(deps, project, **draft)
    with pytest.raises(InvalidRequest, match=missing):
        await issue(deps, IssueToken(project.id, acquiring=AcquiringWidget(sid)))


async def test_fps_and_acquiring_widgets_must_name_one_session():
    """Two widgets bound to two different sessions in one token are refused."""
    deps, project, _, _ = await setup()
    first, second = await new_session(deps, project), await new_session(deps, project)
    cmd = IssueToken(project.id, acquiring=AcquiringWidget(first), fps_session_id=second)
    with pytest.raises(InvalidRequest, match=r"fps_no_account_widget\.session_id"):
        await issue(deps, cmd)
    with pytest.raises(SessionNotFound):
        await issue(deps, IssueToken(project.id, fps_session_id="ps_missing"))
    fps = await issue(deps, IssueToken(project.id, fps_session_id=second))
    assert (await info(deps, project, fps))["session_id"] == second


async def test_token_info_tells_validity_and_expiry():
    """Active with its expiry; inactive from the expiry on; another project's is unknown."""
    deps, project, store, clock = await setup()
    token = await issue(deps, IssueToken(project.id, tokenize=TokenizeWidget()))
    found = await info(deps, project, token)
    assert found == {
        "token": token,
        "type": "public_token",
        "is_active": True,
        "created_at": "2024-05-27T02:03:00.000000Z",
        "expires_at": "2024-05-28T02:03:00.000000Z",
        "widgets": ["tokenize_widget"],
    }
    clock.advance(timedelta(hours=24))
    assert (await info(deps, project, token))["is_active"] is False
    other = shop()
    await store.add_project(other)
    with pytest.raises(InvalidRequest, match=r"public_token\.token: no such public token"):
        await public_tokens.token_info(deps, other.id, token)


async def test_tokenize_vaults_the_card_and_uses_the_token_once():
    """The card is vaulted (never the CVC), the token used; token/info shows brand and last4."""
    deps, project, store, _ = await setup()
    token = await issue(deps, IssueToken(project.id, tokenize=TokenizeWidget()))
    found = await public_tokens.find_token(deps, token)
    opened = await public_tokens.open_widget(deps, found, WidgetKind.TOKENIZE)
    ref = await widgets.tokenize(deps, opened, card())
    entry = await store.get_vault_entry(project.id, ref.number_hash)
    assert entry is not None
    assert deps.vault.decrypt(entry.ciphertext) == "4242424242424242"
    # the hash and the id are random hex and may hold any three digits: look past them
    visible = replace(entry, project_id="-", card=replace(entry.card, number_hash="-"))
    assert "123" not in repr(visible)
    shown = await info(deps, project, token)
    assert (shown["is_active"], shown["brand"], shown["last4"]) == (False, "visa", "4242")
    assert shown["number_hash"] == ref.number_hash
    with pytest.raises(PublicTokenUsed):
        await public_tokens.open_widget(
            deps, await public_tokens.find_token(deps, token), WidgetKind.TOKENIZE
        )
    with pytest.raises(PublicTokenUsed):  # a post that opened the form before the first won
        await widgets.tokenize(deps, opened, card(number="5555555555554444"))
    assert len(store.state.vault) == 1


async def test_opening_refuses_unknown_expired_and_other_widgets_tokens():
    """Unknown and wrong-widget tokens are not found; past the lifetime they expired."""
    deps, project, _, clock = await setup()
    token = await issue(deps, IssueToken(project.id, tokenize=TokenizeWidget()))
    found = await public_tokens.find_token(deps, token)
    assert await public_tokens.find_token(deps, "0" * 64) is None
    with pytest.raises(PublicTokenNotFound):
        await public_tokens.open_widget(deps, None, WidgetKind.TOKENIZE)
    with pytest.raises(PublicTokenNotFound):
        await public_tokens.open_widget(deps, found, WidgetKind.ACQUIRING)
    clock.advance(timedelta(hours=24))
    with pytest.raises(PublicTokenExpired):
        await public_tokens.open_widget(deps, found, WidgetKind.TOKENIZE)


async def test_pay_starts_the_session_payment_and_uses_the_token():
    """Same path as session/start/payment: ready_to_confirm queued; the token is then used."""
    deps, project, store, _ = await setup()
    sid = await new_session(deps, project, payment_options={"return_url": "https://m.example"})
    token = await issue(deps, IssueToken(project.id, acquiring=AcquiringWidget(sid)))
    found = await public_tokens.find_token(deps, token)
    opened = await public_tokens.open_widget(deps, found, WidgetKind.ACQUIRING)
    paid = await widgets.pay(deps, opened, card(), recurrent=False, return_url="https://k/r")
    payment = paid.payment
    assert payment is not None
    assert (payment.status, payment.awaiting) == (PaymentStatus.PENDING, Awaiting.CONFIRM)
    assert payment.payment_options == {"return_url": "https://k/r"}
    assert [r.message.event_type for r in store.outbox()] == ["ready_to_confirm"]
    assert (await info(deps, project, token))["payment_id"] == payment.id
    with pytest.raises(PublicTokenUsed):
        await public_tokens.open_widget(
            deps, await public_tokens.find_token(deps, token), WidgetKind.ACQUIRING
        )
    again = replace(opened.token, used_at=None)
    with pytest.raises(InvalidSessionStatus):  # even an unused token cannot pay twice
        await public_tokens.open_widget(
            deps, public_tokens.FoundToken(again, project), WidgetKind.ACQUIRING
        )


@pytest.mark.parametrize(
    ("checkbox", "ticked", "merchant", "token_made"),
    [
        (True, True, False, True),
        (True, False, True, False),  # the customer's answer wins over the merchant's default
        (False, False, True, True),  # no checkbox: the merchant's options stand
        (False, True, False, False),  # a forged tick without the checkbox changes nothing
    ],
)
async def test_the_recurrent_checkbox_decides_the_recurrent_token(
    checkbox, ticked, merchant, token_made
):
    """``payment_options.recurrent`` follows the checkbox when it is shown."""
    deps, project, store, _ = await setup(auto_confirm=True)
    sid = await new_session(deps, project, payment_options={"recurrent": merchant})
    widget = AcquiringWidget(sid, show_recurrent_checkbox=checkbox)
    token = await issue(deps, IssueToken(project.id, acquiring=widget))
    opened = await public_tokens.open_widget(
        deps, await public_tokens.find_token(deps, token), WidgetKind.ACQUIRING
    )
    paid = await widgets.pay(deps, opened, card(), recurrent=ticked, return_url="https://k/r")
    assert paid.status is SessionStatus.ACCEPTED
    assert (paid.payments[0].recurrent is not None) is token_made
    assert bool(store.state.recurrent) is token_made


async def test_card_attempts_stop_at_the_policy_limit():
    """Five attempts per token by default, then ``TooManyAttempts``."""
    deps, project, _, _ = await setup()
    token = await issue(deps, IssueToken(project.id, tokenize=TokenizeWidget()))
    found = await public_tokens.find_token(deps, token)
    assert found is not None
    for _ in range(5):
        await public_tokens.take_card_attempt(deps, found.token)
    with pytest.raises(TooManyAttempts, match="more than 5"):
        await public_tokens.take_card_attempt(deps, found.token)


def test_the_form_token_belongs_to_one_public_token_and_one_deployment():
    """Right token and key: accepted; another token's, empty, or another key's: refused."""
    policy = WidgetPolicy()
    mine, theirs = hash_token("a"), hash_token("b")
    public_tokens.check_form_token(policy, mine, public_tokens.form_token(policy, mine))
    for given in ("", public_tokens.form_token(policy, theirs), "0" * 64):
        with pytest.raises(CsrfMismatch):
            public_tokens.check_form_token(policy, mine, given)
    elsewhere = public_tokens.form_token(WidgetPolicy(), mine)
    with pytest.raises(CsrfMismatch):
        public_tokens.check_form_token(policy, mine, elsewhere)


async def test_outcome_of_each_payment_state():
    """Success, failure, the 3DS link, or wait; a hold counts as success when asked."""
    deps, project, _, _ = await setup()
    widget = AcquiringWidget("ps_x")
    on_hold = replace(widget, success_on_hold=True)

    async def paid(number: str) -> Any:
        sid = await new_session(deps, project)
        token = await issue(deps, IssueToken(project.id, acquiring=replace(widget, session_id=sid)))
        opened = await public_tokens.open_widget(
            deps, await public_tokens.find_token(deps, token), WidgetKind.ACQUIRING
        )
        return await widgets.pay(deps, opened, card(number=number), recurrent=False, return_url="")

    held = await paid("4242424242424242")
    assert widgets.outcome(held, widget).outcome is widgets.Outcome.WAITING
    assert widgets.outcome(held, on_hold).outcome is widgets.Outcome.SUCCESS
    declined = await paid("4000000000000002")
    assert widgets.outcome(declined, widget).outcome is widgets.Outcome.FAILURE
    challenged = await paid("4000000000003220")
    result = widgets.outcome(challenged, on_hold)
    assert result.outcome is widgets.Outcome.ACTION
    assert result.action_url is not None
    assert "/3ds/" in result.action_url
    confirmed = await session_actions.confirm(
        deps, project, SessionAction(project.id, ApiVersion.V1, held.id)
    )
    session = await deps.store.get_session(
        project.id, orjson.loads(confirmed.body)["session"]["id"]
    )
    assert session is not None
    assert widgets.outcome(session, widget).outcome is widgets.Outcome.SUCCESS
