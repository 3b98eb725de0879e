"""kassa-client has a method for every protocol route kassa serves, in each of its versions.

The routes come from the app's own OpenAPI document, so a method added to the server without
its SDK method (or the other way round: an SDK method sent to a route kassa does not have)
fails here.
"""

from __future__ import annotations

from typing import Any

from kassa.api.app import create_app
from kassa.config import Settings
from kassa.testing import fake_deps
from kassa_client import AmountDetails, CardMethod, PayoutRequest
from kassa_client._call import ApiVersion
from kassa_client._methods import METHOD_NAMES, Methods

USD = AmountDetails(amount=100, currency="usd")
CARD = CardMethod.from_number("4242424242424242")
# the smallest arguments each SDK method takes
ARGS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "create_session": ((), {}),
    "init_payment": ((), {"payment_details": None, "amount_details": USD, "customer": None}),
    "start_payment": (("ps_1",), {}),
    "init_payout": ((), {"payment_method": CARD, "amount_details": USD}),
    "start_payout": (("ps_1",), {}),
    "confirm": (("ps_1",), {}),
    "cancel": (("ps_1",), {}),
    "capture": (("ps_1",), {}),
    "refund": (("ps_1",), {}),
    "chargeback": (("ps_1",), {}),
    "session_status": (("ps_1",), {}),
    "multi_init": ((), {"payments": [PayoutRequest(payment_method=CARD, amount_details=USD)]}),
    "wallet_balance": ((), {}),
    "create_token": ((), {"tokenize_widget": {}}),
    "token_info": ((), {"recurrent_token": "t"}),
    "recurrent_status": (("t",), {}),
    "disable_recurrent": (("t",), {}),
    "fps_verify_customer": (("ps_1",), {"phone": "79261234567", "bank_id": "100000000069"}),
    "fps_banks": ((), {}),
}


def _targets() -> dict[str, set[str]]:
    """``/api/vN/path`` → the SDK methods that send there, for clients of both versions."""
    found: dict[str, set[str]] = {}
    for name in METHOD_NAMES:
        args, kwargs = ARGS[name]
        for version in ApiVersion:
            call = getattr(Methods, name).build(version, *args, **kwargs)
            found.setdefault(f"/api/{call.version}/{call.path}", set()).add(name)
    return found


def test_every_served_route_has_an_sdk_method_and_back() -> None:
    """The app's ``/api/`` routes are exactly where the SDK's methods send."""
    document = create_app(Settings.from_env({}), fake_deps()).openapi()
    served = {path for path in document["paths"] if path.startswith("/api/")}
    assert set(ARGS) == set(METHOD_NAMES)
    assert set(_targets()) == served
