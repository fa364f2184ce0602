"""The console's key form takes the local simulator when private upstreams are allowed.

The README's first steps start ChatGrid with ``CHATGRID_ALLOW_PRIVATE_UPSTREAMS=true``;
then an admin can connect the simulator from the browser as well as from the
CLI, and the form says which addresses it may call either way.
"""

from __future__ import annotations

from chatgrid.providers.base import Provider
from tests.support.console import World, csrf_in
from tests.support.processes import RunningProcess


def test_the_key_form_connects_the_simulator_when_private_upstreams_are_allowed(
    world: World, simulator: RunningProcess
) -> None:
    alice, org = world.alice.browser, world.org_a
    url = f"/orgs/{org}/key"
    world.ctx.settings.allow_private_upstreams = False
    page = alice.get(f"{url}?provider=openai-compatible")
    assert (
        "unless ChatGrid was started with <code>CHATGRID_ALLOW_PRIVATE_UPSTREAMS=true</code>"
        in (page.text)
    )
    assert 'href="?provider=openai-compatible"' in alice.get(url).text
    form = {
        "provider": "openai-compatible",
        "base_url": f"{simulator.base_url}/v1",
        "api_key": "sk-demo-0123456789",
    }
    refused = alice.form(url, form, csrf=csrf_in(page.text))
    assert refused.status_code == 400 and "private" in refused.text
    assert world.ctx.credentials.current(org) is None

    world.ctx.settings.allow_private_upstreams = True
    page = alice.get(f"{url}?provider=openai-compatible")
    assert "This ChatGrid may call local and private addresses" in page.text
    connected = alice.form(url, form, csrf=csrf_in(page.text))
    assert connected.status_code == 303, connected.text
    current = world.ctx.credentials.current(org)
    assert current is not None and current.status == "active"
    assert "gpt-4o-mini" in current.models


def test_the_key_page_lists_each_providers_key_and_revokes_one(
    world: World, simulator: RunningProcess
) -> None:
    alice, org = world.alice.browser, world.org_a
    url = f"/orgs/{org}/key"
    world.ctx.settings.allow_private_upstreams = True
    page = alice.get(f"{url}?provider=openai-compatible")
    assert 'name="name"' in page.text  # a compatible server is named
    for form in (
        {"provider": "openai-compatible", "name": "local", "api_key": "sk-page-local-0011"},
        {"provider": "anthropic", "api_key": "sk-page-ant-0012"},
    ):
        base_url = simulator.base_url + ("/v1" if form["provider"] != "anthropic" else "")
        done = alice.form(url, {**form, "base_url": base_url}, csrf=csrf_in(page.text))
        assert done.status_code == 303, done.text
    page = alice.get(url)
    assert "Your keys" in page.text
    for shown in ("Anthropic", "OpenAI-compatible server", "local", "…0011", "…0012"):
        assert shown in page.text, shown
    assert "sk-page-local-0011" not in page.text and "sk-page-ant-0012" not in page.text
    assert page.text.count("Revoke key") == 2

    chosen = alice.form(
        f"{url}/prefer",
        {"model": "gpt-4o", "key": "openai-compatible:local"},
        csrf=csrf_in(page.text),
    )
    assert chosen.status_code == 303, chosen.text
    assert "gpt-4o" in alice.get(url).text
    assert world.ctx.credentials.choices(org) == {"gpt-4o": (Provider.OPENAI_COMPATIBLE, "local")}

    revoked = alice.form(
        f"{url}/revoke",
        {"provider": "openai-compatible", "name": "local"},
        csrf=csrf_in(page.text),
    )
    assert revoked.status_code == 303, revoked.text
    [left] = world.ctx.credentials.active(org)
    assert left.config.provider is Provider.ANTHROPIC
    page = alice.get(url)
    assert "Current key" in page.text and "Anthropic" in page.text
