"""`/api/v1/models/{name}/versions`: register, show, tag, alias, transition and validate."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter
from fastapi.responses import Response

from app.api.auth import Operator, Viewer
from app.api.errors import with_status
from app.api.render import doc, ok
from app.api.schemas import (
    AliasTarget,
    RegisterVersion,
    TagValue,
    Transition,
    ValidateOn,
    VersionList,
)
from core.domain import ModelVersion
from core.errors import IntegrityError, InvalidInput
from core.jsonable import to_jsonable
from core.training.validator import ValidationResults

router = APIRouter(prefix="/api/v1/models/{name}", tags=["versions"])


@router.get("/versions", response_model=None, responses=doc(VersionList))
def list_versions(name: str, engine: Viewer) -> Response:
    return ok({"model": name, "versions": engine.list_versions(name)})


@router.post("/versions", status_code=201, response_model=None, responses=doc(ModelVersion, 201))
def register_version(name: str, body: RegisterVersion, engine: Operator) -> Response:
    """Register the next version from a skops artifact sent as base64."""
    try:
        artifact = base64.b64decode(body.artifact_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("artifact_base64 is not valid base64") from None
    try:
        version = engine.register_version(
            name, artifact, algorithm=body.algorithm, parameters=body.parameters,
            metrics=body.metrics, description=body.description,
            parent_version=body.parent_version, training_data_hash=body.training_data_hash,
            tags=body.tags,
        )  # fmt: skip
    except IntegrityError as e:
        # The uploaded file is at fault (an untrusted type, say), not the server.
        raise with_status(e, 422) from None
    return ok(version, 201)


@router.get("/versions/{ref}", response_model=None, responses=doc(ModelVersion))
def get_version(name: str, ref: str, engine: Viewer) -> Response:
    """`ref` is v3, 3 or an alias."""
    return ok(engine.get_version(name, ref))


@router.put("/versions/{ref}/tags/{key}", response_model=None, responses=doc(ModelVersion))
def tag_version(name: str, ref: str, key: str, body: TagValue, engine: Operator) -> Response:
    return ok(engine.tag_version(name, ref, key, body.value))


@router.post("/versions/{ref}/transition", response_model=None, responses=doc(ModelVersion))
def transition_version(name: str, ref: str, body: Transition, engine: Operator) -> Response:
    return ok(engine.transition_version(name, ref, body.status, reason=body.reason))


@router.put("/aliases/{alias}", response_model=None, responses=doc(ModelVersion))
def set_alias(name: str, alias: str, body: AliasTarget, engine: Operator) -> Response:
    return ok(engine.set_alias(name, body.version, alias, reason=body.reason))


@router.post("/versions/{ref}/validate", response_model=None, responses=doc(ValidationResults))
def validate_version(name: str, ref: str, body: ValidateOn, engine: Operator) -> Response:
    """Score the version on a labelled file on the server, against its own gates."""
    result = engine.validate_model(name, ref, body.data)
    return ok({**to_jsonable(result), "passed": result.passed})
