"""``make run``: migrate SQLite at ``var/kassa.sqlite3``, create a demo project once, serve.

``make run`` is ``kassa migrate`` + ``kassa serve --demo`` after the venv set-up; here both run
twice in an empty working folder with only ``KASSA_PORT`` set, as a developer would.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from testkit import ProjectHandle, SignedClient, free_port, kassa_cli, load_private, wait_for

ROOT = Path(__file__).parents[2]
INFO_LINE = re.compile(
    r"^\s+(project_id|partner_private_key|partner_public_key|server_public_key|url)\s+(\S+)$"
)
DASHBOARD_LINE = re.compile(r"^\s+(dashboard_url|dashboard_user|dashboard_password)\s+(\S+)$")


@dataclass
class DemoRun:
    """What one ``kassa serve --demo`` printed, and its process."""

    proc: subprocess.Popen[bytes]
    info: dict[str, str]
    output: Path
    dashboard: dict[str, str]
    logged_in: int = 0  # the status of a dashboard log-in with the printed password


def clean_env(port: int) -> dict[str, str]:
    """The caller's environment without any ``KASSA_*`` setting except the port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASSA_")}
    return {**env, "KASSA_PORT": str(port)}


async def start_serving(
    command: list[str], cwd: Path, port: int, name: str, timeout: float = 30
) -> DemoRun:
    """Start ``command`` in ``cwd`` (its own process group); wait until the port serves.

    ``info`` holds the lines it printed about the demo project (id, key paths, URL).
    """
    output = cwd / f"{name}.log"
    with output.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=clean_env(port),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    async def ready() -> bool:
        assert proc.poll() is None, output.read_text()
        try:
            async with httpx.AsyncClient() as http:
                return (
                    await http.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                ).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        await wait_for(ready, timeout=timeout, interval=0.1)
    except BaseException:
        stop(proc)
        raise
    info, dashboard = {}, {}
    for line in output.read_text().splitlines():
        found = INFO_LINE.match(line)
        if found:
            info[found[1]] = found[2]
        shown = DASHBOARD_LINE.match(line)
        if shown:
            dashboard[shown[1]] = shown[2]
    return DemoRun(proc, info, output, dashboard)


async def start_demo(cwd: Path, port: int, n: int) -> DemoRun:
    """``kassa serve --demo`` in ``cwd``, serving and done printing its info."""
    return await start_serving(
        [sys.executable, "-m", "kassa", "serve", "--demo"], cwd, port, f"serve-{n}"
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM its process group (``make`` and the server it runs), then wait; kill if hung."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


async def run_twice(cwd: Path) -> tuple[int, list[DemoRun], list[dict[str, bytes]]]:
    """``kassa migrate`` + ``kassa serve --demo`` twice in ``cwd``; the key files after each."""
    port = free_port()
    runs: list[DemoRun] = []
    files: list[dict[str, bytes]] = []
    for n in range(2):
        kassa_cli("migrate", env={"KASSA_PORT": str(port)}, cwd=cwd)
        run = await start_demo(cwd, port, n)
        runs.append(run)
        try:
            files.append(
                {k: Path(cwd, v).read_bytes() for k, v in run.info.items() if k.endswith("_key")}
            )
            if n == 0:
                await check_demo_key_works(run, cwd, port)
                run.logged_in = await dashboard_login(port, run.dashboard["dashboard_password"])
        finally:
            stop(run.proc)
    return port, runs, files


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory):
    """Both runs, once per module (each takes a few seconds)."""
    cwd = tmp_path_factory.mktemp("make-run")
    return (cwd, *asyncio.run(run_twice(cwd)))


