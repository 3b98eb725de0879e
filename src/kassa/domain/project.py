"""A project: the API tenant, its keys, webhook URL and acquiring settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime  # noqa: TC003 - dataclass field type

MAX_ACTIVE_KEYS = 2  # one current key and one being rotated in


@dataclass(frozen=True, slots=True)
class ProjectSettings:
    """Per-project switches that Smart Glocal's manager would set."""

    auto_confirm: bool = False  # skip ready_to_confirm
    two_step_capture: bool = False  # authorise, then session/capture
    partial_refunds: bool = True


@dataclass(frozen=True, slots=True)
class Project:
    """A merchant project; ``public_keys`` verify its requests (two during rotation)."""

    id: str
    name: str
    public_keys: tuple[str, ...]
    created_at: datetime
    webhook_url: str | None = None
    settings: ProjectSettings = field(default_factory=ProjectSettings)
