"""A project: the API tenant, its keys, webhook URL and acquiring settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime  # noqa: TC003 - dataclass field type

from kassa.domain.origin import origin_of

MAX_ACTIVE_KEYS = 2  # one current key and one being rotated in


@dataclass(frozen=True, slots=True)
class ProjectSettings:
    """Per-project switches that Smart Glocal's manager would set."""

    auto_confirm: bool = False  # skip ready_to_confirm
    two_step_capture: bool = False  # authorise, then session/capture
    partial_refunds: bool = True


@dataclass(frozen=True, slots=True)
class Project:
    """A merchant project; ``public_keys`` verify its requests (two during rotation).

    ``widget_origins`` are the pages allowed to embed its widgets (empty: the webhook URL's
    origin, see ``allowed_origins``).
    """

    id: str
    name: str
    public_keys: tuple[str, ...]
    created_at: datetime
    webhook_url: str | None = None
    settings: ProjectSettings = field(default_factory=ProjectSettings)
    widget_origins: tuple[str, ...] = ()

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        """Origins that may frame the widgets and receive their ``postMessage``."""
        if self.widget_origins:
            return self.widget_origins
        default = None if self.webhook_url is None else origin_of(self.webhook_url)
        return () if default is None else (default,)
