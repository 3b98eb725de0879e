"""Drive pre-signed requests with ``wrk`` (Debian's package) and a small Lua script.

Signing costs the client ~265 µs a request; done inside the load generator it would steal the
server's cores. So the requests are signed before the run and written one per line to a file
(method, path, project, signature, idempotency key, body — tab separated); each wrk thread
takes every n-th line and cycles through its share. ``done`` prints the figures as JSON.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kassa.bench.report import Measure

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kassa.bench.signed import Prepared

LUA = r"""
local path = os.getenv("KASSA_WRK_REQUESTS")
local threads = {}
local mine = {}
local count = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local i = 0
  for line in io.lines(path) do
    if i % tonumber(os.getenv("KASSA_WRK_THREADS")) == id then
      local method, p, project, sign, key, body = line:match(
        "^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {["Content-Type"] = "application/json",
                       ["X-PARTNER-PROJECT"] = project, ["X-PARTNER-SIGN"] = sign}
      if key ~= "-" then headers["X-PARTNER-IDEMPOTENCY-KEY"] = key end
      table.insert(mine, wrk.format(method, p, headers, body))
    end
    i = i + 1
  end
end

function request()
  count = count + 1
  return mine[(count - 1) % #mine + 1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nKASSA-WRK {"requests":%d,"duration_us":%d,"errors":%d,' ..
    '"p50":%d,"p95":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True, slots=True)
class WrkOptions:
    """How hard and how long: threads, connections, seconds."""

    threads: int = 2
    connections: int = 32
    seconds: int = 15
    rate: float = 0.0  # > 0: each connection paces itself to connections / rate between sends


# Pacing for a fixed rate: wrk's ``delay()`` (ms before a connection's next request). A
# closed loop with a pause, not an open loop: a stalled answer delays that connection's next
# request, so the achieved rate is reported beside the latency. Each pause is drawn from an
# exponential distribution with the mean ``KASSA_WRK_DELAY_MS``, so the connections' sends
# are independent and the arrivals close to Poisson at the set rate. Equal pauses (used until
# 2026-12-07) kept the connections in phase: every connection sent at about the same moment,
# a burst of one request per connection each pause (``docs/benchmarks/README.md``).
PACED = """
local mean = tonumber(os.getenv("KASSA_WRK_DELAY_MS"))
local seeded = false
function delay()
  if not seeded then
    math.randomseed(os.time() * 100 + id)
    seeded = true
  end
  return math.floor(-mean * math.log(1 - math.random()) + 0.5)
end
"""


def write_requests(path: Path, prepared: Sequence[Prepared]) -> None:
    """One request per line for the Lua script (bodies are single-line JSON)."""
    with path.open("w", encoding="utf-8") as fh:
        for p in prepared:
            body = p.body.decode("utf-8")
            fh.write(f"{p.method}\t{p.path}\t{p.project}\t{p.signature}\t{p.key or '-'}\t{body}\n")


# One fixed request, repeated (a baseline that needs no signature: localstripe).
STATIC_LUA = r"""
wrk.method = os.getenv("KASSA_WRK_METHOD")
wrk.path = os.getenv("KASSA_WRK_PATH")
wrk.body = os.getenv("KASSA_WRK_BODY")
wrk.headers["Content-Type"] = os.getenv("KASSA_WRK_TYPE")
wrk.headers["Authorization"] = os.getenv("KASSA_WRK_AUTH")
""" + LUA[LUA.index("function done") :]


def run_wrk(base_url: str, prepared: Sequence[Prepared], options: WrkOptions) -> Measure:
    """Run wrk against ``base_url`` for ``options.seconds``; the measured figures."""
    with tempfile.TemporaryDirectory(prefix="kassa-wrk-") as tmp:
        requests = Path(tmp) / "requests.tsv"
        write_requests(requests, prepared)
        env = {"KASSA_WRK_REQUESTS": str(requests), "KASSA_WRK_THREADS": str(options.threads)}
        lua = LUA
        if options.rate > 0:
            lua += PACED
            env["KASSA_WRK_DELAY_MS"] = str(round(options.connections * 1000 / options.rate))
        return _wrk(base_url, lua, env, options, Path(tmp))


def run_wrk_static(
    base_url: str,
    options: WrkOptions,
    *,
    path: str,
    body: str,
    content_type: str,
    authorization: str,
) -> Measure:
    """The same POST over and over (no signature): a baseline such as localstripe."""
    env = {
        "KASSA_WRK_METHOD": "POST",
        "KASSA_WRK_PATH": path,
        "KASSA_WRK_BODY": body,
        "KASSA_WRK_TYPE": content_type,
        "KASSA_WRK_AUTH": authorization,
    }
    with tempfile.TemporaryDirectory(prefix="kassa-wrk-") as tmp:
        return _wrk(base_url, STATIC_LUA, env, options, Path(tmp))


def _wrk(base_url: str, lua: str, env: dict[str, str], options: WrkOptions, tmp: Path) -> Measure:
    binary = shutil.which("wrk")
    if binary is None:
        msg = "wrk is not installed: `make system` installs Debian's wrk"
        raise RuntimeError(msg)
    script = tmp / "kassa.lua"
    script.write_text(lua, encoding="utf-8")
    done = subprocess.run(  # noqa: S603 - Debian's wrk with our script
        [
            binary,
            "-t",
            str(options.threads),
            "-c",
            str(options.connections),
            "-d",
            f"{options.seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base_url,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=options.seconds + 60,
        env={**env, "PATH": "/usr/bin:/bin"},
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("KASSA-WRK ")), None)
    if done.returncode != 0 or line is None:
        msg = f"wrk failed: {done.stderr[-500:]} {done.stdout[-500:]}"
        raise RuntimeError(msg)
    data = json.loads(line.removeprefix("KASSA-WRK "))
    seconds = data["duration_us"] / 1e6
    return Measure(
        requests=data["requests"],
        errors=data["errors"],
        seconds=seconds,
        p50_ms=data["p50"] / 1000,
        p95_ms=data["p95"] / 1000,
        p99_ms=data["p99"] / 1000,
        max_ms=data["max"] / 1000,
    )
