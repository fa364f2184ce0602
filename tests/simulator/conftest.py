"""Fixtures for the simulator's tests: in-process client, live server, spec validation.

Response bodies are checked against OpenAI's own OpenAPI document. It is
OpenAPI 3.1 but still marks 111 schemas ``nullable: true`` (a 3.0 keyword that
JSON Schema 2020-12 ignores), e.g. a stream chunk's ``finish_reason`` and
``usage``; the loader turns each into ``anyOf: [schema, {"type": "null"}]``,
which is what the document means, and leaves everything else as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from chatgrid.simulator import SimulatorApp, create_simulator_app
from chatgrid.simulator.testing import (
    TEST_KEY,
    AsgiResponse,
    InProcessClient,
    RunningSimulator,
    bearer,
)

SPEC_PATH = Path("/work/shared/reference/openai-openapi.yaml")
SPEC_URI = "urn:openai-openapi"
AUTH = bearer(TEST_KEY)

Validate = Callable[[str, Any], None]


def _as_json_schema(node: Any) -> Any:
    """Rewrite OpenAPI 3.0's ``nullable: true`` into JSON Schema's null alternative."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items()}
    if converted.get("nullable") is True:
        del converted["nullable"]
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@pytest.fixture(scope="session")
def openapi_validate() -> Validate:
    """``validate("SchemaName", instance)`` against OpenAI's spec; raises on mismatch."""
    if not SPEC_PATH.exists():
        pytest.skip("OpenAI's OpenAPI document is not available")
    with SPEC_PATH.open("rb") as handle:
        spec = _as_json_schema(yaml.load(handle, Loader=yaml.CSafeLoader))
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    validators: dict[str, Draft202012Validator] = {}

    def validate(schema_name: str, instance: Any) -> None:
        validator = validators.get(schema_name)
        if validator is None:
            assert schema_name in spec["components"]["schemas"], schema_name
            schema = {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"}
            validator = validators[schema_name] = Draft202012Validator(schema, registry=registry)
        validator.validate(instance)

    return validate


@pytest.fixture
def app() -> SimulatorApp:
    return create_simulator_app()


@pytest.fixture
def client(app: SimulatorApp) -> InProcessClient:
    return InProcessClient(app)


@pytest.fixture
def chat(client: InProcessClient) -> Callable[..., AsgiResponse]:
    """POST a chat completion with a valid key; keyword arguments join the body."""

    def post(text: str = "Hello, world!", **fields: Any) -> AsgiResponse:
        body: dict[str, Any] = {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": text}],
        }
        body.update(fields)
        return client.request("POST", "/v1/chat/completions", json=body, headers=AUTH)

    return post


@pytest.fixture(scope="session")
def running_simulator() -> Iterator[RunningSimulator]:
    with RunningSimulator() as simulator:
        yield simulator


@pytest.fixture
def live(running_simulator: RunningSimulator) -> RunningSimulator:
    """The shared real server, reset to a fresh state for this test."""
    running_simulator.app.state.reset()
    return running_simulator
