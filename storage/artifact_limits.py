"""What a skops artifact may unpack to, checked before skops reads a byte of it.

A skops file is a zip of a `schema.json` and one entry per array (numpy's `.npy`), bytes
object (`.bin`) or sparse matrix (a nested `.npz` zip). skops reads every entry the schema
names into memory as soon as it looks at a file (even to list its types), once per reference,
and numpy then allocates each array from the shape its header declares, before reading the
data. So 1.17 MB of deflated zeros held a 1.2 GB array and took registration to 2.7 GB RSS,
and a 200-byte entry can declare an 8 TB array.

These checks read only the zip's directory, `schema.json` and the first bytes of each array
(its header: dtype and shape), and refuse, naming the entry and where the model holds it:
- an entry, or all entries together, declaring more than the limit unpacked (zip's own sizes:
  Python's zipfile never yields more than an entry declares);
- an array whose header declares more than the limit, or more data than its entry holds;
- the entries the schema references (each time it references them) or the arrays they declare,
  summed, over the limit; a `schema.json` over a sixteenth of it (parsed JSON takes ~10× its text).
Loading an accepted artifact so holds at most about twice the limit (entry bytes, then arrays).

The limit is `MLC_MAX_ARTIFACT_BYTES` (bytes; a K, M, G or T suffix counts in 1024s), 1 GiB by
default. numpy parses headers with `ast`, which is not thread-safe in CPython 3.11: callers hold
`storage.artifacts`' deserialising lock.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections.abc import Iterable
from io import BytesIO
from typing import IO, TypeAlias

from storage.errors import InvalidInput, PayloadTooLarge

Json: TypeAlias = "dict[str, Json] | list[Json] | str | int | float | bool | None"

LIMIT_ENV = "MLC_MAX_ARTIFACT_BYTES"
DEFAULT_LIMIT = 1 << 30
_SCHEMA = "schema.json"
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def max_artifact_bytes() -> int:
    """The limit from `MLC_MAX_ARTIFACT_BYTES` (`2147483648`, `2G`, `512MiB`), else 1 GiB."""
    raw = os.environ.get(LIMIT_ENV, "").strip()
    if not raw:
        return DEFAULT_LIMIT
    text = raw.upper().removesuffix("IB").removesuffix("B")
    unit = text[-1:] if text[-1:] in _UNITS else ""
    try:
        value = float(text[: len(text) - len(unit)]) * _UNITS[unit]
    except ValueError:
        value = math.nan
    if not value >= 1:  # NaN too
        raise InvalidInput(f"{LIMIT_ENV}={raw!r} is not a size in bytes (e.g. 1073741824 or 1G)")
    return int(value)


def size_text(n: int) -> str:
    """`1.1 GiB (1,200,000,000 bytes)`."""
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def check_unpacked_sizes(
    data: bytes, *, origin: str = "artifact", limit: int | None = None
) -> None:
    """Refuse `data` (a zip) if unpacking or loading it would exceed the limit."""
    limit = max_artifact_bytes() if limit is None else limit
    over = f"over the limit of {size_text(limit)}; {LIMIT_ENV} sets it"
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError) as e:
        raise InvalidInput(f"{origin} is not a valid skops file: {e}") from None
    with archive:
        entries = {info.filename: info for info in archive.infolist()}
        references = _references(_schema(archive, entries, origin, limit))
        # Each entry named by where the model holds it, when the schema says.
        named = {name: f"{_what(loader)} {path or 'at the top'} (entry {name})"
                 for path, name, loader in reversed(references)}  # fmt: skip
        _check_entries(entries.values(), named, origin, limit, over)
        read = arrays = 0
        for path, name, _ in references:
            info = entries.get(name)
            if info is None:
                raise InvalidInput(f"{origin} is not a valid skops file: {path} names {name!r},"
                                   " which the archive lacks")  # fmt: skip
            read += info.file_size
            with archive.open(info) as stream:
                arrays += _declared_arrays(stream, info.file_size, named[name], origin, limit, over)
            if read > limit:
                raise PayloadTooLarge(f"{origin} refused: the entries its schema reads come to"
                                      f" over {size_text(read)} unpacked, {over}")  # fmt: skip
            if arrays > limit:
                raise PayloadTooLarge(f"{origin} refused: its arrays come to over"
                                      f" {size_text(arrays)}, {over}")  # fmt: skip


def _schema(
    archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], origin: str, limit: int
) -> dict[str, Json]:
    info = entries.get(_SCHEMA)
    if info is None:
        raise InvalidInput(f"{origin} is not a skops file: it has no {_SCHEMA}")
    if info.file_size > limit // 16:
        raise PayloadTooLarge(
            f"{origin} refused: its {_SCHEMA} unpacks to {size_text(info.file_size)}, over a"
            f" sixteenth of the limit ({size_text(limit // 16)}); {LIMIT_ENV} sets it"
        )
    try:
        schema: Json = json.loads(archive.read(info))
    except (ValueError, zipfile.BadZipFile, EOFError) as e:
        raise InvalidInput(f"{origin} is not a valid skops file: bad {_SCHEMA}: {e}") from None
    if not isinstance(schema, dict):  # else the walk below fails on a number or a string
        raise InvalidInput(f"{origin} is not a valid skops file: {_SCHEMA} is not an object")
    return schema


def _what(loader: str) -> str:
    return {"NdArrayNode": "array", "SparseMatrixNode": "sparse matrix"}.get(loader, "object")


def _check_entries(
    entries: Iterable[zipfile.ZipInfo], named: dict[str, str], origin: str, limit: int, over: str
) -> None:
    total = count = 0
    for info in entries:
        if info.file_size > limit:
            what = named.get(info.filename, f"entry {info.filename}")
            raise PayloadTooLarge(f"{origin} refused: {what} unpacks to"
                                  f" {size_text(info.file_size)}, {over}")  # fmt: skip
        total += info.file_size
        count += 1
    if total > limit:
        raise PayloadTooLarge(f"{origin} refused: its {count} entries unpack to"
                              f" {size_text(total)}, {over}")  # fmt: skip


def _declared_arrays(
    stream: IO[bytes], size: int, where: str, origin: str, limit: int, over: str, depth: int = 0
) -> int:
    """Bytes of the arrays an entry declares: an `.npy` header's, a nested zip's (a sparse
    matrix's `.npz`) summed; 0 for other bytes."""
    start = stream.read(len(_NPY_MAGIC) + 2)  # the magic, then the format version
    if start[: len(_NPY_MAGIC)] == _NPY_MAGIC:
        return _npy_bytes(stream, (start[-2], start[-1]), size, where, origin, limit, over)
    if start.startswith(_ZIP_MAGIC):
        if depth:
            raise InvalidInput(f"{origin} refused: {where} nests archives inside archives")
        stream.seek(0)
        try:
            nested = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, ValueError, EOFError) as e:
            raise InvalidInput(f"{origin} is not a valid skops file: {where}: {e}") from None
        with nested:
            inside = nested.infolist()
            _check_entries(inside, {}, f"{origin}: {where}", limit, over)
            total = 0
            for info in inside:
                with nested.open(info) as inner:
                    total += _declared_arrays(inner, info.file_size,
                                              f"{where} → {info.filename}", origin, limit, over,
                                              depth + 1)  # fmt: skip
            return total
    return 0


