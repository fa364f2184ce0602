"""Azure OpenAI: deployments, the api-version rule, the deployment object.

On Azure a request names a deployment, not a model; the deployment fixes the
model. Every catalogue model is implicitly a deployment of itself (so a
gateway configured with ``deployment == model`` needs no setup) and tests may
register others through ``POST /_sim/azure/deployments``.

The deployment-scoped paths (``/openai/deployments/{d}/...``) need a dated
``api-version``; the v1 surface (``/openai/v1/...``, where the Responses API
lives) takes none, or ``preview`` / ``latest``, and refuses a dated one.
"""

from __future__ import annotations

from typing import Final

from chatgrid.simulator import errors
from chatgrid.simulator.catalogue import MODEL_IDS

CREATED_AT: Final = 1717000000


class Deployments:
    def __init__(self) -> None:
        self._registered: dict[str, str] = {}

    def register(self, name: str, model: str) -> None:
        self._registered[name] = model

    def model_for(self, name: str) -> str:
        """The deployment's model; ``DeploymentNotFound`` when there is no such deployment."""
        model = self._registered.get(name)
        if model is not None:
            return model
        if name in MODEL_IDS:
            return name
        raise errors.deployment_not_found()

    def registered(self) -> dict[str, str]:
        return dict(self._registered)

    def clear(self) -> None:
        self._registered.clear()


def require_api_version(query: bytes) -> None:
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == b"api-version" and value:
            return
    raise errors.missing_api_version()


_V1_VERSIONS: Final = (b"preview", b"latest")


def check_v1_api_version(query: bytes) -> None:
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == b"api-version" and value not in _V1_VERSIONS:
            raise errors.v1_api_version_not_supported()


def deployment_object(name: str, model: str) -> dict[str, object]:
    """The data-plane deployment object (``GET /openai/deployments/{name}``)."""
    return {
        "id": name,
        "object": "deployment",
        "model": model,
        "owner": "organization-owner",
        "status": "succeeded",
        "scale_settings": {"scale_type": "standard"},
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
    }
