"""Serving the API: the control plane and the data plane, each on its own event loop.

Two planes, each an asyncio loop in a thread of its own with its own worker threads:
- the **control plane** serves the Unix socket (the local admin door, where every `mlc`
  command and the console go) and runs every control request (`/api/v1/…`, `/healthz`,
  `/readyz`, the docs), whichever listener it came in on;
- the **data plane** serves the TCP port and runs every data-plane request
  (`/v1/models/{name}/predict|events|actuals`), behind admission control
  (`app.api.admission`): a request that would wait longer than the bound is answered 503
  with Retry-After at once, so the data plane's backlog stays short and its memory bounded.
A request is routed by its path (`Dispatch`): one that belongs to the other plane runs its
handler there, its body and answer passed between the loops. So a saturated data plane
never delays the socket, and delays a control request over TCP by no more than the time the
data plane's loop takes to read it (kept short by admission control: shed requests cost it
~0.1 ms each, and at most `slots` requests work at once). The worker threads are apart too
(anyio keeps a pool and a limit per loop): a control request never waits for a thread that
predictions hold. Both planes share the engine, which is thread-safe; the store's write lock,
the GIL and the CPU are what they still share, so the data plane's threads run at nice 10
(`DATA_PLANE_NICE`, per thread on Linux): under overload the scheduler, and so the GIL's
hand-overs, favour the control plane and the `mlc` commands of the host. (Where systemd gives
the service a cgroup of its own, or with autogroups, niceness only ranks the owner's threads
against each other, not against other services.) Measured on 2 busy cores with 200 `wrk`
connections on the data plane: every control command through the socket answered, the
slowest in 1.3-1.7 s (bench/control_under_load.py); before, with one loop, `status` and
`rollback --dry-run` failed and a deploy waited 300 s.

The main thread only waits: `mlc serve` handles SIGINT/SIGTERM there, once, for both planes
(a uvicorn Server would install its own handlers, re-raising the signal when it stops, and
the process would die before the store is closed).

uvicorn creates Unix sockets with mode 0666; we bind the socket ourselves and make it 0600
before it listens, so no other user ever gets a window to connect (DESIGN.md, measured). The
listeners are made in `app.api.listeners`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import anyio.to_thread
import orjson
import uvicorn
from fastapi import FastAPI
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from app.api.admission import Admission
from app.api.factory import create_app
from core.engine import LocalEngine
from core.errors import Overloaded, StoreUnavailable

GRACEFUL_SHUTDOWN_S = 5
DATA_PLANE_PREFIX = "/v1/"
MAX_CONNECTIONS = 1_000
"""Open TCP connections past which a data-plane request is answered 503 (with Retry-After)
and its connection closed: each open connection may hold a 64 KiB read buffer."""
DATA_PLANE_NICE = 10
"""The data plane's threads yield the CPU to the control plane's (and to `mlc` commands):
at nice 10 the scheduler gives a thread a tenth of the weight of one at nice 0."""
_START_TIMEOUT_S = 30.0

T = TypeVar("T")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # See the module's doc: `ApiServers.serve` handles the signals once, for both planes.
        yield


class _Plane:
    """An asyncio loop in a thread of its own, serving its listeners until `close()`."""

    def __init__(self, name: str, threads: int | None = None, nice: int = 0) -> None:
        self.name = name
        self.listeners: list[tuple[_Server, socket.socket]] = []
        self.threads = threads
        """The size of this loop's worker-thread pool (None: anyio's default, 40)."""
        self.nice = nice
        """The loop thread's niceness, inherited by the worker threads it starts."""
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started = threading.Event()
        self.serving_ended = threading.Event()
        self.failure: BaseException | None = None
        self._closing: asyncio.Event | None = None
        self._stop_requested = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        if self.nice and sys.platform == "linux":  # per thread on Linux only
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
        try:
            asyncio.run(self._main())
        except BaseException as e:  # reported by `ApiServers.serve`
            self.failure = e
        finally:
            self.started.set()
            self.serving_ended.set()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._closing = asyncio.Event()
        if self.threads is not None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = self.threads
        tasks = [asyncio.create_task(s.serve(sockets=[sock])) for s, sock in self.listeners]
        while not all(s.started for s, _ in self.listeners) and not any(t.done() for t in tasks):
            await asyncio.sleep(0.01)
        self.started.set()
        if tasks:
            await asyncio.wait(tasks)
        else:  # a plane that only runs requests the other passes it
            while not self._stop_requested.is_set():
                await asyncio.sleep(0.1)
        self.serving_ended.set()
        for task in tasks:
            task.result()  # a server that failed raises here
        # The loop stays up until `close()`: the other plane may still pass requests to it.
        await self._closing.wait()

    def stop_serving(self) -> None:
        """Stop gracefully; a second call stops without waiting for open connections."""
        self._stop_requested.set()
        for server, _ in self.listeners:
            if server.should_exit:
                server.force_exit = True
            server.should_exit = True

    def close(self, timeout_s: float = 10.0) -> None:
        if self.loop is not None and self._closing is not None and not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                self.loop.call_soon_threadsafe(self._closing.set)
        if self._thread.is_alive():
            self._thread.join(timeout_s)


