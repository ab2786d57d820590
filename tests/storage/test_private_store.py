"""A store is private whatever the umask: its directories 0700, its files 0600 (the database,
its WAL even after a checkpoint re-creates it, the journal and its segments, artifacts and their
folders, the audit key and head, the owner file, the socket), and a store with wider modes is
tightened when opened, with a warning."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest

from app.owner import OwnedStore
from core.engine import LocalEngine
from core.events import writer as ingest
from storage.artifacts import ArtifactStore
from storage.journal import Journal

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 12, 0, 0, 123456)


@pytest.fixture(params=[0o022, 0o002, 0o000], ids=["umask022", "umask002", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _modes(home: Path) -> dict[str, int]:
    found = {".": _mode(home)}
    for top, dirs, files in os.walk(home):
        for name in [*dirs, *files]:
            path = Path(top) / name
            found[str(path.relative_to(home))] = _mode(path)
    return found


def _open_to_others(home: Path) -> dict[str, str]:
    return {name: f"{mode:04o}" for name, mode in _modes(home).items() if mode & 0o077}


def test_a_new_store_is_private_whatever_the_umask(
    umask: int, home: Path, artifact_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "LINGER_S", 3600.0)  # keep the journal segment while we look
    with OwnedStore(home, background=False) as owned:
        engine = owned.engine
        assert isinstance(engine, LocalEngine)
        engine.create_model("m", "classification")
        version = engine.register_version("m", artifact_bytes, algorithm="logistic_regression")
        engine.store.checkpoint()  # the WAL is gone; the next write makes a new one
        engine.tag_version("m", "v1", "team", "risk")
        row = ("m", "r1", T0, 1, "production", None, None, '{"x": 1.5}', "1", None, 0.4, 2.0,
               None, "t")  # fmt: skip
        engine.writer.write_rows("prediction_events", [row])

        modes = _modes(home)
        artifact = f"artifacts/{version.artifact_sha256[:2]}/{version.artifact_sha256}.skops"
        segments = [n for n in modes if n.startswith("journal/") and n.endswith(".log")]
        assert segments
        expected = {
            ".": 0o700, "mlc.duckdb": 0o600, "mlc.duckdb.wal": 0o600, "audit.key": 0o600,
            "audit.head": 0o600, "owner.json": 0o600, "mlc.sock": 0o600, "journal": 0o700,
            "artifacts": 0o700, f"artifacts/{version.artifact_sha256[:2]}": 0o700,
            artifact: 0o600, **dict.fromkeys(segments, 0o600),
        }  # fmt: skip
        assert {name: f"{modes.get(name, 0):04o}" for name in expected} == {
            name: f"{mode:04o}" for name, mode in expected.items()
        }
        assert _open_to_others(home) == {}


def test_artifacts_and_set_aside_journal_records_are_private_on_their_own(
    umask: int, tmp_path: Path, artifact_bytes: bytes
) -> None:
    """Without a store opened in this process (whose umask would cover them)."""
    artifacts = ArtifactStore(tmp_path / "a")
    digest = artifacts.put_bytes(artifact_bytes)
    assert _mode(artifacts.path_for(digest)) == 0o600
    assert _mode(artifacts.path_for(digest).parent) == 0o700
    journal = Journal(tmp_path / "j")
    list(journal.unloaded(0))
    journal.append([b"one"])
    aside = journal.set_aside(7, b"bad bytes")
    journal.close()
    assert _mode(tmp_path / "j") == 0o700
    assert [_mode(p) for p in (tmp_path / "j").glob("*.log")] == [0o600]
    assert (_mode(aside.parent), _mode(aside)) == (0o700, 0o600)


def _loosen(home: Path) -> None:
    for top, dirs, files in os.walk(home):
        os.chmod(top, 0o755)
        for name in dirs:
            os.chmod(Path(top) / name, 0o755)
        for name in files:
            os.chmod(Path(top) / name, 0o644)


def test_an_existing_open_store_is_tightened_with_a_warning(
    umask: int, home: Path, artifact_bytes: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with closing(LocalEngine.open(home)) as engine:
        engine.create_model("m", "classification")
        sha = engine.register_version("m", artifact_bytes, algorithm="lr").artifact_sha256
    _loosen(home)
    assert _open_to_others(home)["mlc.duckdb"] == "0644"
    with caplog.at_level(logging.WARNING), closing(LocalEngine.open(home)) as engine:
        assert _open_to_others(home) == {}
        assert engine.verify_audit().ok
    (warning,) = [r.getMessage() for r in caplog.records if "readable by other" in r.getMessage()]
    assert warning == (
        f"warning: store {home} was readable by other users; made it private: . 0755→0700,"
        " artifacts 0755→0700, audit.head 0644→0600, audit.key 0644→0600, journal 0755→0700,"
        f" mlc.duckdb 0644→0600, owner.lock 0644→0600, artifacts/{sha[:2]} 0755→0700"
        " and 1 more"  # the artifact file: the warning names the first eight
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING), closing(LocalEngine.open(home)):
        pass
    assert "readable by other" not in caplog.text  # said once, when it was true


def test_the_cli_prints_the_warning(home: Path) -> None:
    LocalEngine.open(home).close()
    _loosen(home)
    res = subprocess.run(
        [sys.executable, "-m", "app", "--store", str(home), "audit", "verify"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert f"warning: store {home} was readable by other users; made it private: ." in res.stderr
    assert _open_to_others(home) == {}
