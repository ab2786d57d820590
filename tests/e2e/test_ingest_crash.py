"""Fault test: SIGKILL the server while clients post event batches.

Every batch the server acknowledged must be stored after a restart, and replaying every
batch (acknowledged or not) must add no duplicates.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import httpx

from app.client import RemoteEngine
from storage.paths import SOCKET_FILE
from tests.conftest import add_versions
from tests.e2e.server import Server

MODEL = "ingest-test"


def _batch(client: int, n: int, size: int = 200) -> list[dict]:
    return [
        {"request_id": f"c{client}-b{n}-{i}", "version": "v1", "prediction": i % 2, "score": 0.5,
         "latency_ms": 1.0, "features": {"x": i}}
        for i in range(size)
    ]  # fmt: skip


def test_acknowledged_events_survive_sigkill_and_replays_do_not_duplicate(tmp_path: Path) -> None:
    home = tmp_path / "store"
    server = Server(home).start()
    try:
        assert (
            server.mlc(
                "models", "create", MODEL, "--task", "classification", "--features", "x:numeric"
            ).returncode
            == 0
        )
        remote = RemoteEngine(socket=home / SOCKET_FILE)
        try:
            add_versions(remote, MODEL, 1)  # events may only name a version the model has
        finally:
            remote.close()
        acked: list[list[dict]] = []
        sent: list[list[dict]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def client(cid: int) -> None:
            n = 0
            with httpx.Client(base_url=server.url, timeout=5) as http:
                while not stop.is_set():
                    batch = _batch(cid, n)
                    n += 1
                    with lock:
                        sent.append(batch)
                    try:
                        r = http.post(f"/v1/models/{MODEL}/events", json=batch)
                    except httpx.HTTPError:
                        return  # the server died mid-request: not acknowledged
                    if r.status_code == 200:
                        with lock:
                            acked.append(batch)

        threads = [threading.Thread(target=client, args=(c,)) for c in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        server.kill()
        stop.set()
        for t in threads:
            t.join(timeout=10)
        assert len(acked) >= 10, "the clients should have had time to get batches through"

        server = Server(home, server.port).start()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for batch in sent:  # replay everything, as a client retrying would
                assert http.post(f"/v1/models/{MODEL}/events", json=batch).status_code == 200
    finally:
        server.stop()

    con = duckdb.connect(str(home / "mlc.duckdb"), read_only=True)
    try:
        stored = {r[0] for r in con.execute("SELECT request_id FROM prediction_events").fetchall()}
        total, distinct = con.execute(
            "SELECT count(*), count(DISTINCT request_id) FROM prediction_events"
        ).fetchone()
    finally:
        con.close()
    acked_ids = {e["request_id"] for b in acked for e in b}
    assert acked_ids <= stored
    assert total == distinct == len({e["request_id"] for b in sent for e in b})
