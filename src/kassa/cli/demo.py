"""The demo project that ``make run`` creates on first start and reuses afterwards."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from kassa.adapters.keys import ServerKey, write_key_pair
from kassa.cli.context import opened_store, run
from kassa.cli.projects import create_project
from kassa.domain.project import ProjectSettings

if TYPE_CHECKING:
    from kassa.config import Settings


async def _exists(config: Settings, project_id: str) -> bool:
    async with opened_store(config) as store:
        return await store.get_project(project_id) is not None


def ensure_demo_project(config: Settings) -> dict[str, str]:
    """Create the demo project and its key pair once; print where everything is."""
    keys = config.data_dir / "keys"
    state_file = config.data_dir / "demo.json"
    private_path = keys / "demo_partner_private.pem"
    public_path = keys / "demo_partner_public.pem"
    state: dict[str, str] = {}
    if state_file.exists():
        state = json.loads(state_file.read_text())
    if not state or not run(_exists(config, state["project_id"])):
        if not private_path.exists():
            write_key_pair(private_path, public_path)
        project = run(
            create_project(
                config,
                name="demo",
                public_pem=public_path.read_text(encoding="ascii"),
                webhook_url=None,
                project_settings=ProjectSettings(),
            ),
        )
        state = {"project_id": project.id}
        state_file.write_text(json.dumps(state))
    server = ServerKey(config.server_key, create=True)
    info = {
        "project_id": state["project_id"],
        "partner_private_key": str(private_path),
        "partner_public_key": str(public_path),
        "server_public_key": str(server.public_path),
        "url": config.base_url,
    }
    typer.echo("kassa demo project")
    for key, value in info.items():
        typer.echo(f"  {key:<20} {value}")
    typer.echo(
        f"  try: kassa call session/create --project {info['project_id']} "
        f'--key {private_path} --data \'{{"amount_details":{{"amount":1000,"currency":"usd"}}}}\'',
    )
    return info
