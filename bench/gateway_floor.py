"""What any HTTP predict server adds on this machine, with and without storing its events.

`serve_gateway.py` measures mlc's gateway against the model's bare `predict_proba`. This
script measures the floor under that figure: a minimal server with none of mlc's work (no
auth, no schema checks, no traffic split, no answers beyond the model's), which reads the
JSON body, builds the frame, predicts and answers. It runs three ways, each on fresh
servers in alternating order:
  - plain: nothing stored;
  - DuckDB loads: every answered row becomes a prediction event, loaded into a fresh mlc store
    by a background thread in 5,000-row transactions (`storage.repos.events.insert_frame`,
    what mlc's loader runs, though its frame is built in one piece where mlc's loader
    builds it in slices between which a request thread may take the GIL), with no journal;
  - mlc's EventWriter: the events go through `EventWriter.write_rows` and the answer waits
    until they are journaled and synced, as in `mlc serve` (group commit, then the loader).
Each is timed against the bare predict in this process, in the same alternating rounds and
pinning as `serve_gateway.py` (batches of 100 by default; `--size 1` for single rows).
Prints p50 and p99 added over the bare predict for each fresh server, then the medians.

    uv run python bench/gateway_floor.py [--size 100|1] [--reps 3] [--rounds 20]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import serve_gateway as sg  # noqa: E402

MODES = ("plain", "DuckDB loads", "mlc's EventWriter")


def _serve(port: int, pipe: Any, features: dict[str, Any], mode: str, home: str) -> None:
    """The minimal server, in its own process: one ASGI callable under uvicorn, as mlc's."""
    import orjson
    import polars as pl
    import uvicorn
    from threadpoolctl import threadpool_limits

    from core.events.fields import new_ids, now_naive
    from core.model_frame import model_dtypes

    dtypes = model_dtypes(features)
    threadpool_limits(limits=1, user_api="openmp")  # as the gateway predicts
    store_rows = _storer(mode, Path(home))

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        parsed = orjson.loads(body)
        items = [parsed] if isinstance(parsed, dict) else parsed
        frame = pl.DataFrame([i["features"] for i in items], schema=dtypes, strict=False)
        t0 = time.perf_counter()
        proba = pipe.predict_proba(frame).tolist()
        took = (time.perf_counter() - t0) * 1000
        ids = new_ids(len(items))
        answers = [
            {"request_id": rid, "version": "v1", "prediction": int(p[1] > p[0]),
             "latency_ms": took, "probabilities": {"0": p[0], "1": p[1]}}
            for rid, p in zip(ids, proba, strict=True)
        ]  # fmt: skip
        if store_rows is not None:
            now = now_naive()
            store_rows([
                (sg.MODEL, rid, now, 1, "production", rid, None,
                 orjson.dumps(i["features"]).decode(), str(a["prediction"]), None, p[1], took,
                 None, "gateway")
                for rid, i, p, a in zip(ids, items, proba, answers, strict=True)
            ])  # fmt: skip
        data = orjson.dumps(answers[0] if isinstance(parsed, dict) else answers)
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    uvicorn.run(app, host="127.0.0.1", port=port, http="httptools", log_level="warning",
                access_log=False, lifespan="off")  # fmt: skip


def _storer(mode: str, home: Path) -> Any:
    """What the server calls with each request's event rows, or None when nothing is stored."""
    if mode == "plain":
        return None
    from storage.store import Store

    store = Store.open(home)
    if mode == "mlc's EventWriter":
        from core.events.writer import EventWriter

        writer = EventWriter(store)
        return lambda rows: writer.write_rows("prediction_events", rows, dedup=False)
    from core.events.writer import LINGER_ROWS  # the loader's rows per load
    from storage.repos import events as repo

    pending: list[tuple[Any, ...]] = []
    ready = threading.Condition()

    def load_loop() -> None:
        while True:
            with ready:
                while len(pending) < LINGER_ROWS:
                    ready.wait()
                rows = pending[:]
                pending.clear()
            with store.write() as conn:
                repo.insert_frame(conn, "prediction_events", repo.rows_frame("prediction_events", rows),
                                  dedup=False)  # fmt: skip

    threading.Thread(target=load_loop, daemon=True).start()

    def add(rows: list[tuple[Any, ...]]) -> None:
        with ready:
            pending.extend(rows)
            ready.notify()

    return add


def _run(mode: str, port: int, tmp: Path, pipe: Any, features: dict[str, Any], requests: list[bytes],
         rows: list[dict[str, Any]], size: int, rounds: int) -> tuple[float, float]:  # fmt: skip
    ctx = mp.get_context("spawn")
    home = tempfile.mkdtemp(dir=tmp)
    proc = ctx.Process(target=_serve, args=(port, pipe, features, mode, home), daemon=True)
    proc.start()
    cpus = os.sched_getaffinity(0)
    try:
        _wait_for(port)
        sg._pin_apart(proc.pid)
        sg.warm_up(port, requests)
        base, lat = sg.alternating_rounds(port, pipe, features, rows, requests, size, rounds)
    finally:
        os.sched_setaffinity(0, cpus)
        proc.terminate()
        proc.join()
    return (
        statistics.median(lat) - statistics.median(base),
        sg.p99(lat) - sg.p99(base),
    )


def _wait_for(port: int, timeout_s: float = 60.0) -> None:
    import socket

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"the floor server on port {port} did not start") from None
            time.sleep(0.1)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, choices=(1, 100), default=100)
    parser.add_argument("--reps", type=int, default=3, help="fresh servers per mode")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        pipe, features, token = sg.setup(tmp / "model")
        rows = sg._rows(1000)
        requests = sg.predict_requests(rows, token, args.size)
        added: dict[str, list[tuple[float, float]]] = {m: [] for m in MODES}
        what = "batches of 100" if args.size == 100 else "single requests"
        print(f"{what}: added over the bare predict_proba, ms (p50 / p99)", flush=True)
        for rep in range(args.reps):
            order = MODES if rep % 2 == 0 else MODES[::-1]
            for mode in order:
                a50, a99 = _run(mode, _free_port(), tmp, pipe, features, requests, rows, args.size,
                                args.rounds)  # fmt: skip
                added[mode].append((a50, a99))
                print(f"  server {rep + 1}, {mode:18s} {a50:+6.2f} / {a99:+6.2f}", flush=True)
        print("medians over fresh servers:")
        for mode in MODES:
            p50 = statistics.median(a for a, _ in added[mode])
            p99 = statistics.median(b for _, b in added[mode])
            print(f"  {mode:18s} p50 {p50:+6.2f}  p99 {p99:+6.2f}")


if __name__ == "__main__":
    main()
