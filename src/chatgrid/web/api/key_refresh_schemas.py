"""Bodies of a key's model-list refresh, each beside its converter."""

from __future__ import annotations

from pydantic import BaseModel, Field

from chatgrid.gateway.model_refresh import ModelChange


class KeyModelsPublic(BaseModel):
    id: str = Field(description="The key's id.")
    provider: str
    added: list[str] = Field(description="Models the provider lists now that the key lacked.")
    removed: list[str] = Field(
        description="Models the key listed that the provider no longer does."
    )
    models: list[str] = Field(description="The key's model list as now stored.")


class ModelRefreshPublic(BaseModel):
    keys: list[KeyModelsPublic]


def model_refresh_public(changes: list[ModelChange]) -> ModelRefreshPublic:
    return ModelRefreshPublic(
        keys=[
            KeyModelsPublic(
                id=c.key_id,
                provider=c.provider,
                added=c.added,
                removed=c.removed,
                models=c.models,
            )
            for c in changes
        ]
    )
