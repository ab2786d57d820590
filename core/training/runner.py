"""Runs training jobs in worker processes, a few at a time, and relays what they report.

Workers come from a fork server: the owner holds a DuckDB connection and threads, which a
child forked from it must never inherit, while the fork server is a clean process that has
imported scikit-learn once, so every job after the first starts in milliseconds instead of
re-importing for seconds (measured by bench/train_credit.py). Cancelling a job terminates
its worker; the owner then records the cancellation itself. No worker, fork server or resource
tracker outlives an owner that dies, however it dies (`core.training.lifeline`).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.training.spec import JobSpec

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]
"""Called in the runner's threads with (job id, message); messages as `worker.run_job` sends."""


def _worker_main(spec: JobSpec, out: Any) -> None:
    from core.training.lifeline import bind_to_owner  # preloaded in the fork server
    from core.training.worker import run_job

    bind_to_owner()

    run_job(spec, out.put)


@dataclass
class _Running:
    spec: JobSpec
    process: Any
    messages: Any
    cancelled: bool = False
    finished: bool = False


class JobRunner:
    def __init__(self, handle: Handler, max_workers: int = 1) -> None:
        self._handle = handle
        self._max = max(1, max_workers)
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(["core.training.lifeline", "core.training.worker"])
        self._lock = threading.Lock()
        self._queued: deque[JobSpec] = deque()
        self._running: dict[str, _Running] = {}
        self._relays: set[threading.Thread] = set()
        """Each running job's relay, which records what its worker reports: joined on
        shutdown, so none writes to a store being closed."""
        self._closed = False

    def submit(self, spec: JobSpec) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the job runner is shut down")
            self._queued.append(spec)
        self._dispatch()

    def cancel(self, job_id: str) -> bool:
        """Stop a queued or running job; False if this runner does not know it."""
        with self._lock:
            for spec in list(self._queued):
                if spec.job_id == job_id:
                    self._queued.remove(spec)
                    break
            else:
                run = self._running.get(job_id)
                if run is None:
                    return False
                run.cancelled = True
                run.process.terminate()
                return True
        self._handle(job_id, {"type": "cancelled"})
        return True

    def active(self) -> list[str]:
        with self._lock:
            return [s.job_id for s in self._queued] + list(self._running)

    def shutdown(self) -> list[str]:
        """Stop everything (the owner is exiting); return the ids that were stopped."""
        with self._lock:
            self._closed = True
            stopped = [s.job_id for s in self._queued]
            self._queued.clear()
            running = list(self._running.values())
            for run in running:
                run.cancelled = True
                run.process.terminate()
        for run in running:
            run.process.join(timeout=5)
            stopped.append(run.spec.job_id)
        with self._lock:
            relays = [t for t in self._relays if t is not threading.current_thread()]
        for relay in relays:
            relay.join(timeout=15)
        return stopped

    def _dispatch(self) -> None:
        with self._lock:
            while self._queued and len(self._running) < self._max and not self._closed:
                spec = self._queued.popleft()
                messages = self._ctx.Queue()
                process = self._ctx.Process(
                    target=_worker_main,
                    args=(spec, messages),
                    name=f"mlc-train-{spec.job_id}",
                    daemon=True,
                )
                run = _Running(spec, process, messages)
                try:
                    process.start()
                except Exception as e:  # the job must end as failed, never stay queued
                    log.exception("cannot start the worker of %s", spec.job_id)
                    self._handle(
                        spec.job_id,
                        {"type": "error", "message": f"cannot start the training worker: {e}"},
                    )
                    continue
                self._running[spec.job_id] = run
                relay = threading.Thread(
                    target=self._relay_until_done,
                    args=(run,),
                    name=f"relay-{spec.job_id}",
                    daemon=True,
                )
                self._relays.add(relay)
                relay.start()
                self._handle(spec.job_id, {"type": "started", "pid": process.pid})

    def _relay_until_done(self, run: _Running) -> None:
        try:
            self._relay(run)
        finally:
            with self._lock:
                self._relays.discard(threading.current_thread())

    def _relay(self, run: _Running) -> None:
        job_id = run.spec.job_id
        ended = False
        try:
            while not ended:
                try:
                    msg = run.messages.get(timeout=0.2)
                except queue.Empty:
                    if not run.process.is_alive():
                        # Drain what the worker wrote just before it exited.
                        try:
                            msg = run.messages.get(timeout=0.5)
                        except queue.Empty:
                            break
                    else:
                        continue
                if run.cancelled:
                    break
                ended = msg.get("type") in ("result", "error")
                try:
                    self._handle(job_id, msg)
                except Exception:
                    log.exception("recording a message of job %s failed", job_id)
                    if ended:
                        self._handle(
                            job_id, {"type": "error", "message": "recording the result failed"}
                        )
        finally:
            run.process.join(timeout=10)
            with self._lock:
                self._running.pop(job_id, None)
                closed = self._closed
            if run.cancelled and not closed:
                self._handle(job_id, {"type": "cancelled"})
            elif not ended and not run.cancelled:
                code = run.process.exitcode
                self._handle(
                    job_id,
                    {"type": "error", "message": f"worker exited unexpectedly (exit code {code})"},
                )
            self._dispatch()
