"""The overview page's figures: today and 30 days per currency, a bar chart, wallets, queue.

The chart is drawn here as SVG rectangles (presentation attributes only: the CSP allows no
inline style), one chart per currency, one bar per UTC day of the last 30.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kassa.domain.ledger import Account
from kassa.service.ports.dashboard import CurrencyFigures

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kassa.service.ports.dashboard import DayFigures
    from kassa.service.queries import LedgerReport
    from kassa.web.dashboard_view import Dashboard

DAYS = 30
FIRST_CHECK = 2.0  # seconds the overview waits for the very first ledger check
MAX_CHECKED = 100_000  # above this many sessions the overview does not run the ledger check
WIDTH, HEIGHT, GAP = 600, 160, 2


@dataclass(frozen=True, slots=True)
class Bar:
    """One day's bar: geometry and its accessible label."""

    x: int
    y: int
    width: int
    height: int
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """The bars of one currency."""

    currency: str
    bars: list[Bar]
    peak: int


def per_currency(days: Iterable[DayFigures]) -> list[CurrencyFigures]:
    """The days summed per currency."""
    sums: dict[str, list[int]] = {}
    for d in days:
        total = sums.setdefault(d.currency, [0, 0, 0])
        total[0] += d.count
        total[1] += d.accepted
        total[2] += d.volume
    return [CurrencyFigures(c, n, a, v) for c, (n, a, v) in sorted(sums.items())]


def charts(days: list[DayFigures], start: datetime, fmt: Any) -> list[Chart]:  # noqa: ANN401
    """One chart per currency: a bar per day since ``start`` (empty days have no bar)."""
    out = []
    width = WIDTH // DAYS
    for currency in sorted({d.currency for d in days}):
        own = [d for d in days if d.currency == currency and d.accepted]
        if not own:
            continue
        peak = max(d.volume for d in own) or 1
        bars = []
        for d in own:
            index = (d.day - start).days
            height = max(1, round(d.volume / peak * (HEIGHT - 20)))
            label = f"{d.day:%Y-%m-%d}: {fmt(d.volume, currency)} in {d.accepted}"
            bars.append(Bar(index * width, HEIGHT - height, width - GAP, height, label))
        out.append(Chart(currency, bars, peak))
    return out


async def _ledger(ctx: Dashboard, sessions: int) -> LedgerReport | None:
    """The last ledger check; the first one is awaited up to ``FIRST_CHECK`` seconds.

    Above ``MAX_CHECKED`` sessions the check (which holds every session in memory) is left to
    ``kassa ledger check`` and the page says so.
    """
    if sessions > MAX_CHECKED:
        return None
    found = ctx.ledger.report(ctx.deps)
    if found is None:
        with contextlib.suppress(TimeoutError):
            found = await asyncio.wait_for(ctx.ledger.settled(), FIRST_CHECK)
    return found


async def overview(ctx: Dashboard) -> dict[str, Any]:
    """The template data of the overview page."""
    from kassa.web.dashboard_view import money  # noqa: PLC0415 - avoids an import cycle

    now = ctx.deps.clock.now().astimezone(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=DAYS - 1)
    reads = ctx.reads
    wallets = [b for b in await reads.balances() if b.account == Account.PAYOUT_WALLET.value]
    names = {p.id: p.name for p in await ctx.deps.store.list_projects()}
    sessions = await reads.session_count(MAX_CHECKED + 1)
    days = await reads.daily_figures(start)
    return {
        "today": per_currency(d for d in days if d.day >= today),
        "month": per_currency(days),
        "charts": charts(days, start, money),
        "chart_width": WIDTH,
        "chart_height": HEIGHT,
        "wallets": wallets,
        "names": names,
        "health": await reads.delivery_health(now),
        "ledger": await _ledger(ctx, sessions),
        "sessions": sessions,
        "max_checked": MAX_CHECKED,
        "ledger_at": ctx.ledger.checked_at,
        "start": start,
    }
