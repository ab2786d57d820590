"""Gateway speed: predict latency and throughput, and log-only ingest, over real HTTP.

Starts `mlc serve` on 127.0.0.1 over a temporary store holding a credit-default model
(hist_gradient_boosting on the sample data), called with an operator's bearer token, then
measures:
  - the baseline: the same model's own `predict_proba` called directly in this process
    (one row, and a batch of 100), the floor any gateway adds to, in rounds alternating with
  - POST /v1/models/credit-default/predict, one request at a time on a kept-alive connection
    (latency p50/p99); then from several client processes (requests/s), single and batch of 100;
  - POST /v1/models/credit-default/events with batches of 1,000 unique log-only events from
    several client processes (events/s; every request waits until its events are journaled
    and synced), and the rate counting until DuckDB holds them all.
Clients send requests encoded whole beforehand on kept-alive connections and only read the
answers (`_Client`), so they measure the server, not themselves. During the latency rounds
this script runs on CPU 0 and the server's event loop on CPU 1 (`--no-pin` leaves them to
the scheduler).
Prints medians and the gateway's added latency over the baseline.

    uv run python bench/serve_gateway.py [--seconds 5] [--clients 4] [--no-pin]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing as mp
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODEL = "credit-default"
ROUNDS = 40
"""Of bare predicts and gateway requests, alternating, per size."""
PER_ROUND = {1: 100, 100: 53}
"""Calls per round, by batch size: a p99 of 4,000 single requests rests on their 40 slowest,
and of 2,120 batches on 21 (with 20 rounds of 25 batches it rested on 5, and two runs'
figures differed by up to 10 ms).

A round of batches must not hold a multiple of the rows the event loader gathers per load
(`ingest.LINGER_ROWS`): with 50 batches (5,000 rows) every load started at a round's last
batch, so it ran beside the next round of bare predicts instead of beside gateway requests
(measured: 931-979 ms of loading during bare rounds and 11-20 ms during gateway rounds), which
slowed the baseline (its p99 14-17 ms instead of 5-7) and hid what loads cost the gateway.
With 53 the loads start at every place in a round, as under steady traffic (see `_phases`)."""


def _phases(batches_per_round: int, size: int) -> int:
    """At how many different places in a round of batches the event loader's loads start:
    one every `LINGER_ROWS` rows, that is every `LINGER_ROWS // size` batches."""
    from core.events.writer import LINGER_ROWS

    every = max(1, LINGER_ROWS // size)
    return batches_per_round // math.gcd(batches_per_round, every)


def _rows(n: int, offset: int = 0) -> list[dict]:
    import polars as pl

    frame = pl.read_parquet(ROOT / "sample_data/credit/credit_current.parquet").slice(offset, n)
    return frame.drop(["application_id", "applied_at", "default"]).to_dicts()


def setup(home: Path) -> tuple[Any, dict[str, Any], str]:
    import skops.io as sio

    from core.domain import Feature, Task
    from core.engine import LocalEngine
    from core.training.catalogue import build_pipeline
    from core.training.config import load_config
    from core.training.data import load_dataset

    cfg = load_config(ROOT / "sample_data/credit/credit.toml")
    data = load_dataset(cfg.data, cfg.split, Task.CLASSIFICATION)
    pipe = build_pipeline(
        "classification",
        "hist_gradient_boosting",
        data.numeric,
        data.categorical,
        {"max_iter": 100},
    )
    pipe.fit(data.X_train, data.y_train)
    engine = LocalEngine.open(home)
    try:
        engine.create_model(
            MODEL, "classification", target="default",
            features=[Feature(k, v) for k, v in data.schema.features.items()],
        )  # fmt: skip
        engine.register_version(MODEL, sio.dumps(pipe), algorithm="hist_gradient_boosting")
        engine.transition_version(MODEL, "v1", "validated")
        engine.deploy(MODEL, "v1")
        _, secret = engine.create_token("bench", "operator")
    finally:
        engine.close()
    return pipe, data.schema.features, secret


def baseline_times(
    pipe: object, features: dict, rows: list[dict], size: int, n: int
) -> list[float]:
    """The model's own predict_proba on the same rows, with one OpenMP thread as the
    gateway runs it (a default thread team is no faster on one row and has a worse p99).
    The rows become the frame the pipeline reads in its dtypes at once, the cheapest way
    (~30 µs a row; `to_model_frame` of an inferred frame costs ~0.2 ms more)."""
    import polars as pl
    from threadpoolctl import threadpool_limits

    from core.model_frame import model_dtypes

    dtypes = model_dtypes(features)
    times = []
    with threadpool_limits(limits=1, user_api="openmp"):
        for i in range(n):
            t0 = time.perf_counter()
            part = rows[i % 50 : i % 50 + size] if size == 1 else rows[:size]
            frame = pl.DataFrame(part, schema=dtypes, strict=False)
            pipe.predict_proba(frame)  # type: ignore[attr-defined]
            times.append((time.perf_counter() - t0) * 1000)
    return times


def predict_requests(rows: list[dict], token: str, size: int) -> list[bytes]:
    """Predict requests encoded whole: 200 single ones, or 5 batches of `size`."""
    path = f"/v1/models/{MODEL}/predict"
    if size == 1:
        bodies = [json.dumps({"features": r}) for r in rows[:200]]
    else:
        bodies = [json.dumps([{"features": r} for r in rows[i : i + size]]) for i in range(0, 5 * size, size)]  # fmt: skip
    return [_Client.encode(path, b.encode(), token) for b in bodies]


def warm_up(port: int, requests: list[bytes], seconds: float = 5.0) -> None:
    """Call the server for a few seconds while it loads its models and settles."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        _latency_client(port, requests, 20)


