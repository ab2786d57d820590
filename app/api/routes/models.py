"""`/api/v1/models`: create, list and show models."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.api.auth import Operator, Viewer
from app.api.render import doc, ok
from app.api.schemas import CreateModel, ModelList
from core import names
from core.domain import Model

router = APIRouter(prefix="/api/v1/models", tags=["models"])


@router.get("", response_model=None, responses=doc(ModelList))
def list_models(engine: Viewer) -> Response:
    return ok({"models": engine.list_models()})


@router.post("", status_code=201, response_model=None, responses=doc(Model, 201))
def create_model(body: CreateModel, engine: Operator) -> Response:
    features = names.features((f.name, f.type) for f in body.features)
    model = engine.create_model(
        body.name, body.task, target=body.target, features=features,
        description=body.description,
    )  # fmt: skip
    return ok(model, 201)


@router.get("/{name}", response_model=None, responses=doc(Model))
def get_model(name: str, engine: Viewer) -> Response:
    return ok(engine.get_model(name))
