"""``/openapi.json`` says what the server does: who must be signed in, which errors can come
back, and that a bug under ``/api`` still answers in the API's error shape."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from chatgrid.context import AppContext
from chatgrid.web import create_web_app
from tests.support.console import World


@pytest.fixture(scope="module")
def spec(shared_world: World) -> dict[str, Any]:
    response = shared_world.browser().get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def security_of(spec: dict[str, Any], method: str, path: str) -> list[dict[str, list[str]]]:
    """An operation's security, its schemes named by where they go (cookie, header)."""
    schemes = spec["components"]["securitySchemes"]
    return [
        {
            schemes[name].get("in", schemes[name].get("scheme")): scopes
            for name, scopes in requirement.items()
        }
        for requirement in spec["paths"][path][method]["security"]
    ]


@pytest.mark.parametrize(
    ("method", "path", "security"),
    [
        ("get", "/api/orgs/{org_id}/usage", [{"cookie": []}, {"bearer": []}]),
        (
            "post",
            "/api/orgs/{org_id}/service-accounts",
            [{"cookie": [], "header": []}, {"bearer": []}],
        ),
        ("post", "/api/orgs/{org_id}/tokens", [{"cookie": [], "header": []}]),
        ("delete", "/api/session", [{"cookie": [], "header": []}]),
        ("post", "/api/session", [{"header": []}]),
        ("post", "/api/signup", [{"header": []}]),
        ("get", "/api/invitations/{token}", [{}, {"cookie": []}]),
    ],
)
def test_each_operation_declares_the_security_it_enforces(
    spec: dict[str, Any], method: str, path: str, security: list[dict[str, list[str]]]
) -> None:
    assert security_of(spec, method, path) == security


def test_every_operation_that_reads_the_session_says_how(spec: dict[str, Any]) -> None:
    """None keeps FastAPI's "cookie or header, either will do", which is never true here."""
    allowed = [
        [{"cookie": []}],
        [{"cookie": [], "header": []}],
        [{"header": []}],
        [{}, {"cookie": []}],
        [{"cookie": []}, {"bearer": []}],  # org admin routes: an admin service account's token
        [{"cookie": [], "header": []}, {"bearer": []}],
    ]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if "security" in operation:
                assert security_of(spec, method, path) in allowed, (method, path)


def test_errors_the_api_can_answer_are_documented(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/api/orgs/{org_id}/search"]["get"]["responses"]
    assert {"400", "401", "403", "404", "410", "413", "429", "502"} <= set(responses)
    assert "422" not in responses


def test_a_bug_under_the_api_still_answers_in_the_error_shape(context: AppContext) -> None:
    app = create_web_app(context)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/broken", broken)
    app.add_api_route("/broken", broken)
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/api/broken")
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "message": "something went wrong on our side",
            "type": "server_error",
            "param": None,
            "code": "internal_error",
        }
    }
    page = client.get("/broken")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "a bug" not in page.text
