"""The headless demo's Ctrl+C ends `python -m app` with 130 wherever it lands, including
inside code a native library runs through PyRun_String (as pyo3 and pybind11 do)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run as `python -m`: only a module run turns a KeyboardInterrupt that passed through
# PyRun_String into death by SIGINT at exit.
PROBE = """
import ctypes, signal, sys, threading
from app.cli.demo_cmd import _interrupts

run = ctypes.pythonapi.PyRun_String
run.restype = ctypes.py_object
run.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.py_object, ctypes.py_object]
flag = threading.Event()
with _interrupts(flag):
    try:
        scope = {"signal": signal}
        run(b"signal.raise_signal(signal.SIGINT)", 257, scope, scope)
    except KeyboardInterrupt:
        pass
assert flag.is_set()
sys.exit(130)
"""


def test_an_interrupt_inside_native_code_still_exits_with_130(tmp_path: Path) -> None:
    (tmp_path / "interrupt_probe.py").write_text(PROBE)
    done = subprocess.run(
        [sys.executable, "-m", "interrupt_probe"],
        cwd=tmp_path, env={"PYTHONPATH": f"{tmp_path}:{ROOT}"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 130, done.stderr
