"""The admin API takes each JSON type as itself: ``true`` is not a number of days, ``"yes"`` is
not a boolean, ``0`` is not a date. And a method a path does not take is a typed 405 whose
``Allow`` names every method the path does take.
"""

from __future__ import annotations

import secrets
import typing
from enum import Enum
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from chatgrid.admin import accounts
from chatgrid.web.api import operator_schemas, schemas
from tests.support.console import PASSWORD, Browser, World, unique


def refused(response: Any, param: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "invalid_value",
        param,
    )


@pytest.mark.parametrize("days", [True, False, "30", 30.0, 1.5, [30]])
def test_a_token_lifetime_must_be_a_json_integer(shared_world: World, days: object) -> None:
    bob = shared_world.bob.browser
    response = bob.api("POST", f"/api/orgs/{shared_world.org_a}/tokens", {"expires_in_days": days})
    refused(response, "expires_in_days")


def test_a_whole_number_of_days_still_makes_a_token(world: World) -> None:
    response = world.bob.browser.api(
        "POST", f"/api/orgs/{world.org_a}/tokens", {"name": "ci", "expires_in_days": 30}
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert token["expires_at"] is not None


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("policy", {"org_rpm": True}, "org_rpm"),
        ("policy", {"member_concurrency": "3"}, "member_concurrency"),
        ("policy", {"member_tpm": 10.0}, "member_tpm"),
        ("invitations", {"email": "x@example.com", "send_email": "yes"}, "send_email"),
        ("invitations", {"email": "x@example.com", "send_email": 0}, "send_email"),
        ("invitations", {"email": 7}, "email"),
        ("mode", {"mode": 1}, "mode"),
    ],
)
def test_numbers_booleans_and_strings_are_not_read_as_each_other(
    shared_world: World, path: str, body: dict[str, Any], param: str
) -> None:
    alice = shared_world.alice.browser
    method = "PUT" if path in ("policy", "mode") else "POST"
    refused(alice.api(method, f"/api/orgs/{shared_world.org_a}/{path}", body), param)


def test_enum_fields_still_take_their_json_values(world: World) -> None:
    alice = world.alice.browser
    invited = alice.api(
        "POST",
        f"/api/orgs/{world.org_a}/invitations",
        {"email": unique("frank"), "role": "admin", "send_email": False},
    )
    assert invited.status_code == 201 and invited.json()["invitation"]["role"] == "admin"
    role = alice.api(
        "PATCH", f"/api/orgs/{world.org_a}/members/{world.dave.member_id}", {"role": "admin"}
    )
    assert role.status_code == 200 and role.json()["role"] == "admin"
    mode = alice.api("PUT", f"/api/orgs/{world.org_a}/mode", {"mode": "byok"})
    assert mode.status_code == 200


@pytest.fixture(scope="module")
def operator(shared_world: World) -> Browser:
    email = unique("olga")
    accounts.create_operator(shared_world.ctx, email, PASSWORD)
    browser = shared_world.browser()
    browser.sign_in(email)
    return browser


@pytest.mark.parametrize(
    ("effective_from", "accepted"),
    [(0, False), (1.5e9, False), ("2026-01-31T00:00:00", False), ("9999-12-31", True)],
)
def test_a_price_date_is_a_yyyy_mm_dd_string(
    operator: Browser, effective_from: object, accepted: bool
) -> None:
    model = f"m-{secrets.token_hex(3)}"
    body = {"model": model, "input": "1", "output": "2", "effective_from": effective_from}
    response = operator.api("POST", "/api/operator/prices", body)
    if accepted:
        assert response.status_code == 201, response.text
        assert response.json()["effective_from"] == effective_from
    else:
        refused(response, "effective_from")


def test_trial_days_must_be_a_json_integer(operator: Browser, shared_world: World) -> None:
    response = operator.api(
        "POST", f"/api/operator/tenants/{shared_world.org_a}/trial", {"days": True}
    )
    refused(response, "days")


def _request_models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    pending: list[type[BaseModel]] = [schemas.Strict]
    while pending:
        model = pending.pop()
        found.extend(model.__subclasses__())
        pending.extend(model.__subclasses__())
    assert operator_schemas.PriceCreate in found
    return found


@pytest.mark.parametrize("model", _request_models(), ids=lambda m: m.__name__)
def test_every_enum_field_of_a_request_body_reads_its_json_value(model: type[BaseModel]) -> None:
    """Strict mode wants the Python member for an enum; such a field must opt out of it."""
    for name, field in model.model_fields.items():
        for kind in typing.get_args(field.annotation) or (field.annotation,):
            if isinstance(kind, type) and issubclass(kind, Enum):
                value = next(iter(kind)).value
                try:
                    model.model_validate({name: value})
                except ValidationError as exc:
                    wrong = [e for e in exc.errors() if e["loc"] == (name,)]
                    assert not wrong, f"{model.__name__}.{name} refuses {value!r}: {wrong}"


# --- 405 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/api/session", "DELETE, GET, POST"),
        ("POST", "/api/orgs/{org}/usage", "GET"),
        ("PUT", "/api/orgs/{org}/tokens", "GET, POST"),
        ("GET", "/api/orgs/{org}/credential/x", None),
        ("POST", "/api/orgs/{org}/credential", "DELETE, GET, PUT"),
        ("DELETE", "/api/orgs/{org}/policy", "GET, PUT"),
        ("GET", "/api/orgs/{org}/members/m1", "DELETE, PATCH"),
    ],
)
def test_a_wrong_method_is_a_typed_405_naming_every_allowed_method(
    shared_world: World, method: str, path: str, allow: str | None
) -> None:
    alice = shared_world.alice.browser
    response = alice.api(method, path.format(org=shared_world.org_a))
    if allow is None:
        assert response.status_code == 404
        return
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    assert response.json() == {
        "error": {
            "message": f"{method} is not allowed here; this path takes {allow}",
            "type": "invalid_request_error",
            "param": None,
            "code": "method_not_allowed",
        }
    }


def test_a_wrong_method_on_a_page_is_a_405_page_with_allow(shared_world: World) -> None:
    response = shared_world.alice.browser.client.request("PUT", f"/orgs/{shared_world.org_a}/usage")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.headers["content-type"].startswith("text/html")
