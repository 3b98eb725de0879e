"""``pgbench`` (shipped with PostgreSQL) running kassa's writes alone: the database ceiling."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

# What kassa writes for one session/create with an idempotency key: the session and the key,
# stored done with its reply, as one statement (a deferred claim, ``adapters/db/pg_batch``);
# the session's dashboard search columns as kassa fills them (amount, currency, metadata text).
CREATE_SCRIPT = """\
\\set n random(1, 4000000000000000000)
WITH s0 AS (INSERT INTO sessions (id, project_id, status, api_version, version, created_at, updated_at, deadline_at, amount, currency, search_text, doc) VALUES ('ps_' || :client_id || '-' || :n, '@PROJECT@', 'created', 'v1', 0, 0, 0, NULL, 1000, 'usd', 'm', '{"draft":{"amount":{"amount":1000,"currency":"usd"},"payment_details":null,"payout_details":null,"customer":null,"participant_details":null,"payment_options":null,"metadata":"m","has_metadata":true,"extra":{}},"finished_at":null,"next_action":null}') RETURNING 1), s1 AS (INSERT INTO idempotency_keys (project_id, key, fingerprint, owner, lease_until, state, created_at, expires_at, response_status, response_body) VALUES ('@PROJECT@', 'k' || :client_id || '-' || :n, 'f', 'o', 0, 'done', 0, 0, 200, '\\x7b7d') ON CONFLICT (project_id, key) DO NOTHING RETURNING 1), n AS (SELECT (SELECT count(*) FROM s0) AS c0, (SELECT count(*) FROM s1) AS c1) SELECT c0, c1 FROM n;
"""  # noqa: E501 - SQL for pgbench, one statement per line

# What the bare-minimum baseline writes: one INSERT.
BARE_SCRIPT = """\
\\set n random(1, 4000000000000000000)
INSERT INTO bare_sessions (id, project, doc) VALUES ('ps_' || :client_id || '-' || :n, 'p', '{"amount_details":{"amount":1000,"currency":"usd"}}') ON CONFLICT (id) DO NOTHING;
"""  # noqa: E501


def pgbench_tps(database_url: str, script: str, clients: int, seconds: int) -> float:
    """Transactions per second of ``script`` with ``clients`` connections for ``seconds``."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as fh:
        fh.write(script)
        path = fh.name
    try:
        done = subprocess.run(  # noqa: S603 - PostgreSQL's pgbench
            [
                shutil.which("pgbench") or "pgbench",
                "-n",
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(seconds),
                "-f",
                path,
                database_url,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 60,
        )
    finally:
        Path(path).unlink()
    if done.returncode != 0:
        msg = f"pgbench failed: {done.stderr[-800:]}"
        raise RuntimeError(msg)
    for line in done.stdout.splitlines():
        if line.startswith("tps ="):
            return float(line.split()[2])
    msg = f"pgbench printed no tps: {done.stdout[-500:]}"
    raise RuntimeError(msg)
