"""What a payout needs of its sender and recipient (§4.8), checked before it starts.

Cards, cross-border accounts and e-wallets need the recipient's name: ``full_name``, or
``first_name`` and ``last_name``. Lengths the protocol names: sender ``company_name`` at most
100 characters and not digits only, ``registration_number`` at most 64, ``address_line`` at
most 256; any name at most 255.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.domain.errors import InvalidRequest

if TYPE_CHECKING:
    from kassa.domain.json import JSONObject

_LIMITS = {"company_name": 100, "registration_number": 64, "address_line": 256}
_NAMES = ("full_name", "first_name", "last_name", "middle_name")
_MAX_NAME = 255


def _text(party: JSONObject, name: str) -> str | None:
    value = party.get(name)
    return value if isinstance(value, str) and value.strip() else None


def check_participants(details: JSONObject | None, *, recipient_name: bool) -> None:
    """Raise ``InvalidRequest`` naming the field unless the participants are what is needed."""
    details = details or {}
    for role in ("sender", "recipient"):
        party = details.get(role)
        if not isinstance(party, dict):
            continue
        for name, limit in (*_LIMITS.items(), *((n, _MAX_NAME) for n in _NAMES)):
            value = party.get(name)
            if isinstance(value, str) and len(value) > limit:
                msg = f"participant_details.{role}.{name}: at most {limit} characters"
                raise InvalidRequest(msg)
        company = _text(party, "company_name")
        if company is not None and company.isdigit():
            msg = f"participant_details.{role}.company_name: must not be digits only"
            raise InvalidRequest(msg)
    if not recipient_name:
        return
    recipient = details.get("recipient")
    party = recipient if isinstance(recipient, dict) else {}
    if _text(party, "full_name") or (_text(party, "first_name") and _text(party, "last_name")):
        return
    msg = (
        "participant_details.recipient.full_name: required for this payout "
        "(or first_name and last_name)"
    )
    raise InvalidRequest(msg)
