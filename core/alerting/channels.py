"""Notification channels: console (an in-memory ring buffer the TUI reads), a JSON-lines log
file, a generic JSON webhook and a Slack-compatible webhook.

A channel's `send(payload)` either returns (delivered) or raises `ChannelError`; retries,
backoff and bookkeeping belong to the `AlertManager`'s outbox, never to a channel.

The payload every channel receives (and the webhook POSTs as its JSON body)::

    {
      "notification_id": 17,          # the outbox row: receivers may dedupe on it
      "kind": "firing",               # firing | repeat | resolved | event
      "alert_id": "a3",               # null for a system event
      "rule_id": "r1",                # null for a system event no rule routes
      "model": "credit-default",
      "metric": "error_rate",         # event.<kind> for a system event
      "value": 0.12,                  # null when unknown
      "threshold": 0.05,
      "comparison": ">",
      "state": "firing",              # pending | firing | resolved | inactive | event
      "severity": "critical",         # info | warning | critical
      "started_at": "2025-01-01T03:00:00+00:00",
      "fired_at": "2025-01-01T03:05:00+00:00",
      "resolved_at": null,
      "message": "[critical] credit-default: error_rate = 0.12 > 0.05 ...",
      "event": null                   # for a system event: {id, kind, severity, model_id,
    }                                 #   environment, occurred_at, message, payload}

The Slack channel posts `{"text": <message>, "blocks": [...]}` (Slack incoming webhooks and
Mattermost/Rocket.Chat compatible ones accept it).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from pathlib import Path
from typing import Any, Protocol

import httpx

WEBHOOK_TIMEOUT_S = 2.0


class ChannelError(Exception):
    """A delivery failed; the message is one line and is stored as the delivery's last error."""


class Channel(Protocol):
    def send(self, payload: dict[str, Any]) -> None: ...


class ConsoleChannel:
    """The newest notifications in memory, for the TUI's alert panel."""

    def __init__(self, capacity: int = 500) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._count = 0

    def send(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self._items.append(dict(payload))
            self._count += 1

    def recent(self, n: int = 50) -> list[dict[str, Any]]:
        """The last `n` notifications, oldest first."""
        with self._lock:
            items = list(self._items)
        return items[-n:] if n > 0 else []

    @property
    def count(self) -> int:
        """How many notifications have arrived in all: a cheap "anything new?" check."""
        return self._count


class LogFileChannel:
    """Appends one JSON object per line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, payload: dict[str, Any]) -> None:
        line = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str) + "\n"
        try:
            with self._lock, self.path.open("a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
        except OSError as e:
            raise ChannelError(f"cannot write {self.path}: {e.strerror or e}") from e


def _post(client: httpx.Client, url: str, body: dict[str, Any]) -> None:
    try:
        response = client.post(url, json=body)
    except httpx.TimeoutException as e:
        raise ChannelError(f"POST {url} timed out ({type(e).__name__})") from e
    except httpx.HTTPError as e:
        raise ChannelError(f"POST {url} failed: {type(e).__name__}: {e}".splitlines()[0]) from e
    if not 200 <= response.status_code < 300:
        raise ChannelError(f"POST {url} answered HTTP {response.status_code}")


class WebhookChannel:
    def __init__(self, url: str, client: httpx.Client) -> None:
        self.url = url
        self.client = client

    def send(self, payload: dict[str, Any]) -> None:
        _post(self.client, self.url, payload)


class SlackChannel:
    def __init__(self, url: str, client: httpx.Client) -> None:
        self.url = url
        self.client = client

    def send(self, payload: dict[str, Any]) -> None:
        _post(self.client, self.url, slack_payload(payload))


_EMOJI = {"critical": ":red_circle:", "warning": ":warning:", "info": ":information_source:"}


def slack_payload(payload: dict[str, Any]) -> dict[str, Any]:
    kind = payload.get("kind") or payload.get("state") or ""
    severity = payload.get("severity")
    if kind == "resolved":
        icon = ":white_check_mark:"
    else:
        icon = _EMOJI.get(severity, "") if isinstance(severity, str) else ""
    text = f"{icon} {payload.get('message', '')}".strip()
    fields = [
        f"*model* {payload.get('model')}",
        f"*metric* {payload.get('metric')}",
        f"*state* {payload.get('state')}",
        f"*severity* {payload.get('severity')}",
    ]
    if payload.get("alert_id"):
        fields.append(f"*alert* {payload['alert_id']}")
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "  ".join(fields)}]},
        ],
    }


class Channels:
    """Turns channel specs (`console`, `log:<path>`, `webhook:<url>`, `slack:<url>`) into
    channels, sharing one console buffer and one HTTP client (short timeout)."""

    def __init__(
        self,
        console: ConsoleChannel | None = None,
        client: httpx.Client | None = None,
        *,
        timeout_s: float = WEBHOOK_TIMEOUT_S,
    ) -> None:
        self.console = console or ConsoleChannel()
        self._client = client
        self._own_client = client is None
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._cache: dict[str, Channel] = {}

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self._timeout_s, follow_redirects=False)
            return self._client

    def get(self, spec: str) -> Channel:
        if spec == "console":
            return self.console
        if spec in self._cache:
            return self._cache[spec]
        kind, _, target = spec.partition(":")
        channel: Channel
        if kind == "log":
            channel = LogFileChannel(Path(target))
        elif kind == "webhook":
            channel = WebhookChannel(target, self.client)
        elif kind == "slack":
            channel = SlackChannel(target, self.client)
        else:
            raise ChannelError(f"unknown channel {spec!r}")
        self._cache[spec] = channel
        return channel

    def send(self, spec: str, payload: dict[str, Any]) -> None:
        """Deliver or raise `ChannelError` (any other exception is turned into one)."""
        try:
            self.get(spec).send(payload)
        except ChannelError:
            raise
        except Exception as e:  # a channel must never take the evaluator down
            raise ChannelError(f"{type(e).__name__}: {e}".splitlines()[0]) from e

    def close(self) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None
