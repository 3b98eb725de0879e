"""The table of protocol methods shared by ``Client`` and ``AsyncClient`` (see ``_call.Method``).

Each builder is written once, in ``_sessions.py`` or ``_accounts.py``; here it becomes a
typed method of both clients.
"""

from __future__ import annotations

from kassa_client import _accounts, _sessions
from kassa_client._call import Method


class Methods:
    """The table of protocol methods shared by ``Client`` and ``AsyncClient``."""

    create_session = Method(_sessions.create_session)
    init_payment = Method(_sessions.init_payment)
    start_payment = Method(_sessions.start_payment)
    init_payout = Method(_sessions.init_payout)
    start_payout = Method(_sessions.start_payout)
    confirm = Method(_sessions.confirm)
    cancel = Method(_sessions.cancel)
    capture = Method(_sessions.capture)
    refund = Method(_sessions.refund)
    chargeback = Method(_sessions.chargeback)
    session_status = Method(_sessions.session_status)
    multi_init = Method(_sessions.multi_init)
    wallet_balance = Method(_accounts.wallet_balance)
    create_token = Method(_accounts.create_token)
    token_info = Method(_accounts.token_info)
    recurrent_status = Method(_accounts.recurrent_status)
    disable_recurrent = Method(_accounts.disable_recurrent)
    fps_verify_customer = Method(_sessions.fps_verify_customer)
    fps_banks = Method(_accounts.fps_banks)


METHOD_NAMES: tuple[str, ...] = tuple(
    name for name, value in vars(Methods).items() if isinstance(value, Method)
)
