"""Ties every training process to its owner's life, so none outlives an owner that dies.

During a job the owner has three kinds of descendant: multiprocessing's resource tracker and
fork server (both its children) and one worker per running job (children of the fork server).
Killed with SIGKILL, an owner runs no cleanup, so each must notice the death by itself:

- a worker watches the pipe its owner holds open for it (`parent_process().sentinel`): the
  kernel closes it whatever way the owner dies, and the worker then SIGKILLs itself. It is
  also armed with PR_SET_PDEATHSIG from the fork server, in case that dies first.
- the fork server exits when the write ends of its "alive" pipe are all closed. Its clients
  hold them: the owner, and each worker too, which kept it alive for as long as a worker
  trained (or hung, its result blocked in a pipe nobody read). A worker closes its copy, so the
  owner's death alone stops the fork server.
- the resource tracker exits once every holder of its pipe (the owner and the workers) is gone,
  after unlinking the semaphores they leaked.

A watch on the pipe rather than PR_SET_PDEATHSIG to the owner: that signal follows the thread
that started the child, and the owner starts the fork server from whichever thread submits the
first job (a request thread, a relay thread that ends): the fork server would die with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import threading
from multiprocessing import forkserver
from multiprocessing.process import BaseProcess

_PR_SET_PDEATHSIG = 1

_IMPORTED_IN = os.getpid()
"""The fork server preloads this module, so in a worker forked from it this is the fork
server's pid (in any other process it is the process's own)."""


def bind_to_owner() -> None:
    """Make this worker die with its owner (and its fork server), however they die."""
    _die_with_parent()
    _release_fork_server()
    owner = mp.parent_process()
    if owner is not None:
        threading.Thread(target=_watch, args=(owner,), name="mlc-owner-watch", daemon=True).start()


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the owner watch still holds
        return
    # The parent may have died before the signal was armed.
    if os.getpid() != _IMPORTED_IN and os.getppid() != _IMPORTED_IN:
        os.kill(os.getpid(), signal.SIGKILL)


def _release_fork_server() -> None:
    # The fork server's client state lives in CPython's private singleton: no public API
    # closes this process's end of the "alive" pipe.
    server = forkserver._forkserver  # pyright: ignore[reportPrivateUsage]  # no public equivalent
    fd: int | None = getattr(server, "_forkserver_alive_fd", None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None  # pyright: ignore[reportAttributeAccessIssue]  # private attribute typeshed leaves out


def _watch(owner: BaseProcess) -> None:
    owner.join()  # returns when the owner's end of the pipe closes: it has died
    os.kill(os.getpid(), signal.SIGKILL)
