"""The ``kassa`` command line as users run it: projects, keys, server key, migrate, settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from kassa.adapters.keys import load_private_key, load_public_key, public_pem, verify_any
from kassa.bootstrap import open_store
from testkit import KEYS, create_project, free_port, kassa_cli, load_private, sign, wait_for

PUBLIC = KEYS / "test_partner_public.pem"


@pytest.fixture
def env(module_database_url: str, tmp_path: Path) -> dict[str, str]:
    """Settings for one command: the module's database, a private data folder."""
    return {
        "KASSA_DATABASE_URL": module_database_url,
        "KASSA_DATA_DIR": str(tmp_path / "data"),
        "KASSA_ALLOW_PRIVATE_WEBHOOKS": "1",  # the tests register 127.0.0.1 URLs
    }


async def stored(database_url: str, project_id: str):
    """The project as the database holds it."""
    store = await open_store(database_url)
    try:
        return await store.get_project(project_id)
    finally:
        await store.close()


def create_json(env: dict[str, str], *args: str) -> dict[str, str]:
    """``kassa projects create … --json`` parsed (stdout must be exactly one JSON object)."""
    done = kassa_cli("projects", "create", *args, "--json", env=env)
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    return json.loads(lines[0])


async def test_create_with_a_public_key_prints_id_and_server_key(env, module_database_url):
    """``projects create --public-key --webhook-url --json`` stores the project and prints JSON."""
    out = create_json(
        env,
        "--name",
        "shop",
        "--public-key",
        str(PUBLIC),
        "--webhook-url",
        "http://127.0.0.1:9000/hook",
    )
    assert out["project_id"].startswith("pj_")
    assert out["server_public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    load_public_key(out["server_public_key_pem"])
    project = await stored(module_database_url, out["project_id"])
    assert project is not None
    assert (project.name, project.webhook_url) == ("shop", "http://127.0.0.1:9000/hook")
    assert project.public_keys == (PUBLIC.read_text(),)
    assert kassa_cli("server-key", env=env).stdout == out["server_public_key_pem"]


async def test_generate_keys_writes_a_fresh_rsa_2048_pair(env, module_database_url, tmp_path):
    """``--generate-keys DIR`` writes a new pair (private 0600) and registers the public half."""
    folder = tmp_path / "partner"
    out = create_json(env, "--name", "gen", "--generate-keys", str(folder))
    private_path = Path(out["private_key_path"])
    public_path = Path(out["public_key_path"])
    assert private_path.parent == public_path.parent == folder
    assert private_path.stat().st_mode & 0o777 == 0o600
    key = load_private_key(private_path.read_bytes())
    assert key.key_size == 2048
    assert public_path.read_text() == public_pem(key)
    project = await stored(module_database_url, out["project_id"])
    assert project is not None
    assert project.public_keys == (public_pem(key),)
    assert verify_any(b"{}", sign(b"{}", key), project.public_keys)
    again = create_json(env, "--name", "gen2", "--generate-keys", str(tmp_path / "other"))
    other = load_private_key(Path(again["private_key_path"]).read_bytes())
    assert public_pem(other) != public_pem(key)


@pytest.mark.parametrize(
    "args",
    [[], ["--public-key", str(PUBLIC), "--generate-keys", "x"]],
    ids=["neither", "both"],
)
def test_create_needs_exactly_one_key_source(env, args):
    """Neither or both of ``--public-key``/``--generate-keys``: exit 2 with a message."""
    done = kassa_cli("projects", "create", "--name", "x", *args, env=env, check=False)
    assert done.returncode == 2
    assert "exactly one of --public-key" in done.stderr


def test_create_refuses_an_unreadable_public_key(env, tmp_path):
    """A file that is not an RSA public key PEM is refused naming the file; nothing is created."""
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    done = kassa_cli(
        "projects", "create", "--name", "x", "--public-key", str(bad), env=env, check=False
    )
    assert done.returncode == 2
    assert str(bad) in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/hook", "not a url", "http://user:pw@127.0.0.1/h"])
def test_create_refuses_a_bad_webhook_url(env, url):
    """Webhook URLs must be http(s) with a host and no credentials."""
    done = kassa_cli(
        "projects",
        "create",
        "--name",
        "x",
        "--public-key",
        str(PUBLIC),
        "--webhook-url",
        url,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert "--webhook-url" in done.stderr


def test_list_shows_every_project(env):
    """``projects list --json`` shows each project with its name, webhook URL and key count."""
    a = create_json(env, "--name", "alpha", "--public-key", str(PUBLIC))["project_id"]
    b = create_json(
        env, "--name", "beta", "--public-key", str(PUBLIC), "--webhook-url", "https://b.example/h"
    )["project_id"]
    listed = json.loads(kassa_cli("projects", "list", "--json", env=env).stdout)["projects"]
    by_id = {p["project_id"]: p for p in listed}
    assert (by_id[a]["name"], by_id[a]["webhook_url"], by_id[a]["keys"]) == ("alpha", None, 1)
    assert (by_id[b]["name"], by_id[b]["webhook_url"]) == ("beta", "https://b.example/h")
    text = kassa_cli("projects", "list", env=env).stdout
    assert a in text
    assert b in text


async def test_set_webhook_sets_and_clears_the_url(env, module_database_url):
    """``projects set-webhook ID URL`` stores the URL; ``''`` clears it."""
    pid = create_json(env, "--name", "hook", "--public-key", str(PUBLIC))["project_id"]
    kassa_cli("projects", "set-webhook", pid, "http://127.0.0.1:9000/new", env=env)
    project = await stored(module_database_url, pid)
    assert project is not None
    assert project.webhook_url == "http://127.0.0.1:9000/new"
    kassa_cli("projects", "set-webhook", pid, "", env=env)
    project = await stored(module_database_url, pid)
    assert project is not None
    assert project.webhook_url is None


def test_set_webhook_on_an_unknown_project_fails(env):
    """An unknown project id exits 1 naming it."""
    done = kassa_cli(
        "projects", "set-webhook", "pj_missing", "http://127.0.0.1:9/h", env=env, check=False
    )
    assert done.returncode == 1
    assert "pj_missing" in done.stderr


# --- commands without a shared database -----------------------------------------------------


def test_server_key_is_created_once_and_printed(tmp_path):
    """``kassa server-key`` prints the same PEM each time, kept under ``KASSA_DATA_DIR``."""
    env = {"KASSA_DATA_DIR": str(tmp_path)}
    first = kassa_cli("server-key", env=env).stdout
    second = kassa_cli("server-key", env=env).stdout
    assert first == second
    assert first == (tmp_path / "keys" / "server_public.pem").read_text()
    assert load_public_key(first).key_size >= 2048


def test_migrate_creates_the_database_and_can_run_again(tmp_path):
    """``kassa migrate`` creates the SQLite file (and its folder); a second run is harmless."""
    url = f"sqlite:///{tmp_path / 'deep' / 'kassa.sqlite3'}"
    first = kassa_cli("migrate", "--database-url", url)
    assert "database migrated" in first.stdout
    kassa_cli("migrate", "--database-url", url)
    assert (tmp_path / "deep" / "kassa.sqlite3").exists()


def test_flags_win_over_the_environment(tmp_path):
    """``--database-url`` replaces an unusable ``KASSA_DATABASE_URL``."""
    url = f"sqlite:///{tmp_path / 'flag.sqlite3'}"
    kassa_cli("migrate", "--database-url", url, env={"KASSA_DATABASE_URL": "mysql://nope"})
    assert (tmp_path / "flag.sqlite3").exists()


@pytest.mark.parametrize(
    ("command", "key", "value"),
    [
        (["serve"], "KASSA_PORT", "eighty"),
        (["serve"], "KASSA_LOG_LEVEL", "loud"),
        (["migrate"], "KASSA_DATABASE_URL", "mysql://db"),
        (["projects", "list"], "KASSA_MAX_BODY_BYTES", "1MB"),
        (["server-key"], "KASSA_SANDBOX", "perhaps"),
    ],
)
def test_malformed_setting_fails_naming_the_key(tmp_path, command, key, value):
    """A malformed ``KASSA_*`` value stops the command (exit 2) with the key in the message."""
    done = kassa_cli(*command, env={"KASSA_DATA_DIR": str(tmp_path), key: value}, check=False)
    assert done.returncode == 2
    assert key in done.stderr
    assert "Traceback" not in done.stderr


def test_commands_on_an_unmigrated_database_say_to_migrate(tmp_path):
    """Using a database before ``kassa migrate`` fails cleanly, pointing at the fix."""
    env = {"KASSA_DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}"}
    done = kassa_cli("projects", "list", env=env, check=False)
    assert done.returncode == 2
    assert "kassa migrate" in done.stderr


async def test_serve_port_flag_wins_over_the_environment(sqlite_url, tmp_path):
    """``kassa serve --port P`` listens on P even with another ``KASSA_PORT`` set."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KASSA_")}
    env = {
        **clean,
        "KASSA_DATABASE_URL": sqlite_url,
        "KASSA_DATA_DIR": str(tmp_path),
        "KASSA_PORT": str(free_port()),
    }
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kassa", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        async def healthy() -> bool:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                async with httpx.AsyncClient() as http:
                    return (
                        await http.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    ).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_for(healthy, timeout=30, interval=0.1)
    finally:
        proc.terminate()
        proc.wait(10)


def test_generate_keys_never_overwrites_an_existing_pair(env, tmp_path):
    """A folder that already holds a partner pair is refused: the old private key survives."""
    folder = tmp_path / "partner"
    create_json(env, "--name", "first", "--generate-keys", str(folder))
    before = (folder / "partner_private.pem").read_bytes()
    done = kassa_cli(
        "projects",
        "create",
        "--name",
        "second",
        "--generate-keys",
        str(folder),
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert "already holds a partner key pair" in done.stderr
    assert (folder / "partner_private.pem").read_bytes() == before


def test_bad_webhook_url_writes_no_keys(env, tmp_path):
    """A refused ``--webhook-url`` leaves nothing behind (no key files, so a retry works)."""
    folder = tmp_path / "partner"
    args = ["projects", "create", "--name", "x", "--generate-keys", str(folder)]
    done = kassa_cli(*args, "--webhook-url", "ftp://x", env=env, check=False)
    assert done.returncode == 2
    assert not folder.exists()


def test_missing_server_key_outside_sandbox_is_a_clean_error(tmp_path, sqlite_url):
    """Outside sandbox mode a missing server key is not generated: exit 2 naming the setting."""
    env = {"KASSA_SANDBOX": "0", "KASSA_DATA_DIR": str(tmp_path), "KASSA_DATABASE_URL": sqlite_url}
    for command in (
        ["server-key"],
        ["projects", "create", "--name", "x", "--public-key", str(PUBLIC)],
    ):
        done = kassa_cli(*command, env=env, check=False)
        assert done.returncode == 2, command
        assert "KASSA_SERVER_KEY_PATH" in done.stderr
        assert "Traceback" not in done.stderr
    listed = json.loads(kassa_cli("projects", "list", "--json", env=env).stdout)
    assert listed == {"projects": []}


def test_several_workers_need_postgresql(sqlite_url, tmp_path):
    """``kassa serve --workers 2`` on SQLite is refused (one writer)."""
    env = {"KASSA_DATABASE_URL": sqlite_url, "KASSA_DATA_DIR": str(tmp_path)}
    done = kassa_cli("serve", "--workers", "2", env=env, check=False)
    assert done.returncode == 2
    assert "needs PostgreSQL" in done.stderr


# --- kassa call -------------------------------------------------------------------------------


async def test_call_signs_and_posts_like_a_merchant(server, tmp_path):
    """``kassa call`` signs the body with ``--key``; the server accepts it and answers."""
    private = KEYS / "test_partner_private.pem"
    project = await create_project(server.database_url, key=load_private(private))
    body = tmp_path / "body.json"
    body.write_text('{"amount_details": {"amount": 500, "currency": "eur"}}')
    common = ["--project", project.id, "--key", str(private), "--base-url", server.base_url]
    created = kassa_cli("call", "session/create", *common, "--data", f"@{body}", "--json")
    session = json.loads(created.stdout)["session"]
    assert session["amount_details"] == {"amount": 500, "currency": "eur"}
    shown = kassa_cli(
        "call",
        "session/status",
        *common,
        "--api-version",
        "v2",
        "--data",
        json.dumps({"session_id": session["id"]}),
        "--json",
    )
    assert json.loads(shown.stdout)["session"]["id"] == session["id"]
    args = ["--data", f"@{body}", "--idempotency-key", "k1", "--json"]
    replayed = kassa_cli("call", "session/create", *common, *args)
    again = kassa_cli("call", "session/create", *common, *args)
    assert again.stdout == replayed.stdout


async def test_call_pretty_prints_with_rich_by_default(server):
    """Without ``--json`` the answer is indented JSON (still parseable), exit 0."""
    private = KEYS / "test_partner_private.pem"
    project = await create_project(server.database_url, key=load_private(private))
    done = kassa_cli(
        "call",
        "session/create",
        "--project",
        project.id,
        "--key",
        str(private),
        "--url",  # the old name still works
        server.base_url,
        "--data",
        '{"metadata": "pretty"}',
    )
    assert '\n  "session": {\n' in done.stdout
    assert json.loads(done.stdout)["session"]["metadata"] == "pretty"


async def test_call_exits_1_on_an_error_answer(server):
    """An error answer is printed, its code and description go to stderr, exit status 1."""
    project = await create_project(server.database_url)
    common = ["--project", project.id, "--base-url", server.base_url]
    done = kassa_cli(
        "call",
        "session/status",
        *common,
        "--key",
        str(KEYS / "test_partner_private.pem"),
        "--data",
        '{"session_id": "ps_x"}',
        "--json",
        check=False,
    )
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["code"] == "authentication_error"
    assert "error authentication_error:" in done.stderr
    assert "(HTTP 401)" in done.stderr


async def test_call_sends_any_method_and_malformed_bytes_as_given(server):
    """A raw call: an unknown method path and a body that is not JSON reach the server."""
    private = KEYS / "test_partner_private.pem"
    project = await create_project(server.database_url, key=load_private(private))
    common = ["--project", project.id, "--key", str(private), "--base-url", server.base_url]
    unknown = kassa_cli("call", "session/teleport", *common, "--json", check=False)
    assert unknown.returncode == 1
    assert "unknown API method" in unknown.stderr
    broken = kassa_cli("call", "session/create", *common, "--data", "{not json", check=False)
    assert broken.returncode == 1
    assert "error invalid_request:" in broken.stderr


def test_call_exits_2_on_usage_key_and_transport_problems(tmp_path):
    """A missing key file, a bad --api-version, or no server listening: exit 2, no traceback."""
    key = str(KEYS / "test_partner_private.pem")
    dead = f"http://127.0.0.1:{free_port()}"
    cases = [
        ["--key", str(tmp_path / "missing.pem"), "--base-url", dead],
        ["--key", key, "--base-url", dead, "--api-version", "v9"],
        ["--key", key, "--base-url", dead],
        ["--key", key, "--base-url", dead, "--data", f"@{tmp_path / 'nope.json'}"],
    ]
    for args in cases:
        done = kassa_cli("call", "session/create", "--project", "pj_x", *args, check=False)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith("kassa: "), done.stderr
    missing = kassa_cli("call", "session/create", "--key", key, check=False)
    assert missing.returncode == 2
    assert "--project" in missing.stderr
