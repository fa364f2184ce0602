"""Every route of the console, enumerated from the app, against every persona.

A new route is covered the moment it exists: it must be public, an account
route, an operator route (a 404 for everyone but the operator), or carry
``{org_id}``; then the outsider gets 404, the plain member 403 (unless it is
listed as a member's route), the anonymous caller a redirect to sign in
(pages) or 401 (API), and a call that changes state without a valid CSRF
token 403.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import fastapi.routing
import pytest
from fastapi.routing import APIRoute

from chatgrid.admin import accounts, budgets, domains, service_accounts, teams
from chatgrid.audit import Actor
from chatgrid.billing.budget_rules import BudgetScope
from chatgrid.store.prompts import PromptRepository
from tests.support.console import PASSWORD, Browser, World, seed_chat_objects, seed_invoice

Route = tuple[str, str]

PUBLIC: set[Route] = {
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/signup"),
    ("POST", "/signup"),
    ("GET", "/join/{token}"),
    ("POST", "/join/{token}"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
    ("GET", "/api/csrf"),
    ("POST", "/api/session"),
    ("POST", "/api/signup"),
    ("GET", "/api/invitations/{token}"),
    ("POST", "/api/invitations/accept"),
    # The sign-in's second step: only with a pending step's cookie (admin.second_step).
    ("GET", "/login/second-step"),
    ("POST", "/login/second-step"),
    ("POST", "/api/session/second-factor"),
    # Single sign-on: the identity provider's answer, checked against the sign-in this
    # browser started (admin.sso_signin); an owner's recovery code while SSO is enforced.
    ("GET", "/sso/oidc/callback"),
    # SAML: the IdP's POST to the ACS (checked like the OIDC callback), and the SP metadata
    # any IdP admin reads: public though it names an org (a 404 unless the org uses SAML).
    ("POST", "/sso/saml/acs"),
    ("GET", "/sso/saml/{org_id}/metadata"),
    ("GET", "/login/break-glass"),
    ("POST", "/login/break-glass"),
    # Emailed links: a forgotten password, confirming an address (admin.password_reset,
    # admin.email_verification); a token in the path is a link's, checked before anything.
    ("GET", "/password/forgot"),
    ("POST", "/password/forgot"),
    ("GET", "/password/reset/{token}"),
    ("POST", "/password/reset/{token}"),
    ("GET", "/email/verify/{token}"),
    ("POST", "/email/verify/{token}"),
    ("GET", "/email/resend"),
    ("POST", "/email/resend"),
    ("POST", "/api/password/forgot"),
    ("POST", "/api/password/reset"),
    ("POST", "/api/email/resend"),
    ("POST", "/api/email/verify"),
}
# Public routes another site posts to, so they carry no CSRF token: the SAML ACS (the
# sign-in cookie bound to its RelayState is what ties the answer to this browser).
CROSS_SITE: set[Route] = {("POST", "/sso/saml/acs")}
# A payment processor's server posts here; its signature is the proof (test_stripe_webhooks.py).
WEBHOOKS: set[Route] = {("POST", "/webhooks/stripe")}
# Signed in, but about the person rather than an org.
ACCOUNT: set[Route] = {
    ("GET", "/account"),
    ("POST", "/account/password"),
    ("GET", "/orgs"),
    ("POST", "/orgs"),
    ("POST", "/logout"),
    ("GET", "/api/session"),
    ("DELETE", "/api/session"),
    ("POST", "/api/account/password"),
    ("GET", "/api/orgs"),
    ("POST", "/api/orgs"),
    # Two-step sign-in and one's own sessions (admin.second_factor, admin.own_sessions).
    ("GET", "/account/two-step"),
    ("POST", "/account/two-step/setup"),
    ("POST", "/account/two-step/confirm"),
    ("POST", "/account/two-step/recovery-codes"),
    ("POST", "/account/two-step/disable"),
    ("POST", "/account/sessions/end-others"),
    ("POST", "/account/sessions/{session_id}/end"),
    ("GET", "/api/account/second-factor"),
    ("POST", "/api/account/second-factor/setup"),
    ("POST", "/api/account/second-factor/confirm"),
    ("POST", "/api/account/second-factor/recovery-codes"),
    ("POST", "/api/account/second-factor/disable"),
    ("GET", "/api/account/sessions"),
    ("DELETE", "/api/account/sessions"),
    ("DELETE", "/api/account/sessions/{session_id}"),
}
# Org routes a plain member may use; every other org route is for admins.
MEMBER: set[Route] = {
    ("GET", "/orgs/{org_id}"),
    ("GET", "/orgs/{org_id}/tokens"),
    ("POST", "/orgs/{org_id}/tokens"),
    ("POST", "/orgs/{org_id}/tokens/{token_id}/revoke"),
    ("GET", "/api/orgs/{org_id}"),
    ("GET", "/api/orgs/{org_id}/tokens"),
    ("POST", "/api/orgs/{org_id}/tokens"),
    ("DELETE", "/api/orgs/{org_id}/tokens/{token_id}"),
    # Every member downloads their own data (docs/retention.md, "A member's own export").
    ("GET", "/api/orgs/{org_id}/me/export"),
    ("GET", "/orgs/{org_id}/chat"),
    ("GET", "/orgs/{org_id}/chat/{conversation_id}"),
    ("GET", "/orgs/{org_id}/documents"),
    ("GET", "/orgs/{org_id}/documents/{document_id}/passages/{chunk_id}"),
    # The workspace: every member chats and keeps private collections; what a
    # member may do to a shared collection is decided per object (tests/workspace).
    ("GET", "/api/orgs/{org_id}/models"),
    ("GET", "/api/orgs/{org_id}/conversations"),
    ("POST", "/api/orgs/{org_id}/conversations"),
    ("GET", "/api/orgs/{org_id}/conversations/{conversation_id}"),
    ("PATCH", "/api/orgs/{org_id}/conversations/{conversation_id}"),
    ("DELETE", "/api/orgs/{org_id}/conversations/{conversation_id}"),
    ("POST", "/api/orgs/{org_id}/conversations/{conversation_id}/messages"),
    # A conversation's exports and read-only link are its owner's; the shared page and
    # its JSON are for every member of the org (tests/workspace/test_sharing.py).
    ("GET", "/api/orgs/{org_id}/conversations/{conversation_id}/export.md"),
    ("GET", "/api/orgs/{org_id}/conversations/{conversation_id}/export.json"),
    ("GET", "/api/orgs/{org_id}/conversations/{conversation_id}/share"),
    ("POST", "/api/orgs/{org_id}/conversations/{conversation_id}/share"),
    ("DELETE", "/api/orgs/{org_id}/conversations/{conversation_id}/share"),
    # Attachments in the composer: the conversation's own, like its messages.
    ("GET", "/api/orgs/{org_id}/conversations/{conversation_id}/attachments"),
    ("POST", "/api/orgs/{org_id}/conversations/{conversation_id}/attachments"),
    ("DELETE", "/api/orgs/{org_id}/conversations/{conversation_id}/attachments/{image_id}"),
    ("GET", "/api/orgs/{org_id}/shared/{share_id}"),
    ("GET", "/orgs/{org_id}/shared/{share_id}"),
    ("GET", "/api/orgs/{org_id}/collections"),
    ("POST", "/api/orgs/{org_id}/collections"),
    ("DELETE", "/api/orgs/{org_id}/collections/{collection_id}"),
    ("GET", "/api/orgs/{org_id}/collections/{collection_id}/documents"),
    ("POST", "/api/orgs/{org_id}/collections/{collection_id}/documents"),
    ("GET", "/api/orgs/{org_id}/documents/{document_id}"),
    ("DELETE", "/api/orgs/{org_id}/documents/{document_id}"),
    ("GET", "/api/orgs/{org_id}/search"),
    # The prompt library: every member keeps their own; shared ones are refused per object.
    ("GET", "/orgs/{org_id}/prompts"),
    ("POST", "/orgs/{org_id}/prompts"),
    ("POST", "/orgs/{org_id}/prompts/{prompt_id}"),
    ("POST", "/orgs/{org_id}/prompts/{prompt_id}/delete"),
    ("GET", "/api/orgs/{org_id}/prompts"),
    ("POST", "/api/orgs/{org_id}/prompts"),
    ("PATCH", "/api/orgs/{org_id}/prompts/{prompt_id}"),
    ("DELETE", "/api/orgs/{org_id}/prompts/{prompt_id}"),
    # Teams: a member sees the teams they are in; managing them is for admins.
    ("GET", "/orgs/{org_id}/teams"),
    ("GET", "/api/orgs/{org_id}/teams"),
}
# Member routes that call the gateway: the console-only test app has none, so
# they answer 503 here (or 400 for a missing query) and are exercised end to
# end in tests/workspace against a running server.
NEEDS_GATEWAY: set[Route] = {
    ("GET", "/api/orgs/{org_id}/models"),
    ("GET", "/api/orgs/{org_id}/search"),
}
# The operator console: for anyone but an operator, a 404 (so it does not show).
OPERATOR: set[Route] = {
    ("GET", "/operator"),
    ("GET", "/operator/pool"),
    ("GET", "/operator/prices"),
    ("POST", "/operator/prices"),
    ("POST", "/operator/prices/units"),
    ("GET", "/operator/plans"),
    ("POST", "/operator/tenants/{tenant_id}/suspend"),
    ("POST", "/operator/tenants/{tenant_id}/resume"),
    ("POST", "/operator/tenants/{tenant_id}/trial"),
    ("GET", "/api/operator/tenants"),
    ("POST", "/api/operator/tenants/{tenant_id}/suspend"),
    ("POST", "/api/operator/tenants/{tenant_id}/resume"),
    ("POST", "/api/operator/tenants/{tenant_id}/trial"),
    ("GET", "/api/operator/pool"),
    ("GET", "/api/operator/plans"),
    ("GET", "/api/operator/prices"),
    ("POST", "/api/operator/prices"),
    ("GET", "/api/operator/prices/units"),
    ("POST", "/api/operator/prices/units"),
    ("POST", "/operator/pool/{key_id}"),
    ("POST", "/operator/plans"),
    ("POST", "/operator/plans/{plan_id}"),
    ("GET", "/operator/tenants/{tenant_id}"),
    ("POST", "/operator/tenants/{tenant_id}/limits"),
    ("POST", "/operator/tenants/{tenant_id}/plan"),
    ("POST", "/operator/tenants/{tenant_id}/shared"),
    ("PUT", "/api/operator/tenants/{tenant_id}/shared"),
    ("GET", "/operator/tenants/{tenant_id}/invoices/{period}"),
    ("GET", "/operator/tenants/{tenant_id}/invoices/{period}/{fmt}"),
    ("GET", "/operator/alerts"),
    ("POST", "/operator/alerts/channels"),
    ("POST", "/operator/alerts/channels/{channel_id}/remove"),
    ("POST", "/operator/alerts/test"),
    ("POST", "/operator/alerts/deliveries/{delivery_id}/resend"),
    ("GET", "/api/operator/alerts/channels"),
    ("POST", "/api/operator/alerts/channels"),
    ("DELETE", "/api/operator/alerts/channels/{channel_id}"),
    ("GET", "/api/operator/alerts/deliveries"),
    ("POST", "/api/operator/alerts/deliveries/{delivery_id}/resend"),
    ("POST", "/api/operator/alerts/test"),
}
# SCIM 2.0 for identity providers: the org's SCIM bearer token, no session and no CSRF
# (a server calls them); without a valid token, a SCIM-shaped 401 (tests/web/test_scim.py).
SCIM: set[Route] = {
    ("GET", "/scim/v2/Users"),
    ("POST", "/scim/v2/Users"),
    ("GET", "/scim/v2/Users/{member_id}"),
    ("PUT", "/scim/v2/Users/{member_id}"),
    ("PATCH", "/scim/v2/Users/{member_id}"),
    ("DELETE", "/scim/v2/Users/{member_id}"),
    ("GET", "/scim/v2/Groups"),
    ("POST", "/scim/v2/Groups"),
    ("GET", "/scim/v2/Groups/{group_id}"),
    ("PUT", "/scim/v2/Groups/{group_id}"),
    ("PATCH", "/scim/v2/Groups/{group_id}"),
    ("DELETE", "/scim/v2/Groups/{group_id}"),
    ("GET", "/scim/v2/ServiceProviderConfig"),
    ("GET", "/scim/v2/ResourceTypes"),
    ("GET", "/scim/v2/Schemas"),
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def routes(world: World) -> Iterator[Route]:
    """Every (method, path) the app serves, through included routers too."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)  # FastAPI ≥ 0.16x nests them
    for item in flatten(world.app.routes) if flatten else world.app.routes:
        if isinstance(getattr(item, "original_route", item), APIRoute):
            for method in sorted(set(item.methods or ()) - {"HEAD"}):
                yield method, str(item.path)


