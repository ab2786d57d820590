"""Overload for end-to-end tests and benches: `wrk` on the data plane, control commands beside.

`wrk` (Debian package `wrk`) generates the load: C code on kept-alive connections, so it
measures the server rather than itself (httpx's async pool stalls at high concurrency,
DESIGN.md). Its Lua scripts count every answer by status, and the 503s that came without a
`Retry-After`, and `done()` prints them as one JSON line.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import skops.io as sio

MODEL = "credit-default"
FEATURES = "age:numeric,region:categorical"

_COUNTING = """
threads = {}
local next_id = 1
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

statuses = {}
shed_without_retry = 0
local n = 0

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status == 503 and headers["retry-after"] == nil and headers["Retry-After"] == nil then
    shed_without_retry = shed_without_retry + 1
  end
end

function done(summary, latency, requests)
  local total = {}
  local bare = 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end
    bare = bare + t:get("shed_without_retry")
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format('"%s": %d', k, v)) end
  io.write(string.format(
    'WRK-RESULT {"statuses": {%s}, "shed_without_retry": %d, "requests": %d,'
    .. ' "errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d},'
    .. ' "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "seconds": %.3f}\\n',
    table.concat(parts, ", "), bare, summary.requests,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.duration / 1e6))
end
"""

PREDICT_SCRIPT = (
    _COUNTING
    + """
local regions = {"north", "south", "east"}
function request()
  n = n + 1
  local body = string.format(
    '{"unit_id": "u%d-%d", "features": {"age": %d, "region": "%s"}}',
    id, n % 5000, 20 + n % 50, regions[n % 3 + 1])
  return wrk.format("POST", nil, nil, body)
end
"""
)

EVENTS_PER_BATCH = 100
EVENTS_SCRIPT = (
    _COUNTING
    + f"""
local regions = {{"north", "south", "east"}}
function request()
  n = n + 1
  local items = {{}}
  for i = 1, {EVENTS_PER_BATCH} do
    items[i] = string.format(
      '{{"request_id": "e%d-%d-%d", "version": "v1", "prediction": %d, "score": 0.5,'
      .. ' "latency_ms": 1.5, "features": {{"age": %d, "region": "%s"}}}}',
      id, n, i, i % 2, 20 + i % 50, regions[i % 3 + 1])
  end
  return wrk.format("POST", nil, nil, "[" .. table.concat(items, ",") .. "]")