async def dashboard_login(port: int, password: str) -> int:
    """Log in to the dashboard with ``password``; the answer's status (303 on success)."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        page = await http.get("/dashboard/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token, page.text
        done = await http.post("/dashboard/login", data={"csrf": token[1], "password": password})
        return done.status_code


async def check_demo_key_works(run: DemoRun, cwd: Path, port: int) -> None:
    """The printed partner key signs requests the server accepts for the printed project."""
    key = load_private(cwd / run.info["partner_private_key"])
    client = SignedClient(f"http://127.0.0.1:{port}", ProjectHandle(run.info["project_id"], key))
    try:
        created = await client.ok(
            "session/create", {"amount_details": {"amount": 1000, "currency": "usd"}}
        )
    finally:
        await client.aclose()
    assert created["session"]["status"] == "created"


def test_first_start_prints_project_keys_and_url(twice):
    """The first start prints the demo project id, key paths, server key path and the URL."""
    cwd, port, runs, _ = twice
    info = runs[0].info
    assert set(info) == {
        "project_id",
        "partner_private_key",
        "partner_public_key",
        "server_public_key",
        "url",
    }
    assert info["project_id"].startswith("pj_")
    assert info["url"] == f"http://127.0.0.1:{port}"
    for name in ("partner_private_key", "partner_public_key", "server_public_key"):
        assert (cwd / info[name]).is_file(), name
        assert Path(info[name]).parts[:2] == ("var", "keys"), info[name]
    assert (cwd / "var" / "kassa.sqlite3").is_file()


def test_first_start_prints_the_dashboard_url_and_a_generated_password(twice):
    """``make run`` prints the dashboard URL and the admin password once; it logs in."""
    _, port, runs, _ = twice
    shown = runs[0].dashboard
    assert shown["dashboard_url"] == f"http://127.0.0.1:{port}/dashboard"
    assert shown["dashboard_user"] == "admin"
    assert len(shown["dashboard_password"]) >= 20
    assert runs[0].logged_in == 303


def test_second_start_says_the_password_was_set_earlier(twice):
    """A later start prints the URL, no password, and how to change it."""
    _, port, runs, _ = twice
    assert "dashboard_password" not in runs[1].dashboard
    assert runs[1].dashboard["dashboard_url"] == f"http://127.0.0.1:{port}/dashboard"
    text = runs[1].output.read_text()
    assert "password set earlier (kassa admin set-password to change it)" in text
    assert runs[0].dashboard["dashboard_password"] not in text


def test_second_start_reuses_project_and_keys(twice):
    """A second ``make run`` prints the same project and key paths; key files unchanged."""
    _, _, runs, files = twice
    assert runs[1].info == runs[0].info
    assert files[1] == files[0]


def test_demo_project_is_created_only_once(twice):
    """After two starts the database holds exactly one project, the demo one."""
    cwd, port, runs, _ = twice
    listed = kassa_cli("projects", "list", "--json", env={"KASSA_PORT": str(port)}, cwd=cwd)
    projects = json.loads(listed.stdout)["projects"]
    assert [(p["project_id"], p["name"]) for p in projects] == [
        (runs[0].info["project_id"], "demo")
    ]


def test_make_run_sets_up_the_venv_then_migrates_and_serves_the_demo():
    """``make run`` makes ``.venv``, installs kassa, then ``kassa migrate`` and ``serve --demo``."""
    plan = subprocess.run(
        ["make", "-n", "-B", "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.splitlines()
    steps = [line.strip() for line in plan]
    venv = next(i for i, s in enumerate(steps) if "-m venv .venv" in s)
    sdk = next(i for i, s in enumerate(steps) if "pip install --quiet -e ./sdk" in s)
    install = steps.index(".venv/bin/pip install --quiet -e '.[dev]'")  # kassa needs the SDK
    migrate = steps.index(".venv/bin/kassa migrate")
    serve = steps.index(".venv/bin/kassa serve --demo")
    assert venv < sdk < install < migrate < serve


def test_make_test_runs_lint_strict_types_then_the_whole_suite():
    """``make test`` = ruff format check, ruff check, mypy (strict in pyproject), then pytest.

    Lint covers the SDK (``sdk/``), mypy checks both packages, pytest collects ``sdk/tests``.
    """
    plan = subprocess.run(
        ["make", "-n", "-B", "test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.splitlines()
    steps = [line.strip() for line in plan]
    order = [
        steps.index(".venv/bin/ruff format --check src tests sdk"),
        steps.index(".venv/bin/ruff check src tests sdk"),
        steps.index(".venv/bin/mypy"),
        steps.index(".venv/bin/pytest -n 2 --dist loadfile"),
    ]
    assert order == sorted(order)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["mypy"]["strict"] is True
    assert config["tool"]["mypy"]["packages"] == ["kassa", "kassa_client"]
    assert config["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests", "sdk/tests"]


def test_ci_entry_point_runs_make_test_with_ci_set():
    """``.ci/run`` sets CI=true and runs ``make test`` and nothing else."""
    script = (ROOT / ".ci" / "run").read_text()
    commands = [
        line.strip()
        for line in script.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert commands[-1] == "make test"
    assert 'export CI="${CI:-true}"' in commands
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_unreachable_postgresql_fails_in_ci_and_skips_elsewhere(tmp_path, ci, outcome):
    """With CI=true a PostgreSQL test over an unreachable server errors; locally it skips."""
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "KASSA_TEST_POSTGRES_URL"}}
    env["KASSA_TEST_POSTGRES_URL"] = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    if ci:
        env["CI"] = ci
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/integration/test_migrations.py::test_upgrade_is_idempotent[postgres]",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert outcome in done.stdout, done.stdout[-2000:]
    assert (done.returncode != 0) == bool(ci), done.stdout[-2000:]
    if ci:
        assert "unreachable in CI" in done.stdout


def _copy_project(dest: Path) -> None:
    """The files a fresh clone has that ``make run`` needs (no .venv, no var/)."""
    for name in ("Makefile", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    skip = shutil.ignore_patterns("*.egg-info", "build", "dist", "__pycache__")
    shutil.copytree(ROOT / "src", dest / "src", ignore=skip)
    shutil.copytree(ROOT / "sdk", dest / "sdk", ignore=skip)


async def _make_run(cwd: Path, port: int, n: int) -> tuple[dict[str, str], str]:
    """``make run`` in ``cwd`` until it serves; what it printed; then stop the whole group."""
    run = await start_serving(["make", "run"], cwd, port, f"make-run-{n}", timeout=300)
    try:
        return run.info, run.output.read_text()
    finally:
        stop(run.proc)


@pytest.mark.slow
async def test_make_run_on_a_fresh_copy_sets_up_serves_and_reuses_everything(tmp_path):
    """The literal ``make run`` twice in a fresh copy: venv, install, migrate, demo, serve."""
    _copy_project(tmp_path)
    port = free_port()
    first, _ = await _make_run(tmp_path, port, 0)
    assert (tmp_path / ".venv" / "bin" / "kassa").is_file()
    assert (tmp_path / "var" / "kassa.sqlite3").is_file()
    assert first["project_id"].startswith("pj_")
    assert first["url"] == f"http://127.0.0.1:{port}"
    keys = {k: (tmp_path / v).read_bytes() for k, v in first.items() if k.endswith("_key")}
    assert len(keys) == 3
    second, printed = await _make_run(tmp_path, port, 1)
    assert second == first
    assert keys == {k: (tmp_path / v).read_bytes() for k, v in second.items() if k.endswith("_key")}
    assert "pip install" not in printed  # the venv is reused, not rebuilt
