"""Reading the files a user names (datasets, entity files, training configs, feature
definitions): one translation of the OS's and TOML's errors into a message naming the file
and what it was for."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from core.errors import InvalidInput


def read_input(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{what} {path} does not exist") from None
    except OSError as e:
        raise InvalidInput(f"cannot read {what} {path}: {e.strerror}") from None


def read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(read_input(path, what).decode())
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput(f"{what} {path} is not valid TOML: {e}") from None
