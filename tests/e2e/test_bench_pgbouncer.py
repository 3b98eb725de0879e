"""``kassa bench create --pgbouncer``: kassa reaches the scratch database through pgbouncer.

A 2-second smoke run, as ``test_bench_smoke`` does for every scenario: loads served without
errors, and pgbouncer's own count of transactions in the report. The figures come from the
real command (``docs/deploy.md``), never from here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.postgres
def test_bench_create_through_pgbouncer_reports_it(tmp_path: Path) -> None:
    """``kassa bench create --pgbouncer`` (2 s): served without errors, pgbouncer's count shown."""
    base = os.environ.get("KASSA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    done = subprocess.run(
        [sys.executable, "-m", "kassa", "bench", "create", "--database-url", base,
         "--baseline-url", base, "--out", str(tmp_path / "out"), "--duration", "2",
         "--connections", "8", "--rate", "100", "--workers", "2", "--pgbouncer"],
        capture_output=True, text=True, check=False, timeout=300,
        env={**os.environ, "KASSA_DATA_DIR": str(tmp_path / "data")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "create-postgresql+pgbouncer.json").read_text("utf-8"))
    assert report["command"].endswith(" --pgbouncer")
    made = report["results"]["kassa session/create"]
    assert made["requests"] > 0
    assert made["errors"] == 0
    passed = report["figures"]["pgbouncer: transactions passed to the database"]
    assert passed >= made["requests"]  # every acknowledged create went through pgbouncer