def org_routes(world: World) -> list[Route]:
    return [r for r in routes(world) if "{org_id}" in r[1] and r not in PUBLIC]


def fill(path: str, world: World, *, org: str, token: str) -> str:
    return (
        path.replace("{org_id}", org)
        .replace("{member_id}", str(world.dave.member_id))
        .replace("{token_id}", token)
        .replace("{tenant_id}", org)
        .replace("{invitation_id}", world.ids["invitation"])
        .replace("{token}", world.ids["invitation_token"])
        .replace("{conversation_id}", world.ids.get("conversation", "conversation-unknown"))
        .replace("{document_id}", world.ids.get("document", "document-unknown"))
        .replace("{chunk_id}", world.ids.get("chunk", "chunk-unknown"))
        .replace("{collection_id}", world.ids.get("collection", "collection-unknown"))
        .replace("{period}", world.ids.get("period", "2000-01"))
        .replace("{fmt}", "csv")
        .replace("{key_id}", "pool-unknown")
        .replace("{plan_id}", "plan-unknown")
        .replace("{domain_id}", world.ids.get("domain", "domain-unknown"))
        .replace("{session_id}", "ses_unknown")
        .replace("{service_account_id}", world.ids.get("service_account", "sa_unknown"))
        .replace("{share_id}", world.ids.get("share", "share_unknown"))
        .replace("{prompt_id}", world.ids.get("prompt", "prm_unknown"))
        .replace("{image_id}", "img_unknown")
        .replace("{team_id}", world.ids.get("team", "team_unknown"))
        .replace("{budget_id}", world.ids.get("budget", "budget_unknown"))
        .replace("{channel_id}", "ach_unknown")
        .replace("{delivery_id}", "dlv_unknown")
    )


