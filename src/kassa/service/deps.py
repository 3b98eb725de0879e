"""The ports a use case may call, bundled once by ``kassa.bootstrap``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from kassa.service.idempotency import IdempotencyPolicy
from kassa.service.ports import NoProbe

if TYPE_CHECKING:
    from kassa.service.ports import Clock, Probe, Processor, Signer, Store, Vault, Verifier
    from kassa.service.ports.dashboard import AdminStore, DashboardReads


@dataclass(frozen=True, slots=True)
class AcquiringPolicy:
    """Timeouts of the operations, call recovery, and the public base URL for customer pages."""

    confirm_timeout: timedelta = timedelta(minutes=240)
    action_timeout: timedelta = timedelta(minutes=60)
    hold_timeout: timedelta = timedelta(days=5)
    base_url: str = "http://127.0.0.1:8131"
    recovery_after: timedelta = timedelta(seconds=30)  # a call unrecorded this long is re-asked
    sandbox: bool = True  # sandbox-only methods (session/chargeback) answer


@dataclass(frozen=True, slots=True)
class WidgetPolicy:
    """Public tokens of the widgets: lifetime, card attempts per token, the form-token key.

    ``form_key`` signs the widget forms' CSRF tokens; ``bootstrap`` derives it from the vault
    key, so every process of one deployment accepts the others' forms.
    """

    token_lifetime: timedelta = timedelta(hours=24)
    card_attempts: int = 5
    form_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)


@dataclass(frozen=True, slots=True)
class Deps:
    """Everything the handlers need; real or fake parts are chosen by the caller."""

    store: Store
    clock: Clock
    vault: Vault
    signer: Signer
    verifier: Verifier
    idempotency: IdempotencyPolicy = field(default_factory=IdempotencyPolicy)
    processor: Processor | None = None  # acquiring methods need one (bootstrap sets the sandbox)
    acquiring: AcquiringPolicy = field(default_factory=AcquiringPolicy)
    probe: Probe = field(default_factory=NoProbe)  # fault-injection seam (tests, torture)
    widgets: WidgetPolicy = field(default_factory=WidgetPolicy)
    admin: AdminStore | None = None  # the dashboard's log-ins and audit log (bootstrap sets)
    dashboard: DashboardReads | None = None  # the dashboard's read side
