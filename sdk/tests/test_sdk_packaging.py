"""kassa-client stands alone: it imports nothing of the server, and its wheel installs clean."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

SDK = Path(__file__).parents[1]
SRC = SDK / "src" / "kassa_client"
ALLOWED = {"httpx", "pydantic", "pydantic_core", "cryptography", "kassa_client"}


def _top_level_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_sdk_imports_only_the_stdlib_and_its_three_dependencies():
    """No ``kassa``, FastAPI, asyncpg or orjson anywhere in the package's source."""
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    for path in SRC.rglob("*.py"):
        extra = _top_level_imports(path) - stdlib - ALLOWED
        assert not extra, f"{path.relative_to(SDK)} imports {sorted(extra)}"


def test_importing_the_sdk_loads_nothing_of_the_server():
    """In a fresh interpreter ``import kassa_client`` leaves kassa, FastAPI, asyncpg unloaded."""
    code = (
        "import sys, kassa_client, kassa_client.webhooks;"
        "bad = [m for m in ('kassa', 'fastapi', 'asyncpg', 'starlette', 'orjson')"
        " if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_wheel_builds_and_installs_into_a_clean_venv(tmp_path):
    """``pip wheel`` builds it; a venv without system site-packages installs it and its deps.

    There ``import kassa_client`` works and ``kassa`` is not importable.
    """
    source = tmp_path / "sdk"  # a copy: the build leaves nothing in the working tree
    shutil.copytree(
        SDK, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "tests")
    )
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = dist.glob("kassa_client-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "kassa_client/py.typed" in names
    assert "kassa_client/models/session.py" in names
    assert not any(n.startswith("kassa/") for n in names)
    metadata = next(n for n in names if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Name: kassa-client" in text
    requires = sorted(line for line in text.splitlines() if line.startswith("Requires-Dist:"))
    assert [r.split()[1].split("<")[0].split(">")[0] for r in requires] == [
        "cryptography",
        "httpx",
        "pydantic",
    ]
    assert "Description-Content-Type: text/markdown" in text

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    clean = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=clean,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    probe = (
        "import importlib.util, kassa_client;"
        "from kassa_client import Client, AsyncClient, verify_and_parse;"
        "assert importlib.util.find_spec('kassa') is None, 'kassa importable';"
        "assert importlib.util.find_spec('fastapi') is None, 'fastapi importable';"
        "print(kassa_client.__version__)"
    )
    ran = subprocess.run(
        [str(python), "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=clean,
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.strip() == "0.1.0"
