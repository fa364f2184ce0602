"""The JSON API keeps one convention on every route, so a new route cannot drift from it.

Bodies live in ``web/api/…_schemas`` modules: what a caller sends derives
from ``Strict``, and a function that builds a response schema from a domain
value (a converter) sits in that schema's module; elsewhere only a route
builds an answer, from plain values. ``limit`` is read the same way by every
listing: one whole number from 1 to 5000, written as JSON writes it, or a 400
naming ``limit``.
"""

from __future__ import annotations

import ast
import csv
import importlib
import inspect
import io
import pkgutil
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import fastapi.routing
import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

import chatgrid.web.api
from chatgrid.admin.reports import MAX_ROWS
from chatgrid.web.api import schemas as base_schemas
from chatgrid.web.api.schemas import Strict
from tests.support.console import World
from tests.support.usage_rows import entry, write

LISTINGS = ("audit", "audit.csv", "calls", "calls.csv")


def api_modules() -> Iterator[ModuleType]:
    package = chatgrid.web.api
    for info in pkgutil.iter_modules(package.__path__):
        yield importlib.import_module(f"{package.__name__}.{info.name}")


def models_of(module: ModuleType) -> list[type[BaseModel]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
    ]


def api_routes(world: World) -> Iterator[APIRoute]:
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)  # FastAPI ≥ 0.16x nests them
    for item in flatten(world.app.routes) if flatten else world.app.routes:
        route = getattr(item, "original_route", item)
        if isinstance(route, APIRoute) and route.path.startswith("/api/"):
            yield route


def test_bodies_are_declared_only_in_schemas_modules() -> None:
    for module in api_modules():
        if module is base_schemas:
            names = {m.__name__ for m in models_of(module)}
            assert names == {"Strict", "ErrorDetail", "ErrorResponse"}, "a body in the base module"
        elif not module.__name__.endswith("_schemas"):
            assert not models_of(module), (
                f"{module.__name__} declares a body; move it to a schemas module"
            )


def constructed(function: ast.FunctionDef | ast.AsyncFunctionDef, names: set[str]) -> set[str]:
    """The schemas a function builds itself: ``Name(...)`` or ``Name.model_validate(...)``."""
    found = set()
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        target = node.func
        if isinstance(target, ast.Attribute) and target.attr == "model_validate":
            target = target.value
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name in names:
            found.add(name)
    return found


def test_converters_live_beside_their_schemas(shared_world: World) -> None:
    """Outside a schemas module only a route builds an answer (from plain values); a
    function that turns a domain object into a schema sits under that schema."""
    responses = {
        model.__name__
        for module in api_modules()
        if module.__name__.endswith("_schemas")
        for model in models_of(module)
        if not issubclass(model, Strict)
    }
    routes = {(r.endpoint.__module__, r.endpoint.__name__) for r in api_routes(shared_world)}
    checked = 0
    for module in api_modules():
        if module.__name__.endswith("schemas"):
            continue
        for node in ast.parse(inspect.getsource(module)).body:
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and (module.__name__, node.name) not in routes:
                checked += 1
                built = constructed(node, responses)
                assert not built, f"{module.__name__}.{node.name} builds {built}: a converter"
    assert checked > 5 and len(responses) > 30


def test_every_json_body_a_route_reads_is_strict(shared_world: World) -> None:
    bodies = [
        param.field_info.annotation
        for route in api_routes(shared_world)
        for param in route.dependant.body_params
    ]
    models = [b for b in bodies if isinstance(b, type) and issubclass(b, BaseModel)]
    assert len(models) > 15
    for model in models:
        assert issubclass(model, Strict), f"{model.__module__}.{model.__name__} is not Strict"


def test_every_listing_publishes_its_limit_as_an_integer_from_1_to_5000(
    shared_world: World,
) -> None:
    paths = shared_world.browser().get("/openapi.json").json()["paths"]
    for listing in LISTINGS:
        parameters = paths[f"/api/orgs/{{org_id}}/{listing}"]["get"]["parameters"]
        (limit,) = [p for p in parameters if p["name"] == "limit"]
        assert limit["in"] == "query" and not limit["required"]
        published = {k: limit["schema"].get(k) for k in ("type", "minimum", "maximum")}
        assert published == {"type": "integer", "minimum": 1, "maximum": MAX_ROWS}


def refused_limit(response: Any) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == {
        "error": {
            "message": f"limit is one whole number from 1 to {MAX_ROWS}",
            "type": "invalid_request_error",
            "param": "limit",
            "code": "invalid_value",
        }
    }


@pytest.mark.parametrize("listing", LISTINGS)
@pytest.mark.parametrize(
    "value",
    [
        "0",
        "-1",
        "-0",
        str(MAX_ROWS + 1),
        "9" * 30,
        "5.0",
        "1e3",
        " 5",
        "5 ",
        "+5",
        "1_000",
        "05",
        "0x10",
        "",
        "five",
        "true",
        "\uff15",  # a fullwidth 5, which Python's int() would read
    ],
)
def test_a_limit_is_one_whole_number_from_1_to_5000(
    shared_world: World, listing: str, value: str
) -> None:
    alice = shared_world.alice.browser
    url = f"/api/orgs/{shared_world.org_a}/{listing}"
    refused_limit(alice.client.get(url, params={"limit": value}))


@pytest.mark.parametrize("listing", LISTINGS)
def test_a_limit_given_twice_is_refused(shared_world: World, listing: str) -> None:
    alice = shared_world.alice.browser
    url = f"/api/orgs/{shared_world.org_a}/{listing}?limit=1&limit={MAX_ROWS}"
    refused_limit(alice.client.get(url))


def rows(response: Any) -> int:
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("text/csv"):
        return len(list(csv.reader(io.StringIO(response.text)))) - 1  # the header
    return len(response.json())


def test_a_limit_cuts_every_listing_to_that_many_rows(world: World) -> None:
    moments = [datetime(2026, 10, day, 9, tzinfo=UTC) for day in (1, 2, 3)]
    write(world.ctx, [entry(world.org_a, str(world.alice.member_id), at) for at in moments])
    alice = world.alice.browser
    base = f"/api/orgs/{world.org_a}"
    for listing in LISTINGS:
        assert rows(alice.get(f"{base}/{listing}?limit=2")) == 2, listing
        assert rows(alice.get(f"{base}/{listing}?limit={MAX_ROWS}")) >= 3, listing
        assert rows(alice.get(f"{base}/{listing}")) >= 3, listing
    assert rows(alice.get(f"{base}/calls")) == 3
    assert rows(alice.get(f"{base}/calls?limit=1")) == 1
