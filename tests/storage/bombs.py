"""Hostile skops files built without holding what they unpack to: a real fitted pipeline with
one array entry replaced, streamed into the zip in chunks."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable

import numpy as np

CHUNK = 16 << 20


def npy_header(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def entry_of(artifact: bytes, attribute: str) -> str:
    """The zip entry holding the array at `attribute` (e.g. `coef_`) of a skops file."""
    with zipfile.ZipFile(io.BytesIO(artifact)) as archive:
        schema = archive.read("schema.json").decode()
    found = re.search(rf'"{attribute}": {{[^{{}}]*"file": "([^"]+)"', schema)
    assert found is not None, attribute
    return found.group(1)


def with_entry(
    artifact: bytes,
    name: str,
    write: Callable[[io.BufferedIOBase], None],
    *,
    schema: str | None = None,
) -> bytes:
    """`artifact` with entry `name` rewritten by `write` (deflated), and `schema.json` replaced
    when given."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(artifact)) as src,
        zipfile.ZipFile(out, "w") as dst,
    ):
        for info in src.infolist():
            if info.filename == name:
                entry = zipfile.ZipInfo(name)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry._compresslevel = 1  # type: ignore[attr-defined]  # fast: these are zeros
                with dst.open(entry, "w", force_zip64=True) as fh:
                    write(fh)
            elif info.filename == "schema.json" and schema is not None:
                dst.writestr("schema.json", schema)
            else:
                dst.writestr(info, src.read(info))
    return out.getvalue()


def zero_array(artifact: bytes, attribute: str, nbytes: int) -> bytes:
    """`artifact` whose array at `attribute` is `nbytes` of float64 zeros, really there (it
    deflates about 1000:1)."""

    def write(fh: io.BufferedIOBase) -> None:
        fh.write(npy_header((nbytes // 8,)))
        zeros = bytes(CHUNK)
        left = nbytes // 8 * 8
        while left:
            n = min(left, CHUNK)
            fh.write(zeros[:n])
            left -= n

    return with_entry(artifact, entry_of(artifact, attribute), write)


def declared_only(artifact: bytes, attribute: str, shape: tuple[int, ...]) -> bytes:
    """`artifact` whose array at `attribute` declares `shape` but holds 8 bytes of data."""
    return with_entry(
        artifact, entry_of(artifact, attribute), lambda fh: fh.write(npy_header(shape) + bytes(8))
    )


def schema_of(artifact: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(artifact)) as archive:
        return json.loads(archive.read("schema.json"))
