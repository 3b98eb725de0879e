"""Kit of ``tests/reliability/test_isolation.py``: another tenant's ids in every id slot.

The id slots of each method come from ``/openapi.json`` (every request field named like an
id, token or hash), so a method or a field added later is covered without editing a list.
Each slot is filled once with one of project B's real values and once with a value of the
same shape that never existed; project A sends both and the answers must be identical once
the two values (and the ids and times kassa makes up for A) are blanked out.
"""

from __future__ import annotations

import re
from typing import Any

# The kind of value a slot holds, by its field path's last segments.
KINDS: tuple[tuple[str, str], ...] = (
    ("session_id", "session"),
    ("number_hash", "card"),
    ("recurrent.token", "recurrent"),
    ("recurrent_token.token", "recurrent"),
    ("public_token.token", "public"),
    ("public_token", "public"),
)

# A body that passes validation for each method, so that the lookup of the slot is reached.
AMOUNT = {"amount": 100, "currency": "usd"}
BASES: dict[str, dict[str, Any]] = {
    "session/create": {"amount_details": AMOUNT, "customer": {"reference": "a-ref"}},
    "session/init/payment": {"amount_details": AMOUNT, "customer": {"reference": "a-ref"}},
    "session/start/payment": {"amount_details": AMOUNT, "customer": {"reference": "a-ref"}},
    "session/init/payout": {
        "amount_details": AMOUNT,
        "participant_details": {"recipient": {"full_name": "John Johnson"}},
    },
    "session/start/payout": {
        "amount_details": AMOUNT,
        "participant_details": {"recipient": {"full_name": "John Johnson"}},
    },
    "session/refund": {"amount_details": {"amount": 10, "currency": "usd"}},
    "session/capture": {},
    "fps/customer_verification": {
        "participant_details": {"recipient": {"phone": "+79990000000"}},
    },
}


def id_slots(openapi: dict[str, Any], path: str) -> list[str]:
    """Dotted request-body paths of ``path``'s POST whose name marks an id, token or hash."""
    components = openapi.get("components", {}).get("schemas", {})
    op = openapi["paths"][path].get("post", {})
    content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    found: set[str] = set()

    def walk(schema: dict[str, Any], where: str, seen: frozenset[str]) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(components[name], where, seen | {name})
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for option in schema.get(key, []):
                walk(option, where, seen)
        for name, sub in schema.get("properties", {}).items():
            here = f"{where}.{name}" if where else name
            if kind_of(here) is not None:
                found.add(here)
            walk(sub, here, seen)

    walk(content.get("schema", {}), "", frozenset())
    # The innermost slot of a nested pair (public_token and public_token.token) suffices.
    return sorted(s for s in found if not any(o.startswith(s + ".") for o in found))


def kind_of(slot: str) -> str | None:
    """``session``, ``card``, ``recurrent`` or ``public`` for a slot, else None."""
    for suffix, kind in KINDS:
        if slot == suffix or slot.endswith("." + suffix):
            return kind
    return None


def fragment(slot: str, value: str) -> dict[str, Any]:
    """The nested object that puts ``value`` at ``slot``, with the union tags on the way."""
    parts = slot.split(".")
    inner: dict[str, Any] = {parts[-1]: value}
    if parts[-2:] == ["recurrent", "token"]:
        inner["initiator"] = "merchant"
    for i in range(len(parts) - 2, -1, -1):
        inner = {"type": parts[i], parts[i]: inner}
    if len(parts) > 1 and parts[0] in {"payment_details", "payment_method"}:
        return {parts[0]: inner[parts[0]]}
    return inner


def body_for(method: str, slot: str, value: str) -> dict[str, Any]:
    """The method's base body with ``value`` at ``slot``."""
    return {**BASES.get(method, {}), **fragment(slot, value)}


_MADE_UP = re.compile(
    r"\b(?:ps|pm|po|rf|rt|pt|wh|ev|tx)_[0-9A-Za-z]{8,}\b"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"
)


def blanked(text: str, *values: str) -> str:
    """``text`` with ``values`` and every id or timestamp kassa made up replaced by ``<x>``."""
    for value in values:
        text = text.replace(value, "<slot>")
    return _MADE_UP.sub("<x>", text)
