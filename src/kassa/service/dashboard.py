"""The dashboard's use cases: every action through the API's own service code, audited.

An action names its project and target; a target another project holds (or none holds) is
``SessionNotFound``/``ProjectNotFound`` (404) before anything happens. ``audited`` writes one
audit row per attempt: who, from where, the action, the state before and after (JSON), and
the outcome (``ok`` or the error code the API would answer).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from kassa.domain.errors import InvalidRequest, KassaError, SessionNotFound
from kassa.domain.session import ApiVersion
from kassa.service import delivery, projects, queries, refunds, session_actions, wallet
from kassa.service.commands import CapturePayment, RefundPayment, SessionAction
from kassa.service.payments import capture_payment
from kassa.service.ports.dashboard import AuditEntry

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime

    from kassa.domain.money import Money
    from kassa.domain.project import Project
    from kassa.domain.session import PaymentSession
    from kassa.service.deps import Deps
    from kassa.service.ports.dashboard import AdminStore, DashboardReads
    from kassa.service.queries import LedgerReport

SESSION_ACTIONS = ("confirm", "cancel", "capture", "refund")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: the dashboard user and their address."""

    username: str
    address: str


def admin_of(deps: Deps) -> AdminStore:
    """The admin store (bootstrap always sets it for a served app)."""
    if deps.admin is None:  # pragma: no cover - wiring error
        msg = "the dashboard needs Deps.admin"
        raise RuntimeError(msg)
    return deps.admin


def reads_of(deps: Deps) -> DashboardReads:
    """The read side (bootstrap always sets it for a served app)."""
    if deps.dashboard is None:  # pragma: no cover - wiring error
        msg = "the dashboard needs Deps.dashboard"
        raise RuntimeError(msg)
    return deps.dashboard


def _json(value: Any) -> str:  # noqa: ANN401 - any JSON-able snapshot
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def key_fingerprint(pem: str) -> str:
    """A short fingerprint of a public key PEM (SHA-256 of its text, 16 hex digits)."""
    return hashlib.sha256(pem.strip().encode()).hexdigest()[:16]


def project_snapshot(project: Project) -> dict[str, Any]:
    """What the audit log keeps of a project."""
    return {
        "name": project.name,
        "webhook_url": project.webhook_url,
        "widget_origins": list(project.widget_origins),
        "settings": {
            "auto_confirm": project.settings.auto_confirm,
            "two_step_capture": project.settings.two_step_capture,
            "partial_refunds": project.settings.partial_refunds,
        },
        "keys": [key_fingerprint(k) for k in project.public_keys],
    }


def session_snapshot(session: PaymentSession) -> dict[str, Any]:
    """What the audit log keeps of a session: its status and each operation's."""
    ops: list[dict[str, Any]] = []
    for p in session.payments:
        ops.append({"id": p.id, "status": p.status.value, "captured": p.captured})
        ops += [{"id": r.id, "status": r.status.value, "amount": r.amount.minor} for r in p.refunds]
    ops += [{"id": p.id, "status": p.status.value} for p in session.payouts]
    return {"status": session.status.value, "operations": ops}


async def audited(
    deps: Deps,
    actor: Actor,
    *,
    action: str,
    project_id: str | None,
    target: str | None,
    before: Any,  # noqa: ANN401 - a JSON-able snapshot
    run: Callable[[], Awaitable[Any]],
) -> Any:  # noqa: ANN401 - the action's own result snapshot
    """Run the action and append its audit row, whatever the outcome; return ``run()``."""
    outcome, after = "ok", None
    try:
        after = await run()
    except KassaError as exc:
        outcome = exc.code
        raise
    finally:
        await admin_of(deps).add_audit(
            AuditEntry(
                at=deps.clock.now(),
                username=actor.username,
                address=actor.address,
                action=action,
                project_id=project_id,
                target=target,
                outcome=outcome,
                before=None if before is None else _json(before),
                after=None if after is None else _json(after),
            )
        )
    return after


async def session_of(deps: Deps, project_id: str, session_id: str) -> PaymentSession:
    """The project's session, else ``SessionNotFound`` (404; another project's too)."""
    found = await deps.store.get_session(project_id, session_id)
    if found is None:
        msg = f"no session {session_id} in project {project_id}"
        raise SessionNotFound(msg)
    return found


async def act_on_session(  # noqa: PLR0917 - the form's fields
    deps: Deps,
    actor: Actor,
    action: str,
    project_id: str,
    session_id: str,
    amount: Money | None = None,
) -> dict[str, Any]:
    """Confirm / cancel / capture / refund as the API does; the session's snapshot after."""
    project = await projects.load_project(deps.store, project_id)
    before = session_snapshot(await session_of(deps, project_id, session_id))
    version = ApiVersion.V1

    async def run() -> dict[str, Any]:
        if action == "refund":
            cmd = RefundPayment(project_id, version, session_id, amount=amount)
            await refunds.refund_payment(deps, project, cmd)
        elif action == "capture":
            await capture_payment(
                deps, project, CapturePayment(project_id, version, session_id, amount)
            )
        elif action == "confirm":
            await session_actions.confirm(
                deps, project, SessionAction(project_id, version, session_id)
            )
        elif action == "cancel":
            await session_actions.cancel(
                deps, project, SessionAction(project_id, version, session_id)
            )
        else:
            msg = f"unknown action {action}"
            raise InvalidRequest(msg)
        return session_snapshot(await session_of(deps, project_id, session_id))

    result: dict[str, Any] = await audited(
        deps, actor, action=action, project_id=project_id, target=session_id, before=before, run=run
    )
    return result


