"""The audit log: hash-chained, keyed records of every mutating action (`core.audit.chain`),
used as a namespace (`audit.append(conn, …)`, `audit.verify_all(conn)`)."""

from core.audit.chain import (
    GENESIS,
    GIVEN_SOURCE,
    HEAD_SOURCE,
    KeyEpoch,
    append,
    head,
    parse_head,
    query,
    record_from_row,
    verify,
    verify_all,
)

__all__ = [
    "GENESIS",
    "GIVEN_SOURCE",
    "HEAD_SOURCE",
    "KeyEpoch",
    "append",
    "head",
    "parse_head",
    "query",
    "record_from_row",
    "verify",
    "verify_all",
]