end
"""
)


def wrk_path() -> str | None:
    return shutil.which("wrk")


@dataclass
class WrkResult:
    statuses: dict[int, int]
    shed_without_retry: int
    requests: int
    errors: dict[str, int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    seconds: float

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)

    @property
    def shed(self) -> int:
        return self.statuses.get(503, 0)

    def other(self) -> dict[int, int]:
        """Answers neither 2xx nor 503."""
        return {s: n for s, n in self.statuses.items() if not (200 <= s < 300 or s == 503)}


class Wrk:
    """One `wrk` process posting to `url` with `script` until its duration is over."""

    def __init__(
        self,
        url: str,
        script: str,
        *,
        connections: int,
        seconds: float,
        workdir: Path,
        name: str,
        token: str | None = None,
        threads: int = 2,
    ) -> None:
        exe = wrk_path()
        if exe is None:
            raise RuntimeError("wrk is not installed (Debian: apt-get install -y wrk)")
        lua = workdir / f"{name}.lua"
        lua.write_text(script)
        headers = ["-H", "Content-Type: application/json"]
        if token:
            headers += ["-H", f"Authorization: Bearer {token}"]
        self.proc = subprocess.Popen(
            [exe, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:.0f}s",
             "--timeout", "120s", "-s", str(lua), *headers, url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def result(self, timeout: float = 300) -> WrkResult:
        out, err = self.proc.communicate(timeout=timeout)
        for line in out.splitlines():
            if line.startswith("WRK-RESULT "):
                doc = json.loads(line.removeprefix("WRK-RESULT "))
                doc["statuses"] = {int(k): v for k, v in doc["statuses"].items()}
                return WrkResult(**doc)
        raise RuntimeError(f"wrk printed no result (exit {self.proc.returncode}): {out}{err}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def rss_bytes(pid: int) -> int:
    """The resident set of process `pid` (VmRSS), 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class RssPeak:
    """The highest RSS of `pid`, sampled every `every_s` from a thread until `stop()`."""

    def __init__(self, pid: int, every_s: float = 0.2) -> None:
        self.pid = pid
        self.peak = rss_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)
        self._thread.start()

    def _run(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def fitted(seed: int) -> bytes:
    """A fitted logistic regression over age and region (a real catalogue pipeline)."""
    from core.training.catalogue import build_pipeline

    rng = np.random.default_rng(seed)
    age = rng.normal(40, 10, 300)
    region = rng.choice(["north", "south", "east"], 300)
    y = ((age - 40) / 10 + (region == "south") + rng.normal(0, 1, 300) > 0.5).astype(int)
    pipe = build_pipeline("classification", "logistic_regression", ["age"], ["region"])
    pipe.fit(pl.DataFrame({"age": age, "region": region}), y)
    return sio.dumps(pipe)


def prepare_store(home: Path) -> str:
    """A store with `MODEL` (v1 in production, v2 validated, a draft A/B test of the two) and
    an operator token; returns the token's secret."""
    from core.abtesting import ABTestConfig
    from core.engine import LocalEngine
    from core.names import features_spec

    engine = LocalEngine.open(home, actor="bench:setup")
    try:
        engine.create_model(MODEL, "classification", target="default",
                            features=features_spec(FEATURES))  # fmt: skip
        for seed in (1, 2):
            engine.register_version(MODEL, fitted(seed), algorithm="logistic_regression")
        for v in ("v1", "v2"):
            engine.transition_version(MODEL, v, "validated")
        engine.deploy(MODEL, "v1", reason="first release")
        engine.create_ab_test(
            ABTestConfig(model=MODEL, name="v2 vs v1", versions=["v1", "v2"],
                         environment="staging"),
        )  # fmt: skip
        _, secret = engine.create_token("load", "operator")
    finally:
        engine.close()
    return secret


def control_script() -> list[list[str]]:
    """The control commands, as `mlc` arguments after `--store`: the operator's checks and
    changes during an incident. The deploy alternates between the two versions."""
    return [
        ["--json", "status"],
        ["--json", "deploy", MODEL, "v2", "--yes", "--reason", "under load"],
        ["--json", "rollback", MODEL, "--dry-run", "--reason", "rehearsal"],
        ["--json", "audit", "verify"],
        ["--json", "ab", "list"],
        ["--json", "deploy", MODEL, "v1", "--yes", "--reason", "back"],
    ]


@dataclass
class Timed:
    args: list[str]
    code: int
    seconds: float
    output: str


@dataclass
class ControlLoop:
    """Runs `run(args)` for each control command in turn, from a thread, until stopped."""

    run: Callable[[list[str]], tuple[int, str]]
    commands: list[list[str]] = field(default_factory=control_script)
    pause_s: float = 0.2
    done: list[Timed] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def rounds(self, n: int) -> list[Timed]:
        for _ in range(n):
            for args in self.commands:
                self._one(args)
        return self.done

    def _one(self, args: list[str]) -> None:
        began = time.perf_counter()
        code, output = self.run(args)
        self.done.append(Timed(args, code, time.perf_counter() - began, output))

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                for args in self.commands:
                    if self._stop.is_set():
                        return
                    self._one(args)
                    self._stop.wait(self.pause_s)

        self._thread = threading.Thread(target=loop, name="control-loop", daemon=True)
        self._thread.start()

    def stop(self) -> list[Timed]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=300)
        return self.done


def by_command(timed: list[Timed]) -> dict[str, list[Timed]]:
    """`timed` grouped by command name (`deploy`, `status`, …)."""
    groups: dict[str, list[Timed]] = {}
    for t in timed:
        words = [a for a in t.args if not a.startswith("-")]
        key = " ".join(words[:2]) if words[0] in ("audit", "ab") else words[0]
        if "--dry-run" in t.args:
            key += " --dry-run"
        groups.setdefault(key, []).append(t)
    return groups


def summary(times: list[float]) -> dict[str, Any]:
    return {
        "n": len(times),
        "median_s": statistics.median(times) if times else None,
        "max_s": max(times) if times else None,
    }