def seed_domain(world: World) -> None:
    """Org A's claim on a domain, so its routes are tried with a real id of another org."""
    if "domain" not in world.ids:
        claim = domains.add_domain(world.ctx, world.org_a, Actor.cli(), "routes.example")
        world.ids["domain"] = claim.id


def seed_service_account(world: World) -> None:
    """Org A's service account, so its routes are tried with a real id of another org."""
    if "service_account" not in world.ids:
        org = world.ctx.orgs.by_id(world.org_a)
        account, _ = service_accounts.create_service_account(
            world.ctx, org, Actor.cli(), "routes-bot", "v1"
        )
        world.ids["service_account"] = account.id


def seed_prompt(world: World) -> None:
    """Org A's shared prompt, so its routes are tried with a real id of another org."""
    if "prompt" not in world.ids:
        found = PromptRepository(world.ctx.engine).add_prompt(
            world.org_a, None, "routes", "Seeded for the route table.", 200
        )
        assert found is not None
        world.ids["prompt"] = found.id


def seed_team(world: World) -> None:
    """Org A's team with dave in it, so its routes are tried with a real id of another org."""
    if "team" not in world.ids:
        team = teams.create_team(world.ctx, world.org_a, Actor.cli(), "Routes team")
        dave = world.ctx.members.get(world.org_a, str(world.dave.member_id))
        teams.add_member(world.ctx, world.org_a, Actor.cli(), team.id, dave)
        world.ids["team"] = team.id


