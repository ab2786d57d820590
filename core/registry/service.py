"""The model registry: models, immutable versions, tags, aliases and the status machine.

Every mutation writes its audit record in the same transaction, so a change and its record
commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from core import audit, lifecycle, names
from core.clock import as_utc, utcnow
from core.domain import Feature, FeatureType, Model, ModelStatus, ModelVersion, Task
from core.errors import Conflict, InvalidInput, NotFound
from core.jsonable import canonical_json, to_jsonable
from core.registry.signature import read_signature
from core.trusted_types import TRUSTED_TYPES
from storage.artifacts import ArtifactStore, load_bytes
from storage.conn import Conn
from storage.repos import features as features_repo
from storage.repos import models as models_repo
from storage.repos import training as training_repo
from storage.repos import versions as versions_repo
from storage.store import Store


@dataclass(frozen=True)
class NewVersion:
    """What a caller supplies to register a version; the registry adds number, hash, time."""

    algorithm: str
    parameters: dict[str, Any]
    performance_metrics: dict[str, float]
    training_data_hash: str | None = None
    training_job_id: str | None = None
    parent_version: str | None = None
    description: str = ""
    status: ModelStatus = ModelStatus.REGISTERED
    status_reason: str = ""
    tags: tuple[tuple[str, str], ...] = ()


class ModelRegistry:
    def __init__(self, store: Store, artifacts: ArtifactStore) -> None:
        self.store = store
        self.artifacts = artifacts

    # --- models -------------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        task: str,
        *,
        actor: str,
        target: str | None = None,
        features: list[Feature] | None = None,
        description: str = "",
    ) -> Model:
        names.model_name(name)
        try:
            task_ = Task(task)
        except ValueError:
            raise InvalidInput(f"unknown task {task!r}: use classification or regression") from None
        if target is not None:
            names.column(target, "target")
        feats = names.features(features or [])
        if target is not None and any(f.name == target for f in feats):
            raise InvalidInput(f"target {target!r} cannot also be a feature")
        row = {
            "id": name,
            "task": task_.value,
            "target": target,
            "features": canonical_json([to_jsonable(f) for f in feats]),
            "description": description,
            "created_at": utcnow(),
            "created_by": actor,
        }
        with self.store.write() as conn:
            if models_repo.get(conn, name) is not None:
                raise Conflict(f"model {name!r} already exists")
            models_repo.insert(conn, row)
            model = _model(row)
            audit.append(
                conn, actor=actor, action="model.create", target=name, model_id=name,
                after=_model_summary(model),
            )  # fmt: skip
        return model

    def get_model(self, name: str) -> Model:
        with self.store.read() as conn:
            return self._get_model(conn, name)

    def list_models(self) -> list[Model]:
        with self.store.read() as conn:
            return [_model(r) for r in models_repo.list_all(conn)]

    # --- versions -----------------------------------------------------------------------

    def register_version(
        self,
        model_name: str,
        artifact: bytes,
        new: NewVersion,
        *,
        actor: str,
        origin: str = "artifact",
        attach: Callable[[Conn, str], None] | None = None,
    ) -> ModelVersion:
        """Verify and store the artifact, then add the next version number for the model.

        `attach(conn, version_id)` runs inside the same transaction, so what a caller records
        beside the version (training lineage, a profile) commits with it or not at all.
        """
        model = self.get_model(model_name)
        _check_metrics(new.performance_metrics)
        for key, value in new.tags:
            names.tag_pair(key, value)
        names.reason(new.status_reason)
        estimator = load_bytes(artifact, TRUSTED_TYPES, origin=origin)
        signature = read_signature(estimator, model)
        sha = self.artifacts.put_bytes(artifact)
        now = utcnow()
        with self.store.write() as conn:
            model = self._get_model(conn, model_name)
            parent = None
            if new.parent_version is not None:
                parent = self._resolve(conn, model_name, new.parent_version)
            number = versions_repo.next_number(conn, model_name)
            version_id = f"{model_name}:v{number}"
            row = {
                "id": version_id,
                "model_id": model_name,
                "number": number,
                "algorithm": new.algorithm,
                "parameters": canonical_json(new.parameters),
                "performance_metrics": canonical_json(new.performance_metrics),
                "training_data_hash": new.training_data_hash,
                "training_job_id": new.training_job_id,
                "parent_version": parent,
                "artifact_sha256": sha,
                "artifact_size": len(artifact),
                "signature": canonical_json(signature),
                "status": new.status.value,
                "status_reason": new.status_reason,
                "status_changed_at": now,
                "description": new.description,
                "created_at": now,
                "created_by": actor,
            }
            versions_repo.insert(conn, row)
            for key, value in new.tags:
                versions_repo.set_tag(conn, model_name, number, key, value)
            if attach is not None:
                attach(conn, version_id)
            version = self._version(conn, model_name, number)
            audit.append(
                conn, actor=actor, action="version.register", target=version.id,
                model_id=model_name, after=_version_summary(version), reason=new.status_reason,
            )  # fmt: skip
        return version

    def register_fitted(
        self, model_name: str, estimator: Any, new: NewVersion, *, actor: str
    ) -> ModelVersion:
        import skops.io as sio  # pyright: ignore[reportMissingTypeStubs]  # skops ships no stubs

        return self.register_version(model_name, sio.dumps(estimator), new, actor=actor)

    def list_versions(self, model_name: str) -> list[ModelVersion]:
        with self.store.read() as conn:
            self._get_model(conn, model_name)
            rows = versions_repo.list_for_model(conn, model_name)
            tags = versions_repo.tags(conn, model_name)
            aliases = versions_repo.aliases(conn, model_name)
        return [_version(r, tags, aliases) for r in rows]

    def get_version(self, model_name: str, ref: str) -> ModelVersion:
        with self.store.read() as conn:
            self._get_model(conn, model_name)
            return self._version(conn, model_name, self._resolve(conn, model_name, ref))

    def load_estimator(self, model_name: str, ref: str) -> Any:
        version = self.get_version(model_name, ref)
        return self.artifacts.load(version.artifact_sha256, TRUSTED_TYPES)

    def tag_version(
        self, model_name: str, ref: str, key: str, value: str, *, actor: str
    ) -> ModelVersion:
        names.tag_pair(key, value)
        with self.store.write() as conn:
            self._get_model(conn, model_name)
            number = self._resolve(conn, model_name, ref)
            before = self._version(conn, model_name, number).tags.get(key)
            versions_repo.set_tag(conn, model_name, number, key, value)
            version = self._version(conn, model_name, number)
            audit.append(
                conn, actor=actor, action="version.tag", target=version.id, model_id=model_name,
                before={key: before} if before is not None else None, after={key: value},
            )  # fmt: skip
        return version

    def set_alias(
        self, model_name: str, ref: str, alias: str, *, actor: str, reason: str = ""
    ) -> ModelVersion:
        names.alias(alias)
        with self.store.write() as conn:
            self._get_model(conn, model_name)
            number = self._resolve(conn, model_name, ref)
            previous = versions_repo.alias_target(conn, model_name, alias)
            versions_repo.set_alias(conn, model_name, alias, number, utcnow(), actor)
            version = self._version(conn, model_name, number)
            audit.append(
                conn, actor=actor, action="version.alias", target=f"{model_name}@{alias}",
                model_id=model_name,
                before={"alias": alias, "version": f"v{previous}"} if previous else None,
                after={"alias": alias, "version": version.version}, reason=reason,
            )  # fmt: skip
        return version

    def transition(
        self, model_name: str, ref: str, status: str, *, actor: str, reason: str = ""
    ) -> ModelVersion:
        try:
            target = ModelStatus(status)
        except ValueError:
            raise InvalidInput(
                f"unknown status {status!r}: use one of {', '.join(s.value for s in ModelStatus)}"
            ) from None
        with self.store.write() as conn:
            self._get_model(conn, model_name)
            number = self._resolve(conn, model_name, ref)
            current = self._version(conn, model_name, number)
            lifecycle.check_transition(current.id, current.status, target)
            versions_repo.set_status(conn, model_name, number, target.value, reason, utcnow())
            audit.append(
                conn, actor=actor, action="version.status", target=current.id,
                model_id=model_name, before={"status": current.status.value},
                after={"status": target.value}, reason=reason,
            )  # fmt: skip
            return self._version(conn, model_name, number)

    # --- helpers ------------------------------------------------------------------------

    def _get_model(self, conn: Conn, name: str) -> Model:
        row = models_repo.get(conn, name)
        if row is None:
            raise NotFound(f"model {name!r} not found")
        return _model(row)

    def _resolve(self, conn: Conn, model_name: str, ref: str) -> int:
        """`v3`, `3` or an alias → version number (NotFound names what was asked)."""
        number = names.version_number(str(ref))
        if number is None:
            number = versions_repo.alias_target(conn, model_name, str(ref))
            if number is None:
                raise NotFound(f"model {model_name!r} has no version or alias {ref!r}")
        if versions_repo.get(conn, model_name, number) is None:
            raise NotFound(f"model {model_name!r} has no version v{number}")
        return number

    def _version(self, conn: Conn, model_name: str, number: int) -> ModelVersion:
        row = versions_repo.get(conn, model_name, number)
        if row is None:
            raise NotFound(f"model {model_name!r} has no version v{number}")
        version = _version(
            row,
            versions_repo.tags(conn, model_name, number),
            versions_repo.aliases(conn, model_name),
        )
        trained = training_repo.version_training(conn, version.id)
        if trained is not None:
            validation = json.loads(trained["validation"])
            version.validation = validation
            version.training = {
                "config": json.loads(trained["config"]),
                "seed": trained["seed"],
                "data_path": trained["data_path"],
                "data_rows": trained["data_rows"],
                "search": validation.get("search"),
            }
            lineage = (
                features_repo.lineage_for_job(conn, version.training_job_id)
                if version.training_job_id
                else None
            )
            if lineage is not None:  # trained on a feature-store training set
                version.training["feature_store"] = {
                    "entities": lineage["entities"],
                    "entities_sha256": lineage["entities_sha256"],
                    "timestamp": lineage["timestamp_column"],
                    "features": json.loads(lineage["features"]),
                    "views": json.loads(lineage["views"]),
                    "rows": int(lineage["rows"]),
                }
        return version


def _check_metrics(metrics: object) -> None:
    if not isinstance(metrics, dict):
        raise InvalidInput("metrics must be a JSON object of name → number")
    for key, value in cast("dict[object, object]", metrics).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"metric {key!r} must be a number, got {value!r}")


def _model(row: dict[str, Any]) -> Model:
    feats = json.loads(row["features"]) if isinstance(row["features"], str) else row["features"]
    latest = row.get("latest_version")
    return Model(
        id=row["id"],
        task=Task(row["task"]),
        target=row["target"],
        features=[Feature(f["name"], FeatureType(f["type"])) for f in feats],
        description=row["description"],
        created_at=as_utc(row["created_at"]),
        created_by=row["created_by"],
        version_count=int(row.get("version_count") or 0),
        latest_version=f"v{latest}" if latest else None,
    )


def _version(
    row: dict[str, Any], tags: list[dict[str, Any]], aliases: list[dict[str, Any]]
) -> ModelVersion:
    number = int(row["number"])
    parent = row["parent_version"]
    return ModelVersion(
        id=row["id"],
        model_id=row["model_id"],
        version=f"v{number}",
        number=number,
        algorithm=row["algorithm"],
        parameters=json.loads(row["parameters"]),
        training_data_hash=row["training_data_hash"],
        performance_metrics=json.loads(row["performance_metrics"]),
        status=ModelStatus(row["status"]),
        created_at=as_utc(row["created_at"]),
        created_by=row["created_by"],
        artifact_sha256=row["artifact_sha256"],
        artifact_size=int(row["artifact_size"]),
        signature=json.loads(row["signature"]),
        training_job_id=row["training_job_id"],
        parent_version=f"v{parent}" if parent is not None else None,
        description=row["description"],
        status_reason=row["status_reason"],
        status_changed_at=as_utc(row["status_changed_at"]),
        tags={t["key"]: t["value"] for t in tags if int(t["number"]) == number},
        aliases=[a["alias"] for a in aliases if int(a["number"]) == number],
    )


def _model_summary(model: Model) -> dict[str, Any]:
    return {
        "task": model.task.value,
        "target": model.target,
        "features": [f"{f.name}:{f.type.value}" for f in model.features],
        "description": model.description,
    }


def _version_summary(version: ModelVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "algorithm": version.algorithm,
        "status": version.status.value,
        "artifact_sha256": version.artifact_sha256,
        "training_data_hash": version.training_data_hash,
        "parent_version": version.parent_version,
        "training_job_id": version.training_job_id,
    }