class ApiServers:
    """The socket server (no tokens: file permissions guard it) and, optionally, TCP, on a
    control plane and a data plane (see the module's doc)."""

    def __init__(
        self,
        engine: LocalEngine,
        unix: socket.socket,
        tcp: socket.socket | None,
        *,
        tcp_requires_auth: bool = True,
        admission: Admission | None = None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.admission = admission or Admission()
        self.control = _Plane("mlc-control")
        # A thread per slot, and a few for what runs before admission (authentication that
        # reads the store, counting a refused request).
        self.data = _Plane("mlc-data", threads=self.admission.slots + 4, nice=DATA_PLANE_NICE)
        unix_app = create_app(engine, require_auth=False)
        self.control.listeners.append((_server(Dispatch(unix_app, self, engine)), unix))
        if tcp is not None:
            tcp_app = create_app(engine, require_auth=tcp_requires_auth)
            dispatch = Dispatch(tcp_app, self, engine, max_connections=max_connections)
            server = _server(dispatch)
            dispatch.connections = server.server_state.connections
            self.data.listeners.append((server, tcp))
        self._stop = threading.Event()

    def stop(self) -> None:
        """Stop gracefully (from any thread); a second call stops without waiting for open
        connections."""
        self._stop.set()
        self.control.stop_serving()
        self.data.stop_serving()

    def serve(
        self, on_started: Callable[[], None] | None = None, *, handle_signals: bool = True
    ) -> None:
        """Serve until `stop()` (or SIGINT/SIGTERM, with `handle_signals`, from the main
        thread); `on_started` runs once every listener listens. Raises what made a plane
        fail."""
        planes = (self.control, self.data)
        previous: dict[int, Any] = {}
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, lambda *_: self.stop())
        try:
            for plane in planes:
                plane.start()
            for plane in planes:
                plane.started.wait(_START_TIMEOUT_S)
            if all(p.started.is_set() and not p.serving_ended.is_set() for p in planes):
                if on_started is not None:
                    on_started()
                # If one plane stops serving (a failure, or stop()), stop the other too.
                while not self._stop.wait(0.2):
                    if any(p.serving_ended.is_set() for p in planes):
                        break
            self.stop()
            for plane in planes:
                while not plane.serving_ended.wait(0.2):
                    pass
        finally:
            self.stop()
            for plane in planes:
                plane.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        for plane in planes:
            if plane.failure is not None:
                raise plane.failure
        if not all(p.started.is_set() for p in planes):
            raise StoreUnavailable(f"the API did not start within {_START_TIMEOUT_S:.0f} s")


class Dispatch:
    """The ASGI app of one listener: runs each request on its plane's loop, data-plane
    requests once admitted (`app.api.admission`).

    Refusals are answered here, before the app: shedding a request through FastAPI (routing,
    authentication, the exception handlers) cost ~480 µs of the data plane's loop, a bare
    answer ~2 µs (measured in process), and under overload the loop spends its time on them.
    """

    def __init__(
        self,
        app: FastAPI,
        servers: ApiServers,
        engine: LocalEngine,
        *,
        max_connections: int | None = None,
    ) -> None:
        self.app = app
        self.servers = servers
        self.readiness = engine.readiness
        self.max_connections = max_connections
        self.connections: set[Any] | None = None
        """The listener's open connections (uvicorn's), when it caps them."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(DATA_PLANE_PREFIX):
            await self._run(self.servers.control, scope, receive, send)
            return
        if self._too_many_connections():
            detail = (
                f"the server has {len(self.connections or ())} open connections, over its"
                f" limit of {self.max_connections}; retry in 1 s"
            )
            await _refuse(send, "overloaded", detail, 1, close=True)
            return
        if not self.readiness.ready:
            detail = f"not ready yet: {self.readiness.waiting_for()}; retry shortly"
            await _refuse(send, "unavailable", detail, 1)
            return
        gate = self.servers.admission
        size = _declared_size(scope, gate.max_body_bytes)
        try:
            began = await gate.enter(size)
        except Overloaded as e:
            await _refuse(send, e.kind, e.message, e.retry_after_s)
            return
        try:
            await self._run(self.servers.data, scope, receive, send)
        finally:
            gate.leave(size, began)

    def _too_many_connections(self) -> bool:
        return (
            self.max_connections is not None
            and self.connections is not None
            and len(self.connections) > self.max_connections
        )

    async def _run(self, plane: _Plane, scope: Scope, receive: Receive, send: Send) -> None:
        loop = plane.loop
        try:
            if loop is None or loop is asyncio.get_running_loop() or loop.is_closed():
                await self.app(scope, receive, send)
            else:
                await _on_loop(loop, self.app, scope, receive, send)
        except ClientDisconnect:
            pass  # gone before its body was read: nobody to answer, nothing to log


def _declared_size(scope: Scope, otherwise: int) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else otherwise
    return otherwise  # chunked: as large as the limit allows


async def _on_loop(
    loop: asyncio.AbstractEventLoop, app: FastAPI, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run `app` for this request on `loop`; its receive and send calls come back here."""
    here = asyncio.get_running_loop()

    async def receive_here() -> Message:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_done(receive()), here))

    async def send_here(message: Message) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_done(send(message)), here))

    done = asyncio.run_coroutine_threadsafe(app(scope, receive_here, send_here), loop)
    await asyncio.wrap_future(done)


async def _done(awaitable: Awaitable[T]) -> T:
    # ASGI promises awaitables, and `run_coroutine_threadsafe` takes only coroutines.
    return await awaitable


async def _refuse(
    send: Send, kind: str, detail: str, retry_after_s: float, *, close: bool = False
) -> None:
    """503 with Retry-After, the body `{"error": kind, "detail": …}` like every error."""
    body = orjson.dumps({"error": kind, "detail": detail})
    headers = [(b"content-type", b"application/json"),
               (b"retry-after", str(max(1, math.ceil(retry_after_s))).encode()),
               (b"content-length", str(len(body)).encode())]  # fmt: skip
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _server(app: Any) -> _Server:
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,  # an access line per prediction would cost more than the prediction
        http="httptools",  # parses and answers ~0.1 ms faster a request than h11 (measured)
        lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    return _Server(config)
