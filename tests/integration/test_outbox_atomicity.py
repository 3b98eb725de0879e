"""Every announced state change writes its webhook in the state change's own transaction.

Each case drives one code path that emits a webhook (the API handlers, the 3DS page, the
timeout sweeper, a sandbox chargeback) on SQLite and PostgreSQL. The write batch that carries
the outbox row is made to fail at its very end: afterwards neither that state change, nor its
postings, nor the outbox row exist. What may survive is an operation's committed *intent*
(in progress, waiting on its processor call; no webhook, no posting of its own): then the
recovery sweeper finishes it, else the path is run again without the fault. Either way exactly
one new outbox row is committed, of the expected type, whose session is the state committed.

A path that wrote its outbox row in a transaction of its own (or sent directly) fails here:
either the fault never fires, or the state change survives it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest

import kassa
from acquiring_kit import Kassa, init_body
from kassa.adapters.db.driver import Stmt
from kassa.domain.errors import InternalError, KassaError
from kassa.domain.project import ProjectSettings
from kassa.service.commands import ThreeDsAnswer
from kassa.service.refunds import chargeback
from kassa.service.three_ds import answer_three_ds
from kassa.service.timeouts import sweep_timeouts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

    from kassa.adapters.db.driver import Result

HOOK_URL = "https://hooks.example/kassa"
THREE_DS = "4000000000003220"
DECLINED = "4000000000000002"


class Refused(Exception):
    """The API answered something other than 200."""


def _injected() -> KassaError:
    return InternalError("injected failure at the end of the transaction")


class FaultyOutboxWrites:
    """Wraps the driver: while armed, a batch that inserts an outbox row fails at its end."""

    def __init__(self, kassa_: Kassa) -> None:
        """Wrap ``kassa_``'s driver (the store's units of work and the deliveries share it)."""
        self.driver = kassa_.store.driver
        self.real = self.driver.write
        self.armed = False
        self.tripped = 0

    async def write(self, stmts: Sequence[Stmt]) -> list[Result]:
        """Pass ``stmts`` on; armed and carrying an outbox insert: add a failing last one."""
        if self.armed and any(s.sql.startswith("INSERT INTO outbox") for s in stmts):
            self.tripped += 1
            last = Stmt(
                "UPDATE projects SET name = name WHERE id = ?",
                ("pj_no_such_project",),
                expect=1,
                error=_injected,
            )
            stmts = [*stmts, last]
        return await self.real(stmts)


async def snapshot(kassa_: Kassa) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a state change of the project could write, as rows."""
    pid = kassa_.project.id
    fetch = kassa_.store.driver.fetch
    return {
        "sessions": await fetch(
            "SELECT id, status, version, doc FROM sessions WHERE project_id = ? ORDER BY id",
            (pid,),
        ),
        "outbox": await fetch(
            "SELECT id, session_id, event_type, status, body FROM outbox "
            "WHERE project_id = ? ORDER BY id",
            (pid,),
        ),
        "ledger": await fetch(
            "SELECT id FROM ledger_transactions WHERE project_id = ? ORDER BY id", (pid,)
        ),
        "vault": await fetch(
            "SELECT number_hash FROM vault_cards WHERE project_id = ? ORDER BY number_hash",
            (pid,),
        ),
    }


async def api(kassa_: Kassa, method: str, body: dict[str, Any]) -> str:
    """A signed call; its session id, or ``Refused``."""
    response = await kassa_.post(method, body)
    if response.status_code != 200:
        raise Refused(response.text)
    return str(response.json()["session"]["id"])


async def started(kassa_: Kassa, number: str = "4242424242424242") -> str:
    """A session whose payment was started with ``number``."""
    return await api(kassa_, "session/init/payment", init_body(number))


async def three_ds(kassa_: Kassa, sid: str, *, passed: bool) -> str:
    """Answer the sandbox 3DS page with the token from the session's redirect."""
    payment = (await kassa_.session(sid))["acquiring_payments"][0]
    token = payment["customer_interaction"]["redirect"]["qs"]["token"]
    await answer_three_ds(kassa_.deps, ThreeDsAnswer(payment["id"], token, passed=passed))
    return sid


async def charged_back(kassa_: Kassa, sid: str) -> str:
    """A sandbox chargeback of the session's payment."""
    payment_id = (await kassa_.session(sid))["acquiring_payments"][0]["id"]
    await chargeback(kassa_.deps, payment_id)
    return sid


async def swept(kassa_: Kassa, sid: str) -> str:
    """The timeout sweeper, a week later."""
    await sweep_timeouts(kassa_.deps, kassa_.deps.clock.now() + timedelta(days=7))
    return sid


async def nothing(_kassa: Kassa) -> str | None:
    """No preparation: the change creates the session."""
    return None


@dataclass(frozen=True)
class Case:
    """One code path that announces a state change."""

    name: str
    webhook: str
    settings: dict[str, bool]
    prepare: Callable[[Kassa], Awaitable[str | None]]
    change: Callable[[Kassa, str | None], Awaitable[str]]