async def replay(deps: Deps, actor: Actor, project_id: str, delivery_id: int) -> int:
    """Queue the delivery again (the same signed bytes); the new delivery's id."""
    queue = reads_of(deps).deliveries
    found = await queue.get_delivery(delivery_id)
    if found is None or found.project_id != project_id:
        msg = f"no delivery {delivery_id} in project {project_id}"
        raise SessionNotFound(msg)
    before = {"delivery": found.id, "status": found.status.value, "event": found.event_type}

    async def run() -> dict[str, Any]:
        copy = await delivery.replay(queue, deps.clock, delivery_id)
        if copy is None:  # pragma: no cover - checked above
            raise SessionNotFound(str(delivery_id))
        return {"delivery": copy.id, "status": copy.status.value, "replay_of": delivery_id}

    after = await audited(
        deps,
        actor,
        action="replay",
        project_id=project_id,
        target=str(delivery_id),
        before=before,
        run=run,
    )
    return int(after["delivery"])


async def topup(deps: Deps, actor: Actor, project_id: str, amount: Money) -> dict[str, Any]:
    """Prefund the project's payout wallet; balances before and after."""
    await projects.load_project(deps.store, project_id)

    async def balance() -> dict[str, int]:
        return {m.currency: m.minor for m in await wallet.balances(deps.store, project_id)}

    before = await balance()

    async def run() -> dict[str, Any]:
        tx = await wallet.topup(deps.store, deps.clock, project_id, amount)
        return {"transaction": tx.id, "balances": await balance()}

    result: dict[str, Any] = await audited(
        deps,
        actor,
        action="topup",
        project_id=project_id,
        target=f"{amount.minor} {amount.currency}",
        before=before,
        run=run,
    )
    return result


async def change_project(
    deps: Deps,
    actor: Actor,
    action: str,
    project_id: str,
    change: Callable[[], Awaitable[Project]],
) -> Project:
    """Apply a project change (webhook URL, origins, settings, key) with its audit row."""
    before = project_snapshot(await projects.load_project(deps.store, project_id))
    changed: list[Project] = []

    async def run() -> dict[str, Any]:
        changed.append(await change())
        return project_snapshot(changed[0])

    await audited(
        deps, actor, action=action, project_id=project_id, target=project_id, before=before, run=run
    )
    return changed[0]


async def create_project(
    deps: Deps, actor: Actor, name: str, public_pem: str, webhook_url: str | None
) -> Project:
    """A new project with the uploaded partner public key."""
    made: list[Project] = []

    async def run() -> dict[str, Any]:
        made.append(
            await projects.create_project(
                deps.store,
                deps.verifier,
                deps.clock,
                name=name,
                public_pem=public_pem,
                webhook_url=webhook_url or None,
                allow_private_webhooks=deps.acquiring.sandbox,
            )
        )
        return {"project_id": made[0].id, **project_snapshot(made[0])}

    await audited(
        deps, actor, action="create_project", project_id=None, target=name, before=None, run=run
    )
    return made[0]


class LedgerCheckCache:
    """``kassa ledger check`` for the overview: in the background, at most once per ``ttl``.

    The check replays every posting and session, which takes seconds at a million sessions,
    so a page never waits for it: ``report`` answers the last finished check (None before the
    first) and starts a fresh one when that is older than ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        """Keep a report for ``ttl`` seconds."""
        self.ttl = ttl
        self._clock = clock
        self._at = -ttl
        self._report: LedgerReport | None = None
        self._running: asyncio.Task[None] | None = None
        self.checked_at: datetime | None = None  # when the shown report finished

    async def _check(self, deps: Deps) -> None:
        self._report = await queries.check_ledger(deps.store, deps.processor)
        self.checked_at = deps.clock.now()

    def report(self, deps: Deps) -> LedgerReport | None:
        """The last finished report; a fresh check starts when it is older than ``ttl``."""
        now = self._clock()
        idle = self._running is None or self._running.done()
        if idle and (self._report is None or now - self._at >= self.ttl):
            self._at = now
            self._running = asyncio.get_running_loop().create_task(self._check(deps))
        return self._report

    async def settled(self) -> LedgerReport | None:
        """Wait for a running check (tests, and the first overview of a small deployment)."""
        if self._running is not None:
            await asyncio.shield(self._running)
        return self._report
