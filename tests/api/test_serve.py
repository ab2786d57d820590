"""A real `mlc serve` process on a temporary store, with CLI commands beside it."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from app.cli.main import app
from storage.owner import clear_owner, describe_holder, read_owner, write_owner
from storage.paths import DB_FILE, OWNER_FILE, SOCKET_FILE
from tests.conftest import env_without_terminal

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90


@dataclass
class Served:
    proc: subprocess.Popen[str]
    home: Path
    socket: Path
    url: str
    log: Path
    start_line: str

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def _env() -> dict[str, str]:
    env = env_without_terminal()
    for key in ("MLC_TOKEN", "MLC_HOME"):
        env.pop(key, None)
    return env


def _mlc_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def start_server(home: Path, *extra: str) -> Served:
    log = home.parent / f"{home.name}-serve.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--store", str(home), "--json", "serve", "--port", "0",
             *extra],
            cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=err, text=True,
        )  # fmt: skip
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT_S)
    line = proc.stdout.readline() if ready else ""
    if not line:
        proc.kill()
        raise AssertionError(f"mlc serve did not start: {log.read_text()}")
    info = json.loads(line)
    return Served(proc, home, Path(info["socket"]), info["url"], log, line)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_server(tmp_path_factory.mktemp("served") / "store")
    try:
        yield server
    finally:
        server.stop()


def mlc(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, list(args), catch_exceptions=False, env=env)
    return res.exit_code, res.stdout, res.stderr


_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")
_HUMAN_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


_DIGEST = re.compile(r"\b[0-9a-f]{64}\b")


def _same_times(text: str) -> str:
    """Times, and the audit hashes that cover them (each store has its own audit key too)."""
    return _DIGEST.sub("<hash>", _HUMAN_TIME.sub("<time>", _ISO.sub("<time>", text)))


def test_cli_through_the_socket_matches_embedded_mode(
    served: Served, tmp_path: Path, artifact_file: Path
) -> None:
    script = [
        ["--json", "models", "create", "credit-default", "--task", "classification",
         "--target", "default", "--features", "age:numeric,region:categorical"],
        ["models", "create", "churn", "--task", "regression"],
        ["--json", "models", "list"],
        ["models", "list"],
        ["--json", "versions", "register", "credit-default", str(artifact_file),
         "--algorithm", "logistic_regression", "--metrics", '{"roc_auc": 0.81}', "--tag", "t=1"],
        ["--json", "versions", "show", "credit-default", "v1"],
        ["versions", "show", "credit-default", "v1"],
        ["--json", "versions", "alias", "credit-default", "v1", "champion", "--reason", "best"],
        ["--json", "models", "show", "credit-default"],
        ["--json", "versions", "transition", "credit-default", "v1", "production"],
        ["--json", "models", "show", "nope"],
        ["models", "create", "credit-default", "--task", "classification"],
        ["versions", "register", "credit-default", str(tmp_path / "missing.skops"),
         "--algorithm", "x"],
        ["--json", "audit", "verify"],
    ]  # fmt: skip
    embedded_home = tmp_path / "embedded"
    for args in script:
        remote = mlc("--store", str(served.home), *args)
        local = mlc("--store", str(embedded_home), *args)
        assert served.proc.poll() is None, "the server must hold the store throughout"
        assert remote[0] == local[0], (args, remote, local)
        assert _same_times(remote[1]) == _same_times(local[1]), args
        assert remote[2] == local[2], args
    codes = [mlc("--store", str(served.home), *a)[0] for a in script[-5:-1]]
    assert codes == [4, 3, 4, 2]


def test_the_mlc_executable_goes_through_the_socket(served: Served) -> None:
    proc = _mlc_process("--store", str(served.home), "--json", "models", "list")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads(
        mlc("--store", str(served.home), "--json", "models", "list")[1]
    )


def test_the_socket_is_private_and_named_in_the_owner_file(served: Served) -> None:
    assert served.socket == served.home / SOCKET_FILE
    mode = served.socket.stat().st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    owner = read_owner(served.home)
    assert owner is not None and owner.pid == served.proc.pid
    assert owner.socket == str(served.socket)


def test_tokens_over_the_socket_and_bearer_auth_over_tcp(served: Served) -> None:
    home = str(served.home)
    res = httpx.get(f"{served.url}/api/v1/models")
    assert res.status_code == 401 and res.headers["WWW-Authenticate"].startswith("Bearer")

    created = _mlc_process("--store", home, "--json", "tokens", "create", "ci-bot",
                           "--role", "operator")  # fmt: skip
    assert created.returncode == 0, created.stderr
    secret = json.loads(created.stdout)["secret"]
    auth = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{served.url}/api/v1/models", headers=auth).status_code == 200
    assert httpx.get(f"{served.url}/api/v1/tokens", headers=auth).status_code == 403

    listed = json.loads(mlc("--store", home, "--json", "tokens", "list")[1])["tokens"]
    assert [(t["name"], t["role"], t["revoked_at"]) for t in listed] == [
        ("ci-bot", "operator", None)
    ]

    # The CLI over TCP: --server/--token and MLC_SERVER/MLC_TOKEN; changes name the token.
    code, out, _ = mlc("--server", served.url, "--token", secret, "--json", "models", "create",
                       "over-tcp", "--task", "regression")  # fmt: skip
    assert code == 0 and json.loads(out)["created_by"] == "token:ci-bot"
    env = {"MLC_SERVER": served.url, "MLC_TOKEN": secret}
    assert mlc("--json", "models", "show", "over-tcp", env=env)[0] == 0
    code, _, err = mlc("--server", served.url, "models", "list")
    assert code == 5 and "missing bearer token" in err

    code, out, _ = mlc("--store", home, "--json", "tokens", "revoke", "ci-bot")
    assert code == 0 and json.loads(out)["revoked_at"] is not None
    res = httpx.get(f"{served.url}/api/v1/models", headers=auth)
    assert res.status_code == 401 and "revoked" in res.json()["detail"]
    code, _, err = mlc("--store", home, "tokens", "revoke", "ci-bot")
    assert code == 4 and "already revoked" in err

    records = json.loads(mlc("--store", home, "--json", "audit", "list", "--action", "token")[1])
    assert [r["action"] for r in records["records"]] == ["token.create", "token.revoke"]
    assert all(r["actor"].startswith("local:") for r in records["records"])


def test_a_second_owner_is_refused_naming_the_socket(served: Served) -> None:
    proc = _mlc_process("--store", str(served.home), "serve", "--port", "0")
    assert proc.returncode == 1
    assert f"it serves the store on {served.socket}" in proc.stderr
    assert served.proc.poll() is None and served.socket.exists()


def test_insecure_is_refused_off_loopback(tmp_path: Path) -> None:
    home = tmp_path / "store"
    proc = _mlc_process("--store", str(home), "serve", "--host", "0.0.0.0", "--insecure")
    assert proc.returncode == 2
    assert "--insecure is allowed only on a loopback address" in proc.stderr
    assert not (home / DB_FILE).exists(), "refused before the store was opened"


def test_insecure_loopback_serves_as_local_admin_and_sigterm_cleans_up(tmp_path: Path) -> None:
    server = start_server(tmp_path / "store", "--insecure")
    try:
        res = httpx.post(f"{server.url}/api/v1/models", json={"name": "m", "task": "regression"})
        assert res.status_code == 201 and res.json()["created_by"].startswith("local:")
    finally:
        code = server.stop()
    assert code == 0, server.log.read_text()
    assert not server.socket.exists() and not (server.home / OWNER_FILE).exists()
    # The store is free again: a plain command opens it embedded and sees the model.
    code, out, _ = mlc("--store", str(server.home), "--json", "models", "list")
    assert code == 0 and [m["id"] for m in json.loads(out)["models"]] == ["m"]


def test_a_stale_socket_file_is_ignored(tmp_path: Path) -> None:
    home = tmp_path / "store"
    home.mkdir()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(home / SOCKET_FILE))
    stale.close()  # the file stays; nobody listens
    code, out, _ = mlc("--store", str(home), "--json", "models", "list")
    assert code == 0 and json.loads(out) == {"models": []}


def test_the_held_store_message_names_the_socket(tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    write_owner(tmp_path, socket=str(tmp_path / SOCKET_FILE))
    try:
        message = describe_holder(tmp_path, f"Could not set lock on file (PID {os.getpid()})")
    finally:
        clear_owner(tmp_path)
    assert f"it serves the store on {tmp_path / SOCKET_FILE}: mlc commands reach it" in message


def test_the_start_line_comes_once_ready_and_probes_answer_on_both_doors(served: Served) -> None:
    info = json.loads(served.start_line)
    assert info["ready"] == {"versions": 0, "failed": [], "took_s": info["ready"]["took_s"]}
    assert "listening on unix:" in served.log.read_text()  # said on stderr before ready
    uds = httpx.Client(transport=httpx.HTTPTransport(uds=str(served.socket)), base_url="http://mlc")
    with uds, httpx.Client(base_url=served.url) as tcp:
        for client in (uds, tcp):
            live = client.get("/healthz")
            assert live.status_code == 200 and live.json() == {"ok": True, "pid": served.proc.pid}
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            doc = ready.json()
            assert doc["ready"] is True and doc["store_open"] and doc["journal_replayed"]
            assert doc["waiting_for"] is None and doc["failed"] == []