def alternating_rounds(
    port: int, pipe: object, features: dict, rows: list[dict], requests: list[bytes], size: int,
    rounds: int, inside: list[float] | None = None,
) -> tuple[list[float], list[float]]:  # fmt: skip
    """Bare predict and gateway in alternating rounds of `PER_ROUND[size]` calls each, so
    both see the same machine (these VMs drift by tens of percent within a minute): the
    bare times and the gateway's."""
    base: list[float] = []
    lat: list[float] = []
    for _ in range(rounds):
        base += baseline_times(pipe, features, rows, size, PER_ROUND[size])
        lat += _latency_client(port, requests, PER_ROUND[size], inside)
    return base, lat


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


class _Client:
    """HTTP/1.1 on one kept-alive connection, each request encoded whole beforehand: per
    request the client only sends and reads (`http.client` parses every response's headers
    with the email package, ~0.1 ms a response), so the figures are the server's."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.body = b""
        """Of the last response."""

    @staticmethod
    def encode(path: str, body: bytes, token: str) -> bytes:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    def call(self, request: bytes) -> int:
        """Send `request`, read the whole response; its status."""
        self.sock.sendall(request)
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self._recv()
        lines = self.buf[:end].decode("latin-1").split("\r\n")
        length = next(
            (int(v) for k, _, v in (h.partition(":") for h in lines[1:]) if k.lower() == "content-length"),
            None,
        )  # fmt: skip
        if length is None:
            raise SystemExit(f"no Content-Length in the response: {lines}")
        start = end + 4
        while len(self.buf) < start + length:
            self._recv()
        self.body = self.buf[start : start + length]
        self.buf = self.buf[start + length :]
        return int(lines[0].split(" ", 2)[1])

    def _recv(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise SystemExit("the server closed the connection")
        self.buf += chunk


def _latency_client(
    port: int, requests: list[bytes], n: int, inside: list[float] | None = None
) -> list[float]:
    """Times of `n` requests, one at a time; `inside` gets the server's own `latency_ms`
    of each (its prediction section: checks, frame, predict_proba, answers)."""
    client = _Client(port)
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        status = client.call(requests[i % len(requests)])
        times.append((time.perf_counter() - t0) * 1000)
        assert status == 200, status
        if inside is not None:
            inside.append(_latency_ms(client.body))
    return times


def _latency_ms(body: bytes) -> float:
    """The first `latency_ms` of an answer (a batch's items share one), without decoding
    the whole body between two timed requests."""
    at = body.index(b'"latency_ms":') + len(b'"latency_ms":')
    end = min(i for i in (body.find(b",", at), body.find(b"}", at)) if i >= 0)
    return float(body[at:end])


def _load_client(args: tuple[int, list[bytes], float, mp.Queue, Any]) -> None:
    port, requests, seconds, out, go = args
    client = _Client(port)
    out.put("ready")
    go.wait()  # every client starts together, after all have received their requests
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = client.call(requests[done % len(requests)])
        if status != 200:
            raise SystemExit(f"HTTP {status}")
        done += 1
    out.put((done, time.monotonic()))


def load(port: int, per_client: list[list[bytes]], seconds: float) -> tuple[int, float]:
    """(requests answered, seconds taken) by `per_client` processes posting for `seconds`,
    timed from their common start (not from spawning them and handing over their bodies)."""
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    go = ctx.Event()
    procs = [
        ctx.Process(target=_load_client, args=((port, requests, seconds, out, go),))
        for requests in per_client
    ]
    for p in procs:
        p.start()
    for _ in procs:
        assert out.get() == "ready"
    t0 = time.monotonic()
    go.set()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return sum(n for n, _ in results), max(end for _, end in results) - t0


def _set_affinity(pid: int, main: set[int], others: set[int]) -> None:
    """Process `pid`'s main thread on `main`, its other threads on `others` (threads its main
    thread starts later inherit `main`)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(ProcessLookupError):  # a thread that just ended
            os.sched_setaffinity(int(tid), main if int(tid) == pid else others)


