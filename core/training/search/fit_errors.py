"""One-line errors for failed trials, from the exceptions and warnings scikit-learn raises
(it nests them, prefixes module paths and writes whole tracebacks into warnings)."""

from __future__ import annotations

import re
import warnings

from sklearn.exceptions import FitFailedWarning  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs


def is_consumed(w: warnings.WarningMessage) -> bool:
    """Warnings whose content the trials already carry (failed fits, NaN scores)."""
    text = str(w.message)
    return issubclass(w.category, FitFailedWarning) or (
        issubclass(w.category, UserWarning)
        and (text.startswith("Scoring failed") or text.startswith("One or more of the test"))
    )


def fit_errors(messages: list[warnings.WarningMessage]) -> list[str]:
    """Distinct one-line errors from scikit-learn's fit- and score-failure warnings."""
    found: list[str] = []
    for w in messages:
        if not is_consumed(w):
            continue
        for block in str(w.message).split("-" * 80):
            if "Traceback" in block:
                line = first_error(block)
                if line not in found:
                    found.append(line)
    return found


def first_error(text: str) -> str:
    """The exception line of the first traceback in `text`, without its module path."""
    block = text[text.find("Traceback") :] if "Traceback" in text else text
    # scikit-learn separates the tracebacks of different errors with a line of dashes.
    lines = block.split("-" * 80)[0].splitlines()
    # Frames are indented; the exception text starts after the last indented line.
    frame_end = max((i for i, line in enumerate(lines) if line.startswith(" ")), default=-1)
    tail = [line.strip() for line in lines[frame_end + 1 :] if line.strip()]
    return _shorten(" ".join(tail) or "unknown error")


def describe(e: BaseException) -> str:
    """``Type: message`` of the innermost same-type cause, on one line, shortened."""
    # scikit-learn re-raises a nested parameter error under the outer function's name
    # ("parameter of cross_validate"); the original names the estimator.
    while isinstance(e.__cause__, type(e)):
        e = e.__cause__
    return _shorten(f"{type(e).__name__}: {' '.join(str(e).split())}")


def _shorten(message: str, limit: int = 300) -> str:
    head, sep, rest = message.partition(": ")
    if sep and re.fullmatch(r"[\w.]+", head):
        message = f"{head.rsplit('.', 1)[-1]}: {rest}"
    return message if len(message) <= limit else message[: limit - 1] + "…"
