"""Fault test: SIGKILL a real `mlc serve` while it trains; nothing it started may live on.

The owner's tree is read from /proc before the kill (the resource tracker and the fork server
are its children, each worker a child of the fork server); after the kill every one of them
must be gone within a bounded time, and the next owner marks the job failed: "owner died".
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import polars as pl
import pytest

from core.domain import TrainingStatus
from core.engine import LocalEngine
from tests.e2e.server import Server
from tests.training.conftest import CREDIT, FAST_CONFIG, HGB_SPACE, one_fit_config


class Proc(NamedTuple):
    pid: int
    ppid: int
    start: int
    """Start time in clock ticks: tells a reused pid apart."""
    cmdline: str


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, start time) of a process, None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1]), int(fields[19])


def _descendants(root: int) -> list[Proc]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None:
            children.setdefault(st[1], []).append(int(entry))
    found: list[Proc] = []
    todo = [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            st = _stat(pid)
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if st is not None:
                found.append(Proc(pid, st[1], st[2], cmdline))
                todo.append(pid)
    return found


def _alive(proc: Proc) -> bool:
    st = _stat(proc.pid)
    # A zombie has exited (only its exit status waits to be reaped by whoever adopted it).
    return st is not None and st[2] == proc.start and st[0] not in ("Z", "X")


def _search(data: Path) -> str:
    """A long search: the worker reports progress after every trial."""
    return FAST_CONFIG.format(
        data=data, algorithm="hist_gradient_boosting", params="{ max_iter = 40 }",
        trials=500, space=HGB_SPACE,
    )  # fmt: skip


def _silent_fit(data: Path) -> str:
    """One fit of minutes: after "fitting the final model" the worker says nothing until it
    ends, so only the lifeline (not a failed write to a dead owner) can stop it in time."""
    return one_fit_config(data, params="{ max_iter = 100000, early_stopping = false }")


@pytest.mark.slow  # starts a server and a training worker
@pytest.mark.parametrize(
    ("config_of", "started_at"), [(_search, 0.05), (_silent_fit, 0.86)], ids=["search", "silent"]
)
def test_sigkill_of_the_owner_during_training_leaves_no_process_and_fails_the_job(
    tmp_path: Path, config_of: Callable[[Path], str], started_at: float
) -> None:
    data = tmp_path / "credit_small.parquet"
    pl.read_parquet(CREDIT).head(4000).write_parquet(data)
    config = tmp_path / "train.toml"
    config.write_text(config_of(data))
    home = tmp_path / "store"
    server = Server(home).start()
    try:
        created = server.mlc(
            "models", "create", "credit-default", "--task", "classification", "--target", "default"
        )
        assert created.returncode == 0, created.stderr
        queued = server.mlc("--json", "train", "credit-default", "--config", str(config))
        assert queued.returncode == 0, queued.stderr
        job_id = json.loads(queued.stdout)["job"]["id"]

        assert server.proc is not None
        owner = server.proc.pid
        deadline = time.monotonic() + 120
        tree: list[Proc] = []
        while time.monotonic() < deadline:
            shown = json.loads(server.mlc("--json", "jobs", "show", job_id).stdout)
            tree = _descendants(owner)
            # A worker is forked from the fork server, so it shows the same command line.
            servers = [p for p in tree if p.ppid == owner and "forkserver" in p.cmdline]
            workers = [p for p in tree if p.ppid in {s.pid for s in servers}]
            if shown["job"]["progress"] >= started_at and workers:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"the job never got going: {tree}")
        trackers = [p for p in tree if "multiprocessing.resource_tracker" in p.cmdline]
        assert len(trackers) == 1 and trackers[0].ppid == owner, tree
        assert len(servers) == 1 and len(workers) == 1, tree

        server.kill()

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(p) for p in tree):
            time.sleep(0.1)
        assert [p for p in tree if _alive(p)] == []
    finally:
        server.kill()

    reopened = LocalEngine.open(home)
    try:
        job = reopened.get_training_status(job_id)
        assert job.status is TrainingStatus.FAILED
        assert job.error is not None and job.error.startswith("owner died")
        logs = reopened.job_details(job_id).logs
        assert logs[-1]["level"] == "error" and logs[-1]["message"].startswith("owner died")
    finally:
        reopened.close()