def _pin_apart(server_pid: int) -> set[int] | None:
    """For the latency rounds, this script (the client and the bare predict) on CPU 0 and
    the server's request thread (its event loop) on CPU 1, as one keeps a load generator
    apart from what it measures; the server's other threads (the event loader, DuckDB's) may
    run on either. Left to the scheduler, the request thread hops between the two cores
    after each wake-up by the client, and the very same `predict_proba` ran ~0.3 ms slower
    at p50 in the server than here (measured), which no gateway code causes. Pinning every
    server thread to CPU 1 instead made a batch wait behind each 5,000-row load (p99 +16 ms).
    Returns the CPUs this script had, or None when it has too few to pin apart."""
    if not hasattr(os, "sched_setaffinity") or not {0, 1} <= (cpus := os.sched_getaffinity(0)):
        return None
    os.sched_setaffinity(0, {0})
    _set_affinity(server_pid, {1}, cpus)
    return cpus


def _unpin(server_pid: int, cpus: set[int]) -> None:
    """Back to `cpus`, for the throughput rounds (several clients and the server)."""
    os.sched_setaffinity(0, cpus)
    _set_affinity(server_pid, cpus, cpus)


def _p99_added_interval(
    base: list[float], lat: list[float], rounds: int, draws: int = 2_000
) -> tuple[float, float]:
    """A 95% interval for p99(gateway) - p99(bare predict), resampling whole rounds: a round
    of each, paired, as they ran side by side, so a slow minute of the host moves both. How
    much of a difference between two runs is the host's noise (a p99 of 2,000 requests
    rests on its 20 slowest)."""
    import numpy as np

    rng = np.random.default_rng(0)
    bare = np.asarray(base).reshape(rounds, -1)
    gateway = np.asarray(lat).reshape(rounds, -1)
    picks = rng.integers(0, rounds, size=(draws, rounds))
    # "weibull" is the (n+1)p rule of `statistics.quantiles`, which gives the printed p99.
    added = [
        np.percentile(gateway[p], 99, method="weibull")
        - np.percentile(bare[p], 99, method="weibull")
        for p in picks
    ]
    low, high = np.percentile(added, [2.5, 97.5])
    return float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="let the scheduler place the server and this script during the latency rounds",
    )
    args = parser.parse_args()
    if (phases := _phases(PER_ROUND[100], 100)) < 10:
        raise SystemExit(
            f"PER_ROUND[100] = {PER_ROUND[100]} starts the loader's loads at only {phases}"
            " place(s) in a round: they would land beside the bare predicts; pick another"
        )
    import httpx

    from tests.e2e.server import Server

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        pipe, features, token = setup(home)
        rows = _rows(1000)
        # What `mlc serve` runs with, not the tests' fast controller tick; over TCP with a
        # bearer token, as serving replicas call it.
        os.environ["MLC_CONTROLLER_TICK_S"] = "1.0"
        server = Server(home, insecure=False).start()
        try:
            single = predict_requests(rows, token, 1)
            batch = predict_requests(rows, token, 100)
            pinned = None if args.no_pin else _pin_apart(server.proc.pid)
            warm_up(server.port, single)
            # Single requests first, then batches: each size is measured with the store
            # loading its own events, not a backlog of the other's (a round of batches leaves
            # up to 5,000 events unloaded).
            inside1: list[float] = []
            inside100: list[float] = []
            port = server.port
            base1, lat1 = alternating_rounds(port, pipe, features, rows, single, 1, ROUNDS, inside1)
            base100, lat100 = alternating_rounds(
                port, pipe, features, rows, batch, 100, ROUNDS, inside100
            )
            if pinned is not None:
                _unpin(server.proc.pid, pinned)
            n, took = load(server.port, [single] * args.clients, args.seconds)
            rps1 = n / took
            n, took = load(server.port, [batch] * args.clients, args.seconds)
            rps100 = n / took
            event_bodies = []
            for c in range(args.clients):
                bodies = []
                for b in range(int(args.seconds * 60) + 50):
                    bodies.append(_Client.encode(f"/v1/models/{MODEL}/events", json.dumps([
                        {"request_id": f"c{c}-b{b}-{i}", "version": "v1", "prediction": i % 2, "score": 0.3,
                         "latency_ms": 2.5, "features": rows[i]}
                        for i in range(1000)
                    ]).encode(), token))  # fmt: skip
                event_bodies.append(bodies)
            n, took = load(server.port, event_bodies, args.seconds)
            eps = n * 1000 / took
            # Acknowledged means journaled; a read waits until DuckDB holds every row.
            t0 = time.perf_counter()
            auth = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=server.url, timeout=600, headers=auth) as client:
                stored = client.get(f"/api/v1/models/{MODEL}/metrics").raise_for_status()
            drained = time.perf_counter() - t0
            del stored
            stored_eps = n * 1000 / (took + drained)
        finally:
            server.stop()

    p50 = statistics.median
    print(
        f"latency over {ROUNDS} alternating rounds: {len(lat1)} single requests, {len(lat100)} batches of 100"
        + (
            ", this script on CPU 0 and the server's event loop on CPU 1"
            if pinned is not None
            else ""
        )
    )
    sizes = (("1 row     ", base1, lat1, inside1), ("100 rows  ", base100, lat100, inside100))
    for label, base, lat, _ in sizes:
        low, high = _p99_added_interval(base, lat, ROUNDS)
        print(
            f"  {label} model's own predict_proba p50 {p50(base):6.2f} ms p99 {p99(base):6.2f} ms"
            f" | gateway p50 {p50(lat):6.2f} ms p99 {p99(lat):6.2f} ms"
            f" | adds p50 {p50(lat) - p50(base):+.2f} ms, p99 {p99(lat) - p99(base):+.2f} ms"
            f" (95% interval {low:+.2f} to {high:+.2f})"
        )
    print("where a gateway request's time goes (its answer's latency_ms is the section inside):")
    for label, _, lat, inside in sizes:
        outside = [t - i for t, i in zip(lat, inside, strict=True)]
        print(
            f"  {label} the server's prediction section p50 {p50(inside):6.2f} ms"
            f" p99 {p99(inside):6.2f} ms | the rest (HTTP, auth, journal write and sync)"
            f" p50 {p50(outside):6.2f} ms p99 {p99(outside):6.2f} ms"
        )
    print(
        f"gateway predict throughput ({args.clients} clients): {rps1:,.0f} requests/s single, {rps100:,.0f} requests/s"
        f" of 100 ({rps100 * 100:,.0f} predictions/s)"
    )
    print(
        f"log-only ingest ({args.clients} clients, batches of 1,000): {eps:,.0f} events/s acknowledged"
        f" (journaled and synced); {stored_eps:,.0f} events/s counting until DuckDB held all"
        f" ({drained:.2f} s after the last acknowledgement)"
    )


if __name__ == "__main__":
    main()
