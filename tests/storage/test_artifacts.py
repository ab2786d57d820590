"""Artifacts load safely from several threads at once, and only within the size limit."""

from __future__ import annotations

import gc
import io
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.trusted_types import TRUSTED_TYPES
from storage.artifact_limits import LIMIT_ENV, max_artifact_bytes
from storage.artifacts import load_bytes
from storage.errors import InvalidInput, PayloadTooLarge
from tests.storage import bombs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gc_runs_python() -> Iterator[None]:
    """A garbage collection that runs Python code and lets other threads in, as any gc
    callback or finaliser may: what made concurrent loads fail."""

    def yield_gil(phase: str, info: dict) -> None:
        time.sleep(0)

    gc.callbacks.append(yield_gil)
    threshold, interval = gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(50)  # often, so that one falls inside a load
    sys.setswitchinterval(1e-6)  # and the waiting thread takes over at once
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
        gc.callbacks.remove(yield_gil)


@pytest.mark.usefixtures("gc_runs_python")
def test_loads_in_several_threads_at_once_all_succeed(artifact_bytes: bytes) -> None:
    # Before loads were serialised, some failed: "AST constructor recursion depth mismatch".
    errors: list[Exception] = []

    def load_at_depth(depth: int) -> None:
        if depth:
            return load_at_depth(depth - 1)
        for _ in range(15):
            try:
                load_bytes(artifact_bytes, TRUSTED_TYPES)
            except Exception as e:
                errors.append(e)

    threads = [threading.Thread(target=load_at_depth, args=(30 * (i % 2),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# --- artifacts within limits --------------------------------------------------------------

RSS_SCRIPT = """
import json, sys
from pathlib import Path
import skops.io, sklearn.pipeline  # imported before measuring
from core.engine import LocalEngine
from core.errors import MlcError
from core.names import features_spec

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024

engine = LocalEngine.open(Path(sys.argv[1]))
engine.create_model("credit-default", "classification",
                    features=features_spec("age:numeric,region:categorical"))
data = Path(sys.argv[2]).read_bytes()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak (VmHWM) starts again from what is resident now
before = status("VmRSS")
out = {}
try:
    out["registered"] = engine.register_version(
        "credit-default", data, algorithm="logistic_regression").id
except MlcError as e:
    out["error"], out["kind"] = e.message, e.kind
out["growth"] = status("VmHWM") - before
out["versions"] = len(engine.list_versions("credit-default"))
engine.close()
print(json.dumps(out))
"""


@pytest.mark.slow  # builds a 1.2 GB array, streamed (a few seconds of deflate)
def test_a_deflated_zero_bomb_is_refused_before_anything_is_allocated(
    artifact_bytes: bytes, tmp_path: Path
) -> None:
    bomb = tmp_path / "bomb.skops"
    bomb.write_bytes(bombs.zero_array(artifact_bytes, "coef_", 1_200_000_000))
    assert bomb.stat().st_size < 8_000_000  # a few MB on disk, 1.2 GB unpacked
    env = {k: v for k, v in os.environ.items() if k != LIMIT_ENV}  # the default, 1 GiB
    run = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(tmp_path / "store"), str(bomb)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["kind"] == "too_large" and out["versions"] == 0
    assert "array steps[1][1].coef_" in out["error"]
    assert "1,200,000,128 bytes" in out["error"] and LIMIT_ENV in out["error"]
    # Loading it took 2.4 GB more RSS before the check; now the check reads headers only.
    assert out["growth"] < 64 << 20, out
    assert not list((tmp_path / "store" / "artifacts").rglob("*.skops"))


def test_a_header_declaring_a_huge_array_is_refused_without_reading_it(
    artifact_bytes: bytes,
) -> None:
    bomb = bombs.declared_only(artifact_bytes, "coef_", (10**12,))
    with pytest.raises(PayloadTooLarge, match=r"array steps\[1\]\[1\]\.coef_ .* declares float64"
                       r" 1,000,000,000,000, 7\.3 TiB \(8,000,000,000,000 bytes\), over the limit"):  # fmt: skip
        load_bytes(bomb, TRUSTED_TYPES, origin="model.skops")
    # Under the limit, but more than the entry holds: numpy would allocate it, then fail.
    short = bombs.declared_only(artifact_bytes, "coef_", (1000,))
    with pytest.raises(InvalidInput, match=r"coef_ .* declares 7\.8 KiB .* but its entry holds 8"):
        load_bytes(short, TRUSTED_TYPES)


def test_the_limit_is_configurable(artifact_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    big = bombs.zero_array(artifact_bytes, "coef_", 8 << 20)
    monkeypatch.setenv(LIMIT_ENV, "4M")
    with pytest.raises(PayloadTooLarge, match=r"coef_ .* unpacks to 8\.0 MiB .* limit of 4\.0 MiB"):
        load_bytes(big, TRUSTED_TYPES)
    monkeypatch.setenv(LIMIT_ENV, str(64 << 20))
    assert load_bytes(big, TRUSTED_TYPES)[-1].coef_.nbytes == 8 << 20
    monkeypatch.setenv(LIMIT_ENV, "64K")  # the schema itself is 172 KiB: over a sixteenth
    with pytest.raises(PayloadTooLarge, match=r"schema\.json unpacks to"):
        load_bytes(artifact_bytes, TRUSTED_TYPES)
    monkeypatch.setenv(LIMIT_ENV, "lots")
    with pytest.raises(InvalidInput, match="MLC_MAX_ARTIFACT_BYTES='lots' is not a size"):
        load_bytes(artifact_bytes, TRUSTED_TYPES)
    assert [_limit(v, monkeypatch) for v in ("1073741824", "2G", "512MiB", "1.5k")] == [
        1 << 30, 2 << 30, 512 << 20, 1536,
    ]  # fmt: skip


def _limit(value: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv(LIMIT_ENV, value)
    return max_artifact_bytes()


def test_zip_entries_are_refused_by_their_declared_sizes(
    artifact_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LIMIT_ENV, "4M")
    # An entry the schema never names still counts: zipfile would unpack it on request.
    padded = _with_extra(artifact_bytes, {"padding.bin": 5 << 20})
    with pytest.raises(PayloadTooLarge, match=r"entry padding\.bin unpacks to 5\.0 MiB"):
        load_bytes(padded, TRUSTED_TYPES)
    spread = _with_extra(artifact_bytes, {f"part{i}.bin": 1 << 20 for i in range(4)})
    with pytest.raises(PayloadTooLarge, match=r"its 17 entries unpack to 4\.\d MiB"):
        load_bytes(spread, TRUSTED_TYPES)


def test_an_entry_read_once_per_reference_counts_each_time(
    artifact_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # skops reads an entry again for every node naming it: two nodes on one 2.5 MiB array
    # load 5 MiB from 2.5 MiB of entries.
    monkeypatch.setenv(LIMIT_ENV, "4M")
    big = bombs.zero_array(artifact_bytes, "coef_", 5 << 19)
    coef, intercept = bombs.entry_of(big, "coef_"), bombs.entry_of(big, "intercept_")
    with zipfile.ZipFile(io.BytesIO(big)) as archive:
        schema = archive.read("schema.json").decode()
    twice = bombs.with_entry(
        big, intercept, lambda fh: fh.write(b"unused"),
        schema=schema.replace(f'"file": "{intercept}"', f'"file": "{coef}"'),
    )  # fmt: skip
    with pytest.raises(PayloadTooLarge, match=r"come to over 5\.0 MiB"):
        load_bytes(twice, TRUSTED_TYPES)


def test_an_archive_inside_an_entry_is_checked_too(
    artifact_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A sparse matrix is stored as an .npz, a zip in the zip: its arrays count as well.
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as npz:
        npz.writestr("data.npy", bombs.npy_header((10**9,)) + bytes(8))
    nested = bombs.with_entry(
        artifact_bytes, bombs.entry_of(artifact_bytes, "coef_"),
        lambda fh: fh.write(inner.getvalue()),
    )  # fmt: skip
    with pytest.raises(PayloadTooLarge, match=r"coef_ .* → data\.npy declares float64"):
        load_bytes(nested, TRUSTED_TYPES)


@pytest.mark.parametrize("root", [b"5", b'"model"', b"null", b"[]"])
def test_a_schema_that_is_not_an_object_is_invalid_input(root: bytes) -> None:
    # A number or a string here once escaped as a TypeError or an AttributeError (an
    # internal error to an API client) instead of naming the bad file.
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("schema.json", root)
    with pytest.raises(InvalidInput, match=r"^up\.skops is not a valid skops file: schema\.json is not an object$"):  # fmt: skip
        load_bytes(archive.getvalue(), TRUSTED_TYPES, origin="up.skops")


def _with_extra(artifact: bytes, extra: dict[str, int]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(artifact)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for name, size in extra.items():
            dst.writestr(name, bytes(size), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
