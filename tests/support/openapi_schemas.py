"""OpenAI's published OpenAPI schemas, loaded once, to judge what ``/v1`` answers.

The spec is a 3 MB YAML file; parsing it costs most of a second, so it is
read on first use and kept for the session. Its ``#/components/schemas/...``
references resolve through a ``referencing`` registry holding the whole
document, and every schema is checked with Draft 2020-12 (what OpenAPI 3.1
uses).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(
    os.environ.get("CHATGRID_OPENAI_SPEC", "/work/shared/reference/openai-openapi.yaml")
)
_SPEC_URI = "urn:openai:openapi"


@cache
def _registry() -> Registry[Any]:
    with SPEC_PATH.open("rb") as spec_file:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        spec = yaml.load(spec_file, Loader=loader)  # noqa: S506 (a safe loader)
    resource: Resource[Any] = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
    return registry


@cache
def validator(schema_name: str) -> Draft202012Validator:
    """A validator for ``#/components/schemas/<schema_name>``."""
    ref = {"$ref": f"{_SPEC_URI}#/components/schemas/{schema_name}"}
    return Draft202012Validator(ref, registry=_registry())


def schema_errors(schema_name: str, instance: object) -> list[str]:
    """Every way ``instance`` breaks the schema, as readable lines (empty when it fits)."""
    found = validator(schema_name).iter_errors(instance)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in found]


def assert_fits(schema_name: str, instance: object) -> None:
    problems = schema_errors(schema_name, instance)
    assert not problems, f"not a valid {schema_name}: {problems[:5]}"


def assert_openai_error(
    response: httpx.Response, status: int | None = None, *, param: object = ...
) -> dict[str, Any]:
    """The response is an OpenAI-shaped error (optionally with this status and ``param``)."""
    where = f"{response.request.method} {response.request.url.raw_path!r}"
    if status is not None:
        assert response.status_code == status, (
            f"{where}: expected {status}, got {response.status_code}: {response.text[:300]}"
        )
    assert response.status_code >= 400, f"{where}: {response.status_code} is not an error"
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("application/json"), (
        f"{where}: error content-type {content_type!r}: {response.text[:300]}"
    )
    body = response.json()
    assert_fits("ErrorResponse", body)
    error: dict[str, Any] = body["error"]
    assert error["message"], f"{where}: empty error message"
    if param is not ...:
        assert error["param"] == param, f"{where}: param {error['param']!r}, wanted {param!r}"
    return error
