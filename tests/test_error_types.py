"""Each error type carries its kind, exit code and HTTP status; the README's tables say what
they must be, and the CLI, the API and the remote client read them from the types."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.errors import (
    ERROR_TYPES,
    Conflict,
    IllegalTransition,
    IntegrityError,
    InvalidInput,
    MlcError,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    PermissionDenied,
    StoreError,
    StoreUnavailable,
    Unauthenticated,
)

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()

# The README's "Exit codes" table, in words: its rows name the cases, not the kinds.
EXIT_CODES = {
    MlcError: 1, StoreUnavailable: 1, Overloaded: 1, IntegrityError: 1, StoreError: 1,
    InvalidInput: 2, PayloadTooLarge: 2, NotFound: 3, Conflict: 4, IllegalTransition: 4,
    PermissionDenied: 5, Unauthenticated: 5,
}  # fmt: skip


def _http_table() -> set[tuple[int, str]]:
    """(status, kind) pairs of the README's table of API errors."""
    start = README.index("| status | error | when |")
    pairs = set()
    for line in README[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        status, kinds = (c.strip() for c in line.split("|")[1:3])
        pairs |= {(int(status), k) for k in re.findall(r"`(\w+)`", kinds)}
    return pairs


@pytest.mark.parametrize("cls", list(EXIT_CODES), ids=lambda c: c.__name__)
def test_each_type_carries_the_readme_exit_code_and_status(cls: type[MlcError]) -> None:
    assert cls.exit_code == EXIT_CODES[cls]
    assert re.search(rf"^\| {cls.exit_code} \| \w", README, re.M)
    assert (cls.http_status, cls.answered_as()) in _http_table()


def test_an_answer_kind_maps_back_to_the_most_general_type_naming_it() -> None:
    expected = {
        "failure": MlcError, "invalid": InvalidInput, "too_large": PayloadTooLarge,
        "not_found": NotFound, "conflict": Conflict, "permission": PermissionDenied,
        "unauthenticated": Unauthenticated, "unavailable": StoreUnavailable,
        "overloaded": Overloaded, "integrity": IntegrityError,
    }  # fmt: skip
    assert expected == ERROR_TYPES
    # The CLI names an unauthenticated request by the kind it shares with a refused one.
    assert (Unauthenticated.kind, Unauthenticated.http_status) == ("permission", 401)


def test_one_error_can_answer_with_another_status_without_changing_its_type() -> None:
    from app.api.errors import with_status

    refused = with_status(IntegrityError("untrusted type"), 422)
    assert (refused.http_status, IntegrityError.http_status) == (422, 500)
    assert (422, "integrity") in _http_table()