def _sid(sid: str | None) -> str:
    assert sid is not None
    return sid


CASES = [
    Case("init", "ready_to_confirm", {}, nothing, lambda k, _: started(k)),
    Case("init_3ds", "action_required", {}, nothing, lambda k, _: started(k, THREE_DS)),
    Case(
        "init_two_step",
        "ready_to_capture",
        {"two_step_capture": True},
        nothing,
        lambda k, _: started(k),
    ),
    Case(
        "init_auto_confirm",
        "payment_finished",
        {"auto_confirm": True},
        nothing,
        lambda k, _: started(k),
    ),
    Case("init_declined", "payment_finished", {}, nothing, lambda k, _: started(k, DECLINED)),
    Case(
        "confirm",
        "payment_finished",
        {},
        started,
        lambda k, s: api(k, "session/confirm", {"session_id": _sid(s)}),
    ),
    Case(
        "cancel",
        "payment_finished",
        {},
        started,
        lambda k, s: api(k, "session/cancel", {"session_id": _sid(s)}),
    ),
    Case(
        "capture",
        "payment_finished",
        {"two_step_capture": True},
        started,
        lambda k, s: api(k, "session/capture", {"session_id": _sid(s)}),
    ),
    Case(
        "refund",
        "payment_refunded",
        {"auto_confirm": True},
        started,
        lambda k, s: api(k, "session/refund", {"session_id": _sid(s)}),
    ),
    Case(
        "chargeback",
        "payment_refunded",
        {"auto_confirm": True},
        started,
        lambda k, s: charged_back(k, _sid(s)),
    ),
    Case(
        "three_ds_passed",
        "ready_to_confirm",
        {},
        lambda k: started(k, THREE_DS),
        lambda k, s: three_ds(k, _sid(s), passed=True),
    ),
    Case(
        "three_ds_failed",
        "payment_finished",
        {},
        lambda k: started(k, THREE_DS),
        lambda k, s: three_ds(k, _sid(s), passed=False),
    ),
    Case("timeout", "payment_finished", {}, started, lambda k, s: swept(k, _sid(s))),
]


@pytest.fixture
async def open_hooked(database_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """Factory: an in-process kassa whose project has a webhook URL (rows are ``pending``)."""
    opened: list[Kassa] = []

    async def factory(settings: dict[str, bool]) -> Kassa:
        k = await Kassa.open(database_url, tmp_path, ProjectSettings(**settings), HOOK_URL)
        opened.append(k)
        return k

    yield factory
    for k in opened:
        await k.ledger_ok()
        await k.close()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_a_failed_transaction_leaves_neither_the_state_change_nor_its_webhook(
    open_hooked: Any,
    monkeypatch: pytest.MonkeyPatch,
    case: Case,
) -> None:
    """Fault at the end of the batch: nothing changed; without it: one row, the new state."""
    k: Kassa = await open_hooked(case.settings)
    sid = await case.prepare(k)
    before = await snapshot(k)
    faulty = FaultyOutboxWrites(k)
    monkeypatch.setattr(k.store.driver, "write", faulty.write)

    faulty.armed = True
    with pytest.raises((Refused, InternalError)):
        await case.change(k, sid)
    assert faulty.tripped == 1  # the outbox row travelled in the state change's batch
    middle = await snapshot(k)
    assert middle["outbox"] == before["outbox"]
    survivors = [row for row in middle["sessions"] if row not in before["sessions"]]
    assert all('"call":{"kind"' in row[3] for row in survivors)  # only intents survived
    await k.ledger_ok()  # what survived (an authorisation before a capture call) is posted

    faulty.armed = False
    if survivors:  # the intent committed before the faulty record: the sweeper finishes it
        [(sid, *_)] = survivors
        later = k.deps.clock.now() + k.deps.acquiring.recovery_after + timedelta(seconds=1)
        assert await sweep_timeouts(k.deps, later) == 1
    else:
        sid = await case.change(k, sid)
    after = await snapshot(k)
    assert after["sessions"] != before["sessions"]
    new = [row for row in after["outbox"] if row not in before["outbox"]]
    assert [(row[1], row[2], row[3]) for row in new] == [(sid, case.webhook, "pending")]
    hook = orjson.loads(bytes(new[0][4]))
    assert hook["type"] == case.webhook
    assert hook["session"] == await k.session(sid)  # the session as that change committed it


def _calls(tree: ast.AST, name: str) -> bool:
    return any(
        isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == name)
            or (isinstance(node.func, ast.Name) and node.func.id == name)
        )
        for node in ast.walk(tree)
    )


def test_only_the_outbox_recorder_queues_webhooks_and_only_the_worker_sends_them() -> None:
    """``add_outbox`` is called from ``service/outbox.py`` alone; senders live in the worker."""
    root = Path(kassa.__file__).parent
    queues, sends = set(), set()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if _calls(tree, "add_outbox"):
            queues.add(rel)
        if _calls(tree, "AiohttpWebhookSender"):
            sends.add(rel)
    assert queues == {"service/outbox.py"}
    assert sends == {"worker.py"}