def seed_budget(world: World) -> None:
    """Org A's own budget, so its routes are tried with a real id of another org."""
    if "budget" not in world.ids:
        view = budgets.set_budget(
            world.ctx, world.org_a, Actor.cli(), BudgetScope.ORG, None, limit_micros=10_000_000
        )
        world.ids["budget"] = view.budget.id


def seed_share(world: World) -> None:
    """A conversation of bob's in org A shared with the org, so the shared routes get a real id."""
    if "share" not in world.ids:
        conversation = world.ctx.conversations.create(
            world.org_a, str(world.bob.member_id), "Shared rota", None
        )
        world.ids["share"] = world.ctx.shares.share(conversation)[0].id


def call(browser: Browser, method: str, url: str, *, csrf: bool = True) -> int:
    if url.startswith("/api/"):
        return browser.api(method, url, csrf=csrf).status_code
    if method == "GET":
        return browser.get(url).status_code
    return browser.form(url, csrf=csrf).status_code


def test_every_route_is_public_an_account_route_or_scoped_to_an_org(shared_world: World) -> None:
    unclassified = [
        r
        for r in routes(shared_world)
        if r not in PUBLIC | ACCOUNT | OPERATOR | SCIM | WEBHOOKS and "{org_id}" not in r[1]
    ]
    assert unclassified == []
    assert set(routes(shared_world)) >= OPERATOR, "an operator route no longer exists"
    assert not any("{org_id}" in path for _, path in OPERATOR)
    assert set(routes(shared_world)) >= SCIM, "a SCIM route no longer exists"
    assert set(org_routes(shared_world)) >= MEMBER, "a member route no longer exists"
    assert len(org_routes(shared_world)) > 40


