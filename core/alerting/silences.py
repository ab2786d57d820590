"""Silences: mute the notifications of a rule, a model, or a rule on a model, for a while. A
silenced alert still changes state and is recorded in history (`core.alerting.evaluation`)."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import cast

from core import audit
from core.alerting import rows
from core.alerting.base import ManagerBase
from core.alerting.types import Silence
from core.errors import IllegalTransition, InvalidInput, NotFound
from core.jsonable import to_jsonable
from storage.repos import alerts as repo


class SilenceBook(ManagerBase):
    def silence(
        self,
        *,
        rule_id: str | None = None,
        model_id: str | None = None,
        duration_s: float,
        comment: str = "",
        actor: str,
    ) -> Silence:
        """Mute notifications of a rule, a model, or a rule on a model, for `duration_s`."""
        if rule_id is None and model_id is None:
            raise InvalidInput("a silence needs a rule or a model (or both)")
        # Checked although typed: callers outside the type checker may pass anything.
        if isinstance(duration_s, bool) or not isinstance(cast(object, duration_s), int | float):
            raise InvalidInput(f"silence duration must be a number of seconds, not {duration_s!r}")
        if not math.isfinite(duration_s) or duration_s <= 0 or duration_s > 366 * 86400:
            raise InvalidInput(
                f"silence duration must be positive and at most a year, not {duration_s!r}"
            )
        now = self.now()
        with self.store.write() as conn:
            rule_model = None
            if rule_id is not None:
                rule = rows.get_rule(conn, rule_id)
                if model_id is not None and model_id != rule.model_id:
                    raise InvalidInput(f"rule {rule_id} watches {rule.model_id}, not {model_id}")
                rule_model = rule.model_id
            if model_id is not None:
                rows.require_model(conn, model_id)
            silence_id = f"s{repo.next_number(conn, 'silence')}"
            row = {
                "id": silence_id,
                "rule_id": rule_id,
                "model_id": model_id,
                "starts_at": now,
                "ends_at": now + timedelta(seconds=float(duration_s)),
                "comment": comment,
                "created_by": actor,
                "created_at": now,
            }
            repo.insert_silence(conn, row)
            silence = rows.silence(row)
            audit.append(
                conn, actor=actor, action="alert.silence", target=silence_id,
                model_id=model_id or rule_model,
                after=to_jsonable(silence), reason=comment, at=now,
            )  # fmt: skip
        return silence

    def list_silences(self, *, active_only: bool = False) -> list[Silence]:
        with self.store.read() as conn:
            found = repo.list_silences(conn, active_at=self.now() if active_only else None)
        return [rows.silence(r) for r in found]

    def expire_silence(self, silence_id: str, *, actor: str, reason: str = "") -> Silence:
        now = self.now()
        with self.store.write() as conn:
            row = repo.get_silence(conn, silence_id)
            if row is None:
                raise NotFound(f"silence {silence_id!r} not found")
            silence = rows.silence(row)
            if not silence.active_at(now) and silence.starts_at <= now:
                raise IllegalTransition(f"silence {silence_id} has already ended")
            repo.end_silence(conn, silence_id, now, actor)
            audit.append(
                conn, actor=actor, action="alert.silence.expire", target=silence_id,
                model_id=silence.model_id, before={"ends_at": silence.ends_at},
                after={"ends_at": now}, reason=reason, at=now,
            )  # fmt: skip
            return rows.silence(repo.get_silence(conn, silence_id) or row)
