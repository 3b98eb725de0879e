"""``--profile``: a py-spy sampling profile of one API process while kassa is under load.

py-spy (a dev dependency; no code change in the server, ~1 % overhead in ``--nonblocking``
mode) records the process's Python stacks 100 times a second into folded-stack text; the
report gets the functions that hold the most samples themselves (C calls count for the
Python line that makes them: RSA verification shows as the line calling ``verify``) and the
share of samples by library, counted once per stack for each library on it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kassa.bench.report import Report

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")
# Library of a frame, by the first matching piece of its file path.
LIBRARIES = (
    ("kassa/api/fast", "kassa fast path (raw ASGI)"),
    ("kassa/api", "kassa api (routes, schemas, auth)"),
    ("kassa/service", "kassa service"),
    ("kassa/adapters/db", "kassa SQL adapters"),
    ("kassa/adapters/keys", "RSA signatures"),
    ("kassa/domain", "kassa domain"),
    ("kassa/logging", "logging (kassa)"),
    ("logging/", "logging (stdlib)"),
    ("starlette/", "Starlette"),
    ("fastapi/", "FastAPI"),
    ("uvicorn/", "uvicorn"),
    ("asyncpg/", "asyncpg"),
    ("pydantic", "pydantic"),
    ("cryptography/", "cryptography"),
    ("prometheus_client/", "prometheus_client"),
    ("asyncio/", "asyncio"),
)


def py_spy() -> str | None:
    """The py-spy beside this interpreter, or on PATH."""
    here = Path(sys.executable).with_name("py-spy")
    return str(here) if here.exists() else shutil.which("py-spy")


def start(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy record of ``pid`` for ``seconds`` into ``out`` (None without py-spy)."""
    binary = py_spy()
    if binary is None:
        return None
    return subprocess.Popen(  # noqa: S603 - py-spy from our venv
        [binary, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "100",
         "--nonblocking", "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def library(path: str) -> str | None:
    """The library a file belongs to (``LIBRARIES``), None for the rest."""
    return next((name for piece, name in LIBRARIES if piece in path), None)


def summarize(
    folded: str, top: int = 12
) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(own-time share of the busiest frames, share of samples by library)."""
    own: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    total = 0
    for line in folded.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        leaf = _FRAME.match(frames[-1])
        own[_short(leaf["func"], leaf["file"]) if leaf else frames[-1]] += samples
        seen = {library(m["file"]) for f in frames if (m := _FRAME.match(f))}
        for name in seen - {None}:
            libraries[str(name)] += samples
    if not total:
        return [], []
    return (
        [(name, n / total) for name, n in own.most_common(top)],
        [(name, n / total) for name, n in libraries.most_common()],
    )


def _short(func: str, file: str) -> str:
    parts = Path(file).parts
    return f"{func} ({'/'.join(parts[-2:])})"


def add_to_report(
    report: Report, label: str, proc: subprocess.Popen[bytes] | None, out: Path
) -> None:
    """Wait for py-spy, then put the summary of the ``label`` load into the report's notes."""
    if proc is None:
        report.notes.append("no profile: py-spy is not installed (`make install` adds it)")
        return
    proc.wait(120)
    if not out.exists():
        report.notes.append("no profile: py-spy could not attach (ptrace not permitted?)")
        return
    own, libraries = summarize(out.read_text(encoding="utf-8", errors="replace"))
    report.notes.append(
        f"profile of one API process under {label} (py-spy, share of samples; a stack counts "
        "once for each library on it): "
        + ", ".join(f"{name} {share:.0%}" for name, share in libraries)
    )
    report.notes.append(
        f"busiest frames under {label} (own samples): "
        + "; ".join(f"{name} {share:.1%}" for name, share in own)
    )