def test_an_outsider_gets_404_for_every_object_of_another_org(shared_world: World) -> None:
    w = shared_world
    seed_domain(w)
    seed_service_account(w)
    seed_prompt(w)
    seed_share(w)
    seed_team(w)
    seed_budget(w)
    charlie = w.charlie.browser
    wrong = {}
    for method, path in org_routes(w):
        url = fill(path, w, org=w.org_a, token=w.ids["alice_token"])
        status = call(charlie, method, url)
        if status != 404:
            wrong[f"{method} {url}"] = status
        # A's objects under charlie's own org are not found either.
        if path.count("{") > 1:
            url = fill(path, w, org=w.org_b, token=w.ids["alice_token"])
            status = call(charlie, method, url)
            if status != 404:
                wrong[f"{method} {url} (own org)"] = status
    assert wrong == {}


def test_a_plain_member_gets_403_for_every_admin_action(shared_world: World) -> None:
    w = shared_world
    seed_domain(w)
    seed_service_account(w)
    bob = w.bob.browser
    wrong = {}
    for method, path in org_routes(w):
        if (method, path) in MEMBER:
            continue
        url = fill(path, w, org=w.org_a, token=w.ids["alice_token"])
        status = call(bob, method, url)
        if status != 403:
            wrong[f"{method} {url}"] = status
    assert wrong == {}


def test_a_plain_member_reads_the_member_pages(shared_world: World) -> None:
    w = shared_world
    seed_chat_objects(w)
    seed_share(w)
    for method, path in sorted(MEMBER):
        if method == "GET":
            url = fill(path, w, org=w.org_a, token=w.ids["bob_token"])
            status = call(w.bob.browser, method, url)
            if (method, path) in NEEDS_GATEWAY:
                assert status in (400, 503), url
            else:
                assert status == 200, url


def test_a_member_cannot_touch_another_members_token(shared_world: World) -> None:
    w = shared_world
    bob = w.bob.browser
    assert (
        bob.api("DELETE", f"/api/orgs/{w.org_a}/tokens/{w.ids['alice_token']}").status_code == 404
    )
    assert bob.form(f"/orgs/{w.org_a}/tokens/{w.ids['alice_token']}/revoke").status_code == 404
    assert all(t.revoked_at is None for t in w.ctx.tokens.list(w.org_a))


def test_everyone_but_the_operator_gets_404_from_the_operator_console(
    shared_world: World,
) -> None:
    w = shared_world
    wrong = {}
    for persona in (w.alice, w.bob, w.charlie):
        for method, path in sorted(OPERATOR):
            url = fill(path, w, org=w.org_a, token=w.ids["alice_token"])
            status = call(persona.browser, method, url)
            if status != 404:
                wrong[f"{persona.email} {method} {url}"] = status
    assert wrong == {}
    assert w.ctx.orgs.get(w.org_a).status.value == "active"


def test_the_operator_reads_every_operator_page(shared_world: World) -> None:
    w = shared_world
    email = f"ops-{secrets.token_hex(3)}@example.com"
    accounts.create_operator(w.ctx, email, PASSWORD)
    ops = w.browser()
    ops.sign_in(email)
    seed_invoice(w)
    for method, path in sorted(OPERATOR):
        if method == "GET":
            response = ops.get(fill(path, w, org=w.org_a, token=w.ids["alice_token"]))
            assert response.status_code == 200, path
            assert "'unsafe-inline'" not in response.headers["content-security-policy"]


