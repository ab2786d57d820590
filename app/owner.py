"""Owning a store from a long-lived interactive process (`mlc console`, `mlc demo`).

Such a process opens the store, serves the local admin socket from background threads (the
control and data planes of `app.api.server`, so `mlc …` in another shell keeps working
through it) and runs the owner's background loops:
alert evaluation, the rollout controller, A/B ticks. `mlc serve` does the same in the
foreground, with a TCP port.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from core.errors import StoreUnavailable
from storage.owner import clear_owner, will_serve
from storage.paths import SOCKET_FILE

if TYPE_CHECKING:
    from core.engine import Engine

_START_TIMEOUT_S = 15.0


class OwnedStore:
    """The store, opened and served by this process until `close()`."""

    def __init__(self, home: Path, *, background: bool = True) -> None:
        # Imported here: the engine, FastAPI and uvicorn are not needed by a client console.
        from app.api.listeners import unix_listener
        from app.api.server import ApiServers
        from core.engine import LocalEngine

        self.home = home
        self.socket_path = home / SOCKET_FILE
        will_serve(home, str(self.socket_path))
        try:
            self.engine = LocalEngine.open(home)
        except BaseException:
            clear_owner(home)  # forgets the intent to serve; the owner file is not ours
            raise
        self._background = False
        self._unix = None
        self._thread: threading.Thread | None = None
        try:
            if background:
                self.engine.start_warmup()
            self._unix = unix_listener(self.socket_path)
            self._servers = ApiServers(self.engine, self._unix, None)
            started = threading.Event()
            failure: list[BaseException] = []

            def serve() -> None:
                try:
                    self._servers.serve(started.set, handle_signals=False)
                except BaseException as e:  # reported to the opener below
                    failure.append(e)
                finally:
                    started.set()

            self._thread = threading.Thread(target=serve, name="mlc-socket", daemon=True)
            self._thread.start()
            if not started.wait(_START_TIMEOUT_S) or failure:
                reason = f": {failure[0]}" if failure else ""
                raise StoreUnavailable(f"cannot serve the socket {self.socket_path}{reason}")
            if background:
                self.engine.start_background()
                self._background = True
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._thread is not None:
            self._servers.stop()
            self._thread.join(timeout=10)
            self._thread = None
        if self._unix is not None:
            self._unix.close()
            self._unix = None
            with contextlib.suppress(OSError):
                self.socket_path.unlink()
        if self._background:
            self.engine.stop_background()
            self._background = False
        self.engine.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def connect_or_own(
    home: Path, *, server: str | None = None, token: str | None = None
) -> tuple[Engine, OwnedStore | None]:
    """The owner's engine if a process serves the store (waited for while it is alive, however
    busy), or `server`'s; else this process becomes the owner: the engine and the
    `OwnedStore` to close on exit."""
    from app.client import RemoteEngine
    from app.reach import reach_owner

    if server:
        return RemoteEngine(url=server, token=token), None
    remote = reach_owner(home)
    if remote is not None:
        return remote, None
    owned = OwnedStore(home)
    return owned.engine, owned
