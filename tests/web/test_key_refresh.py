"""The key page's *Refresh models* and its API: the providers' lists now, added and removed.

The simulator withholds a model from the org's key when it is connected and
releases it later, as a provider does when it ships one.
"""

from __future__ import annotations

import asyncio
import secrets

import httpx

from chatgrid.admin import keys
from chatgrid.providers.base import Provider, UpstreamConfig
from tests.support.console import World, csrf_in
from tests.support.processes import RunningProcess


def key_sees(
    simulator: RunningProcess, key: str, *, withhold: list[str], release: list[str]
) -> None:
    response = httpx.post(
        f"{simulator.base_url}/_sim/keys/models",
        json={"key": key, "withhold": withhold, "release": release},
    )
    response.raise_for_status()


def connect_without(world: World, simulator: RunningProcess, *models: str) -> str:
    """Connect org A's key while the provider does not list ``models`` yet."""
    world.ctx.settings.allow_private_upstreams = True
    key = f"sk-refresh-{secrets.token_hex(12)}"
    key_sees(simulator, key, withhold=list(models), release=[])
    config = UpstreamConfig.create(Provider.OPENAI_COMPATIBLE, base_url=f"{simulator.base_url}/v1")
    asyncio.run(keys.set_credential(world.ctx, world.org_a, config, key, actor="test"))
    return key


def test_refresh_models_on_the_key_page_says_what_the_provider_added(
    world: World, simulator: RunningProcess
) -> None:
    key = connect_without(world, simulator, "gpt-5")
    key_sees(simulator, key, withhold=[], release=["gpt-5"])
    alice, url = world.alice.browser, f"/orgs/{world.org_a}/key"
    page = alice.get(url)
    assert "Refresh models" in page.text

    done = alice.form(f"{url}/refresh", csrf=csrf_in(page.text))

    assert done.status_code == 303, done.text
    shown = alice.get(done.headers["location"])
    assert "Model lists refreshed from the providers: added gpt-5." in shown.text
    current = world.ctx.credentials.current(world.org_a)
    assert current is not None and "gpt-5" in current.models
    [entry] = [
        e for e in world.ctx.audit.entries(world.org_a) if e.action == "credential.models_refreshed"
    ]
    assert entry.details["added"] == ["gpt-5"] and entry.actor_email == world.alice.email


def test_a_crafted_link_cannot_make_the_page_claim_a_change(
    world: World, simulator: RunningProcess
) -> None:
    connect_without(world, simulator)
    page = world.alice.browser.get(
        f"/orgs/{world.org_a}/key?refreshed=1&added=gpt-evil&removed=gpt-4o-mini"
    )
    assert "Model lists refreshed from the providers: no change." in page.text
    assert "gpt-evil" not in page.text


def test_the_refresh_api_answers_added_and_removed_for_admins_only(
    world: World, simulator: RunningProcess
) -> None:
    key = connect_without(world, simulator)
    key_sees(simulator, key, withhold=["o4-mini"], release=[])
    url = f"/api/orgs/{world.org_a}/credential/refresh"

    assert world.bob.browser.api("POST", url).status_code == 403
    assert world.charlie.browser.api("POST", url).status_code == 404
    answer = world.alice.browser.api("POST", url)

    assert answer.status_code == 200, answer.text
    [change] = answer.json()["keys"]
    assert change["added"] == [] and change["removed"] == ["o4-mini"]
    assert "o4-mini" not in change["models"]