def _npy_bytes(
    stream: IO[bytes], version: tuple[int, int], size: int, where: str, origin: str, limit: int,
    over: str,
) -> int:  # fmt: skip
    """The bytes an `.npy` header (the stream is just past its magic) declares."""
    import numpy as np  # here: a client that never loads artifacts does not pay for it

    fmt = np.lib.format
    try:
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = fmt.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, SyntaxError, EOFError) as e:
        raise InvalidInput(f"{origin} is not a valid skops file: {where}: {e}") from None
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > limit:
        raise PayloadTooLarge(f"{origin} refused: {where} declares {dtype} {_shape(shape)},"
                              f" {size_text(nbytes)}, {over}")  # fmt: skip
    held = size - stream.tell()
    if nbytes > held:
        # numpy would allocate the declared size first and find the data missing after.
        raise InvalidInput(f"{origin} is not a valid skops file: {where} declares"
                           f" {size_text(nbytes)} but its entry holds {size_text(held)}")  # fmt: skip
    return int(nbytes)


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(f"{n:,}" for n in shape) or "scalar"


def _references(schema: dict[str, Json]) -> list[tuple[str, str, str]]:
    """(where in the model, entry name, loader) for every entry the schema makes skops read:
    each node state with a `file`, as often as it occurs (a repeated name is read again)."""
    found: list[tuple[str, str, str]] = []
    todo: list[tuple[dict[str, Json] | list[Json], str]] = [(schema, "")]
    while todo:  # a stack, not recursion: schemas of forests hold tens of thousands of nodes
        state, path = todo.pop()
        if isinstance(state, list):
            todo.extend(
                (item, f"{path}[{i}]")
                for i, item in enumerate(state)
                if isinstance(item, dict | list)
            )
            continue
        node = "__loader__" in state
        if node and isinstance(file := state.get("file"), str):
            found.append((path, file, str(state["__loader__"])))
        for key, value in state.items():
            if isinstance(value, dict | list):
                # A node's own fields (its content) are not part of the path; a plain dict's
                # keys (attribute names) are.
                todo.append((value, path if node else f"{path}.{key}" if path else str(key)))
    return found
