"""Revenue splits: how a captured amount is divided between the project and named recipients.

Each rule names a recipient (``contractor_alias``) and one of: ``amount`` (fixed minor units),
``percent`` (of the captured amount, rounded down) or ``remains`` (whatever is left). Without a
``remains`` rule the project keeps the rest. Parts always add up to the captured amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from kassa.domain.errors import InvalidRequest

MERCHANT = "merchant"  # the project's own share
_HUNDRED = 100


@dataclass(frozen=True, slots=True)
class SplitRule:
    """One recipient's part: fixed ``amount``, ``percent`` (decimal string) or ``remains``."""

    recipient: str
    amount: int | None = None
    percent: str | None = None
    remains: bool = False


def parse_rules(raw: object, field: str = "revenue_split_info") -> tuple[SplitRule, ...]:
    """Validate the wire list ``[{contractor_alias, amount | percent | remains}]``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidRequest(f"{field}: must be a list")
    rules: list[SplitRule] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise InvalidRequest(f"{where}: must be an object")
        alias = item.get("contractor_alias")
        if not isinstance(alias, str) or not alias or alias == MERCHANT or alias in seen:
            raise InvalidRequest(f"{where}.contractor_alias: a unique non-empty name is required")
        seen.add(alias)
        rules.append(_rule(item, alias, where))
    if sum(r.remains for r in rules) > 1:
        raise InvalidRequest(f"{field}: at most one part may take the remains")
    if sum(Fraction(r.percent) for r in rules if r.percent is not None) > _HUNDRED:
        raise InvalidRequest(f"{field}: the percents add up to more than 100")
    return tuple(rules)


def _rule(item: dict[str, object], alias: str, where: str) -> SplitRule:
    amount, percent, remains = item.get("amount"), item.get("percent"), item.get("remains")
    given = [x for x in (amount, percent) if x is not None] + ([remains] if remains else [])
    if len(given) != 1:
        raise InvalidRequest(f"{where}: exactly one of amount, percent, remains is required")
    if amount is not None:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise InvalidRequest(f"{where}.amount: must be a positive integer of minor units")
        return SplitRule(alias, amount=amount)
    if percent is not None:
        if isinstance(percent, bool) or not isinstance(percent, int | float | str):
            raise InvalidRequest(f"{where}.percent: must be a number")
        try:
            value = Fraction(str(percent))
        except (ValueError, ZeroDivisionError):
            raise InvalidRequest(f"{where}.percent: must be a number") from None
        if not 0 < value <= _HUNDRED:
            raise InvalidRequest(f"{where}.percent: must be above 0 and at most 100")
        return SplitRule(alias, percent=str(percent))
    if remains is not True:
        raise InvalidRequest(f"{where}.remains: must be true")
    return SplitRule(alias, remains=True)


def allocate(captured: int, rules: tuple[SplitRule, ...], field: str = "amount") -> dict[str, int]:
    """Parts of ``captured`` per recipient (``MERCHANT`` for the project); they sum exactly."""
    parts: dict[str, int] = {}
    for rule in rules:
        if rule.amount is not None:
            parts[rule.recipient] = rule.amount
        elif rule.percent is not None:
            parts[rule.recipient] = int(captured * Fraction(rule.percent) // _HUNDRED)
    rest = captured - sum(parts.values())
    if rest < 0:
        raise InvalidRequest(f"{field}: {captured} is less than the revenue split's fixed parts")
    taker = next((r.recipient for r in rules if r.remains), MERCHANT)
    parts[taker] = parts.get(taker, 0) + rest
    if taker != MERCHANT:
        parts.setdefault(MERCHANT, 0)
    return {k: v for k, v in parts.items() if v or k == MERCHANT}


def reversal(parts: dict[str, int], refunded_before: int, refunded_after: int) -> dict[str, int]:
    """How much each part gives back for a refund taking the total from before to after.

    The cumulative refunded total is spread pro rata over the parts (largest remainder, ties in
    part order), and this refund takes the difference: every part stays between 0 and its
    share, and a full refund returns each part exactly.
    """
    before = _spread(parts, refunded_before)
    after = _spread(parts, refunded_after)
    return {k: after[k] - before[k] for k in parts if after[k] != before[k]}


def _spread(parts: dict[str, int], total: int) -> dict[str, int]:
    whole = sum(parts.values())
    if whole == 0:
        return dict.fromkeys(parts, 0)
    shares = {k: v * total // whole for k, v in parts.items()}
    left = total - sum(shares.values())
    order = sorted(parts, key=lambda k: -((parts[k] * total) % whole))
    for k in order[:left]:
        shares[k] += 1
    return shares
