"""The sandbox demo shop behind ``/demo``: a fresh session and two public tokens per visit.

It calls the same use cases as the API (``session/create``, ``token``), as a merchant's
server would over signed requests, so the page shows exactly what an integration gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from kassa.domain.errors import ProjectNotFound
from kassa.domain.money import Money
from kassa.domain.public_token import AcquiringWidget, TokenizeWidget
from kassa.domain.session import ApiVersion
from kassa.service.commands import CreateSession, DraftInput, IssueToken
from kassa.service.public_tokens import issue_token
from kassa.service.sessions import create_session

if TYPE_CHECKING:
    from kassa.domain.project import Project
    from kassa.service.deps import Deps

DEMO_PROJECT = "demo"  # the name ``kassa serve --demo`` gives its project
DEMO_AMOUNT = Money(1000, "usd")


@dataclass(frozen=True, slots=True)
class DemoCheckout:
    """What the demo page embeds: one session to pay, one card to save."""

    project: Project
    session_id: str
    amount: Money
    pay_token: str
    tokenize_token: str


async def demo_project(deps: Deps, project_id: str) -> Project:
    """``project_id``'s project, or the oldest project named ``demo``."""
    if project_id:
        found = await deps.store.get_project(project_id)
    else:
        named = [p for p in await deps.store.list_projects() if p.name == DEMO_PROJECT]
        found = named[0] if named else None
    if found is None:
        msg = "no demo project: start kassa with `kassa serve --demo` or pass ?project_id="
        raise ProjectNotFound(msg)
    return found


async def demo_checkout(deps: Deps, project_id: str, locale: str = "en") -> DemoCheckout:
    """A new created session of ``DEMO_AMOUNT`` with an acquiring and a tokenize token."""
    project = await demo_project(deps, project_id)
    draft = DraftInput(
        amount=DEMO_AMOUNT,
        customer={"reference": "demo-customer"},
        metadata="kassa demo shop",
        has_metadata=True,
    )
    created = await create_session(deps, CreateSession(project.id, ApiVersion.V1, draft))
    session_id = str(orjson.loads(created.body)["session"]["id"])
    paying = IssueToken(
        project.id,
        acquiring=AcquiringWidget(
            session_id=session_id,
            locale=locale,
            show_recurrent_checkbox=True,
            success_on_hold=True,  # authorised is done for the customer; the shop confirms
        ),
    )
    saving = IssueToken(project.id, tokenize=TokenizeWidget(locale=locale))
    pay = orjson.loads((await issue_token(deps, paying)).body)["public_token"]
    save = orjson.loads((await issue_token(deps, saving)).body)["public_token"]
    return DemoCheckout(project, session_id, DEMO_AMOUNT, str(pay), str(save))
