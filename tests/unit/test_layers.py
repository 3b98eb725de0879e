"""Dependency direction (STYLE.md): imports point inward only. Walks ``src/kassa`` with ``ast``.

- ``domain`` imports the standard library only;
- ``service`` imports ``domain`` and ``service`` (plus ``orjson``, which ``service/wire.py``
  renders with): no sqlite3, asyncpg, aiohttp, FastAPI, pydantic;
- ``adapters`` never import the edges (``api``, ``cli``, ``web``, ``worker``, ``bootstrap``);
- the HTTP edges (``api``, ``web``) never import ``adapters``: verification, metrics and the
  worker reach them through the service ports or ``bootstrap``;
- production code never imports the fakes in ``kassa.testing``.

Imports under ``if TYPE_CHECKING:`` count too: a type-only import is still a dependency.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "kassa"
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}
EDGES = ("kassa.api", "kassa.cli", "kassa.web", "kassa.worker", "kassa.bootstrap")


def module_name(path: Path) -> str:
    """``src/kassa/service/wire.py`` → ``kassa.service.wire``."""
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports, relative imports resolved against ``module``."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violation(module: str, imported: str) -> str | None:  # noqa: PLR0911 - one rule per return
    """Why ``module`` may not import ``imported``, or None if the import is allowed."""
    top = imported.split(".", 1)[0]
    if _within(imported, ("kassa.testing",)) and not _within(module, ("kassa.testing",)):
        return "production code must not import the test fakes"
    if _within(module, ("kassa.domain",)):
        if top in STDLIB or _within(imported, ("kassa.domain",)):
            return None
        return "domain imports the standard library only"
    if _within(module, ("kassa.service",)):
        if top in STDLIB or top == "orjson" or _within(imported, ("kassa.domain", "kassa.service")):
            return None
        return "service imports domain, service and orjson only"
    if _within(module, ("kassa.adapters",)) and _within(imported, EDGES):
        return "adapters never import api, cli, web, worker or bootstrap"
    if _within(module, ("kassa.api", "kassa.web")) and _within(imported, ("kassa.adapters",)):
        return "the HTTP edges reach adapters through ports or bootstrap only"
    return None


def layer_violations(root: Path) -> list[str]:
    """Every forbidden import under ``root``, as ``module -> imported: reason``."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path)
        source = path.read_text(encoding="utf-8")
        for imported in sorted(imports_of(source, module, is_package=path.name == "__init__.py")):
            reason = violation(module, imported)
            if reason is not None:
                problems.append(f"{module} -> {imported}: {reason}")
    return problems


def test_source_tree_respects_the_dependency_direction():
    """No module in ``src/kassa`` imports against the layering."""
    assert layer_violations(SRC) == []


def test_the_walk_sees_every_layer():
    """The walk finds the domain, service and adapter modules (a moved tree cannot pass empty)."""
    modules = {module_name(p) for p in SRC.rglob("*.py")}
    for expected in ("kassa.domain.money", "kassa.service.wire", "kassa.adapters.db.store"):
        assert expected in modules
    assert "orjson" in imports_of((SRC / "service" / "wire.py").read_text(), "kassa.service.wire")


@pytest.mark.parametrize(
    ("module", "source", "reason"),
    [
        ("kassa.domain.money", "import orjson", "domain imports the standard library only"),
        ("kassa.domain.money", "from kassa.service import wire", "domain imports the standard"),
        ("kassa.service.sessions", "import pydantic", "service imports domain, service and orjson"),
        ("kassa.service.sessions", "from kassa.adapters.db import store", "service imports"),
        (
            "kassa.service.sessions",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from fastapi import FastAPI",
            "service imports",
        ),
        ("kassa.service.sessions", "from ..api import errors", "service imports"),
        ("kassa.adapters.db.store", "from kassa.api.errors import render", "adapters never"),
        ("kassa.adapters.vault", "import kassa.cli.main", "adapters never"),
        ("kassa.api.auth", "from kassa.adapters.keys import verify_any", "the HTTP edges"),
        ("kassa.web.pages", "import kassa.adapters.vault", "the HTTP edges"),
        (
            "kassa.api.app",
            "from kassa.testing import InMemoryStore",
            "production code must not import the test",
        ),
    ],
)
def test_forbidden_import_is_reported(module, source, reason):
    """The checker flags each kind of forbidden import, including relative and type-only ones."""
    problems = [violation(module, imported) for imported in imports_of(source, module)]
    assert any(p is not None and p.startswith(reason) for p in problems), problems


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("kassa.domain.session", "from collections.abc import Mapping\nfrom .errors import X"),
        ("kassa.service.wire", "import orjson\nfrom kassa.domain.session import ApiVersion"),
        ("kassa.adapters.db.store", "from kassa.service.ports import VaultEntry"),
        ("kassa.api.auth", "from kassa.service.ports import Verifier"),
    ],
)
def test_allowed_import_passes(module, source):
    """Inward imports are allowed."""
    assert all(violation(module, i) is None for i in imports_of(source, module))


MAX_LINES = 400


def test_no_module_is_over_400_lines():
    """Modules stay small and named after what they hold (STYLE.md): split by concept."""
    long = {
        str(p.relative_to(SRC)): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