def test_anonymous_requests_are_sent_to_sign_in(shared_world: World) -> None:
    w = shared_world
    stranger = w.browser()
    wrong = {}
    for method, path in [*org_routes(w), *sorted(ACCOUNT), *sorted(OPERATOR)]:
        url = fill(path, w, org=w.org_a, token=w.ids["alice_token"])
        if url.startswith("/api/"):
            response = stranger.api(method, url, csrf=False)
            ok = response.status_code == 401 and response.json()["error"]["code"] == (
                "signin_required"
            )
        elif method == "GET":
            response = stranger.get(url)
            ok = response.status_code == 303 and response.headers["location"].startswith(
                "/login?next="
            )
        else:
            response = stranger.form(url, csrf=False)
            ok = response.status_code == 303 and response.headers["location"].startswith("/login")
        if not ok:
            wrong[f"{method} {url}"] = response.status_code
    assert wrong == {}


@pytest.mark.parametrize("token", [None, "forged-token-0123456789abcdef"])
def test_every_state_change_without_a_valid_csrf_token_is_refused(
    shared_world: World, token: str | None
) -> None:
    w = shared_world
    alice = w.alice.browser
    wrong = {}
    for method, path in routes(w):
        if method not in UNSAFE or (method, path) in SCIM | CROSS_SITE | WEBHOOKS:
            continue
        url = fill(path, w, org=w.org_a, token=w.ids["alice_token"])
        csrf: str | bool | None = token if token else False
        if url.startswith("/api/"):
            response = alice.api(method, url, json={}, csrf=csrf)
        else:
            response = alice.form(url, {"email": w.alice.email}, csrf=csrf)
        if response.status_code != 403 or "csrf" not in response.text.lower():
            wrong[f"{method} {url}"] = response.status_code
    assert wrong == {}
    # Nothing changed: alice is still signed in and everything is where it was.
    assert alice.api("GET", "/api/session").status_code == 200
    assert all(t.revoked_at is None for t in w.ctx.tokens.list(w.org_a))


def test_anonymous_forms_without_the_double_submit_token_are_refused(shared_world: World) -> None:
    w = shared_world
    stranger = w.browser()
    login_page = stranger.get("/login")
    assert login_page.status_code == 200
    for url in ("/login", "/signup", f"/join/{w.ids['invitation_token']}", "/login/second-step"):
        assert stranger.form(url, {"email": w.alice.email}, csrf=False).status_code == 403
        assert (
            stranger.form(url, {"email": "x@example.com"}, csrf="not-the-cookie").status_code == 403
        )
    assert (
        stranger.api(
            "POST", "/api/session", {"email": "a@b.co", "password": "x"}, csrf=False
        ).status_code
        == 403
    )


def test_every_console_response_carries_the_security_headers(shared_world: World) -> None:
    w = shared_world
    stranger = w.browser()
    anonymous = ["/login", "/signup", "/docs", "/openapi.json", "/api/csrf", "/static/console.css"]
    anonymous += [f"/join/{w.ids['invitation_token']}", "/nowhere", "/api/nowhere"]
    seed_chat_objects(w)
    seed_invoice(w)
    signed_in = ["/account", "/orgs", "/api/session"] + [
        fill(p, w, org=w.org_a, token=w.ids["alice_token"])
        for m, p in org_routes(w)
        if m == "GET" and "{conversation_id}" not in p and (m, p) not in NEEDS_GATEWAY
    ]
    # A conversation is its member's alone: bob reads his own.
    own = [
        fill(p, w, org=w.org_a, token=w.ids["bob_token"])
        for m, p in org_routes(w)
        if m == "GET" and "{conversation_id}" in p
    ]
    answers = [(url, stranger.get(url)) for url in anonymous]
    answers += [(url, w.alice.browser.get(url)) for url in signed_in]
    answers += [(url, w.bob.browser.get(url)) for url in own]
    for url, response in answers:
        assert response.status_code == (404 if "nowhere" in url else 200), url
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp, url
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        if not url.startswith("/static/"):
            assert headers["cache-control"] == "no-store", url


def test_every_scim_route_refuses_a_call_without_the_orgs_scim_token(shared_world: World) -> None:
    w = shared_world
    alice = w.alice.browser  # a console session is no SCIM credential
    wrong = {}
    for method, path in sorted(SCIM):
        url = fill(path, w, org=w.org_a, token=w.ids["alice_token"])
        response = alice.client.request(method, url, json={})
        body = response.json()
        if response.status_code != 401 or body.get("status") != "401":
            wrong[f"{method} {url}"] = response.status_code
    assert wrong == {}
