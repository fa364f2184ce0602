"""The console as people use it: forms and API calls, in process."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from chatgrid.audit import AuditFilter
from chatgrid.identity.models import Role
from tests.support.console import PASSWORD, Browser, World, csrf_in, unique
from tests.support.seeded_keys import seed_pool_key


def sign_in_by_form(browser: Browser, email: str, password: str = PASSWORD) -> str:
    page = browser.get("/login")
    response = browser.form(
        "/login", {"email": email, "password": password}, csrf=csrf_in(page.text)
    )
    return response.text if response.status_code != 303 else response.headers["location"]


def test_sign_up_through_the_page_ends_on_sign_in_then_lands_on_the_new_org(
    world: World,
) -> None:
    browser = world.browser()
    page = browser.get("/signup")
    email = unique("zoe")
    response = browser.form(
        "/signup",
        {"email": email, "password": PASSWORD, "org_name": "Zeta Corp"},
        csrf=csrf_in(page.text),
    )
    # Signing up never signs in (that would tell a new address from a known one).
    assert response.status_code == 200 and "set-cookie" not in response.headers
    assert f"Sign in as {email}" in response.text and f'value="{email}"' in response.text
    signed_in = browser.form(
        "/login", {"email": email, "password": PASSWORD}, csrf=csrf_in(response.text)
    )
    assert signed_in.status_code == 303
    assert re.fullmatch(r"/orgs/org_[0-9a-f]+", signed_in.headers["location"])
    overview = browser.get(signed_in.headers["location"])
    assert "Zeta Corp" in overview.text and "Trial until" in overview.text
    cookie = browser.client.cookies.get("cg_session")
    assert cookie is not None
    set_cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie
    assert "secure" not in set_cookie  # plain http here; https gets Secure


def test_a_wrong_password_says_nothing_about_the_account(world: World) -> None:
    browser = world.browser()
    wrong = sign_in_by_form(browser, world.alice.email, "not the password")
    unknown = sign_in_by_form(browser, "nobody-at-all@example.com", "not the password")
    assert "Email or password is wrong" in wrong.replace("email or", "Email or")
    assert wrong.count("wrong") == unknown.count("wrong")
    assert sign_in_by_form(browser, world.alice.email) == f"/orgs/{world.org_a}"


def test_sign_in_is_throttled_after_five_failures(world: World) -> None:
    browser = world.browser()
    for _ in range(5):
        sign_in_by_form(browser, world.bob.email, "guess guess guess")
    page = browser.get("/login")
    response = browser.form(
        "/login", {"email": world.bob.email, "password": PASSWORD}, csrf=csrf_in(page.text)
    )
    assert response.status_code == 429
    assert "too many failed sign-ins" in response.text.lower()
    api = world.browser()
    token = api.get("/api/csrf").json()["csrf_token"]
    refused = api.client.post(
        "/api/session",
        json={"email": world.bob.email, "password": PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


def test_sign_in_never_redirects_off_site(world: World) -> None:
    for target in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        browser = world.browser()
        page = browser.get(f"/login?next={target}")
        response = browser.form(
            "/login",
            {"email": world.alice.email, "password": PASSWORD, "next": target},
            csrf=csrf_in(page.text),
        )
        assert response.headers["location"] == f"/orgs/{world.org_a}"


def test_signing_out_ends_the_session_at_once(world: World) -> None:
    browser = world.dave.browser
    cookie = browser.client.cookies["cg_session"]
    assert browser.form("/logout").status_code == 303
    stale = world.browser()
    stale.client.cookies.set("cg_session", cookie)
    response = stale.get(f"/orgs/{world.org_a}/tokens")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert stale.api("GET", "/api/session").status_code == 401


def test_changing_the_password_signs_out_every_other_session(world: World) -> None:
    other = world.browser()
    other.sign_in(world.dave.email)
    browser = world.dave.browser
    page = browser.get("/account")
    response = browser.form(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        csrf=csrf_in(page.text),
    )
    assert response.status_code == 303
    assert other.api("GET", "/api/session").status_code == 401
    assert browser.get("/account").status_code == 200  # this browser got a new session
    assert "password is changed" in browser.get("/account?notice=password_changed").text


def test_an_invitation_link_is_shown_once_and_works(world: World) -> None:
    alice = world.alice.browser
    email = unique("kim")
    page = alice.get(f"/orgs/{world.org_a}/members")
    response = alice.form(
        f"/orgs/{world.org_a}/invitations",
        {"email": email, "role": "admin"},
        csrf=csrf_in(page.text),
    )
    assert response.status_code == 200
    link = re.search(r'value="(http://testserver/join/cgi_[^"]+)"', response.text)
    assert link is not None
    path = link.group(1).removeprefix("http://testserver")
    assert path not in alice.get(f"/orgs/{world.org_a}/members").text  # never again
    kim = world.browser()
    join = kim.get(path)
    assert "Choose a password" in join.text and email in join.text
    accepted = kim.form(path, {"password": PASSWORD}, csrf=csrf_in(join.text))
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/orgs/{world.org_a}/chat?notice=invitation_accepted"
    assert kim.get(f"/orgs/{world.org_a}/members").status_code == 200  # an admin now
    assert kim.get(path).status_code == 410


def test_role_rules_through_the_api(world: World) -> None:
    alice, bob = world.alice.browser, world.bob.browser
    url = f"/api/orgs/{world.org_a}/members"
    promoted = alice.api("PATCH", f"{url}/{world.bob.member_id}", {"role": "admin"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    made_owner = bob.api("PATCH", f"{url}/{world.dave.member_id}", {"role": "owner"})
    assert made_owner.status_code == 403
    assert made_owner.json()["error"]["code"] == "owner_only"
    assert bob.api("DELETE", f"{url}/{world.alice.member_id}").status_code == 403
    last = alice.api("PATCH", f"{url}/{world.alice.member_id}", {"role": "member"})
    assert last.status_code == 409 and last.json()["error"]["code"] == "last_owner"
    bad = alice.api("PATCH", f"{url}/{world.bob.member_id}", {"role": "emperor"})
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"
    listing = alice.api("GET", url).json()
    assert listing["seats"] == 3


def test_removing_a_member_signs_them_out_at_once(world: World) -> None:
    dave = world.dave.browser
    assert dave.get(f"/orgs/{world.org_a}/tokens").status_code == 200
    page = world.alice.browser.get(f"/orgs/{world.org_a}/members")
    removed = world.alice.browser.form(
        f"/orgs/{world.org_a}/members/{world.dave.member_id}/remove", csrf=csrf_in(page.text)
    )
    assert removed.status_code == 303
    assert dave.api("GET", "/api/session").status_code == 401
    response = dave.get(f"/orgs/{world.org_a}/tokens")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    # Signing in again gets no further into the org.
    dave.sign_in(world.dave.email)
    assert dave.get(f"/orgs/{world.org_a}").status_code == 404
    assert all(t.revoked_at for t in world.ctx.tokens.list(world.org_a, world.dave.member_id))


def test_personal_tokens_are_shown_once_then_by_prefix(world: World) -> None:
    bob = world.bob.browser
    page = bob.get(f"/orgs/{world.org_a}/tokens")
    created = bob.form(
        f"/orgs/{world.org_a}/tokens",
        {"name": "laptop", "expires_in_days": "30"},
        csrf=csrf_in(page.text),
    )
    secret = re.search(r'value="(cgk_[^"]+)"', created.text)
    assert created.status_code == 200 and secret is not None
    listing = bob.get(f"/orgs/{world.org_a}/tokens").text
    assert secret.group(1) not in listing and secret.group(1)[:12] in listing
    api = bob.api("POST", f"/api/orgs/{world.org_a}/tokens", {"name": "ci", "expires_in_days": 1})
    assert api.status_code == 201 and api.json()["secret"].startswith("cgk_")
    token_id = api.json()["token"]["id"]
    tokens = bob.api("GET", f"/api/orgs/{world.org_a}/tokens").json()
    assert all("secret" not in t and "token_hash" not in t for t in tokens)
    assert bob.api("DELETE", f"/api/orgs/{world.org_a}/tokens/{token_id}").status_code == 204
    again = bob.api("DELETE", f"/api/orgs/{world.org_a}/tokens/{token_id}")
    assert again.status_code == 404
    too_long = bob.api("POST", f"/api/orgs/{world.org_a}/tokens", {"expires_in_days": 99999})
    assert too_long.status_code == 400 and too_long.json()["error"]["param"] == "expires_in_days"
    assert "token.created" in [
        e.action for e in world.ctx.audit.entries(world.org_a, AuditFilter(actor=world.bob.email))
    ]


def test_admins_revoke_anyones_token(world: World) -> None:
    alice = world.alice.browser
    page = alice.get(f"/orgs/{world.org_a}/tokens")
    assert world.bob.email in page.text
    response = alice.form(
        f"/orgs/{world.org_a}/members/{world.bob.member_id}/tokens/{world.ids['bob_token']}/revoke",
        csrf=csrf_in(page.text),
    )
    assert response.status_code == 303
    [bob_token] = world.ctx.tokens.list(world.org_a, world.bob.member_id)
    assert bob_token.revoked_at is not None


def test_limits_and_models_are_saved(world: World) -> None:
    alice = world.alice.browser
    page = alice.get(f"/orgs/{world.org_a}/limits")
    saved = alice.form(
        f"/orgs/{world.org_a}/limits",
        {
            "org_rpm": "600",
            "member_tpm": "20,000",
            "member_concurrency": "4",
            "models_mode": "some",
            "models_text": "gpt-4o-mini\ntext-embedding-3-small",
        },
        csrf=csrf_in(page.text),
    )
    assert saved.status_code == 303
    policy = world.ctx.policies.get(world.org_a)
    assert (policy.org_rpm, policy.member_tpm, policy.member_concurrency) == (600, 20000, 4)
    assert policy.org_tpm is None
    assert policy.allowed_models == frozenset({"gpt-4o-mini", "text-embedding-3-small"})
    bad = alice.form(f"/orgs/{world.org_a}/limits", {"org_rpm": "lots"}, csrf=csrf_in(page.text))
    assert bad.status_code == 400 and "whole number" in bad.text
    api = alice.api("PUT", f"/api/orgs/{world.org_a}/policy", {"member_rpm": 0})
    assert api.status_code == 400 and api.json()["error"]["param"] == "member_rpm"
    cleared = alice.api("PUT", f"/api/orgs/{world.org_a}/policy", {"member_rpm": 60})
    assert cleared.json() == {
        "org_rpm": None,
        "org_tpm": None,
        "member_rpm": 60,
        "member_tpm": None,
        "member_concurrency": None,
        "allowed_models": None,
    }
    entry = world.ctx.audit.entries(world.org_a, AuditFilter(action="policy.updated"))[0]
    assert entry.details["after"]["member_rpm"] == 60


def test_shared_credits_only_where_the_operator_allows(world: World) -> None:
    alice = world.alice.browser
    world.ctx.orgs.set_shared_allowed(world.org_a, False)
    refused = alice.api("PUT", f"/api/orgs/{world.org_a}/mode", {"mode": "shared"})
    assert refused.status_code == 403 and "ask the operator" in refused.json()["error"]["message"]
    world.ctx.orgs.set_shared_allowed(world.org_a, True)
    seed_pool_key(world.ctx)
    page = alice.get(f"/orgs/{world.org_a}")
    switched = alice.form(f"/orgs/{world.org_a}/mode", {"mode": "shared"}, csrf=csrf_in(page.text))
    assert switched.status_code == 303
    assert alice.api("GET", f"/api/orgs/{world.org_a}").json()["billing_mode"] == "shared"
    entry = world.ctx.audit.entries(world.org_a, AuditFilter(action="org.mode_switched"))[0]
    assert entry.details == {"from": "byok", "to": "shared"}


def test_the_audit_log_filters_and_exports(world: World) -> None:
    alice = world.alice.browser
    alice.api("PATCH", f"/api/orgs/{world.org_a}/members/{world.bob.member_id}", {"role": "admin"})
    page = alice.get(f"/orgs/{world.org_a}/audit?action=member.")
    assert page.status_code == 200 and "member.role_changed" in page.text
    assert "<code>signin.succeeded</code>" not in page.text
    csv = alice.get(f"/orgs/{world.org_a}/audit.csv?actor={world.alice.email}")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == (
        "created_at,actor_email,action,target,details,client_addr,user_agent,request_id"
    )
    assert any("member.role_changed" in line for line in lines)
    assert all(world.bob.email + "," not in line.split(",")[1] for line in lines[1:])
    api = alice.api("GET", f"/api/orgs/{world.org_a}/audit?action=member.role_changed").json()
    assert api[0]["details"]["to"] == "admin" and api[0]["actor_email"] == world.alice.email
    assert api[0]["client_addr"] == "testclient" and api[0]["user_agent"]
    bad = alice.get(f"/orgs/{world.org_a}/audit?since=yesterday")
    assert bad.status_code == 400 and "date like" in bad.text
    assert alice.api("GET", f"/api/orgs/{world.org_a}/audit?since=nope").status_code == 400
    assert alice.get(f"/orgs/{world.org_a}/calls").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/orgs/{org}/tokens", {"name": "x" * 5000}),
        ("POST", "/api/orgs/{org}/tokens", {"name": ["not", "a", "string"]}),
        ("POST", "/api/orgs/{org}/tokens", {"name": "ok", "surprise": True}),
        ("POST", "/api/orgs/{org}/tokens", {"name": "\u0000bad"}),
        ("PUT", "/api/orgs/{org}/policy", {"org_rpm": 10**30}),
        ("PUT", "/api/orgs/{org}/policy", {"allowed_models": ["x" * 500]}),
        ("PUT", "/api/orgs/{org}/policy", {"allowed_models": [""]}),
        ("PUT", "/api/orgs/{org}/mode", {"mode": None}),
        ("PUT", "/api/orgs/{org}/credential", {"api_key": "sk-x", "base_url": "ftp://x"}),
        ("PUT", "/api/orgs/{org}/credential", {"provider": "azure", "api_key": "sk-abcdefghij"}),
        ("POST", "/api/orgs/{org}/invitations", {"email": "not an email"}),
        ("POST", "/api/orgs/{org}/invitations", {"email": "a@b.co", "role": 7}),
        ("PATCH", "/api/orgs/{org}/members/" + "m" * 300, {"role": "admin"}),
        ("GET", "/api/orgs/{org}/calls?limit=-1", None),
        ("GET", "/api/orgs/{org}/audit?until=2026-13-45", None),
        ("GET", "/api/orgs/" + "o" * 500, None),
        ("POST", "/api/orgs", {"name": "org_looks_like_an_id"}),
        ("POST", "/api/account/password", {"current_password": PASSWORD, "new_password": "1"}),
        # NUL and other control characters never reach a query (PostgreSQL refuses them).
        ("GET", "/api/orgs/org_%00x", None),
        ("DELETE", "/api/orgs/{org}/tokens/tok_%00", None),
        ("DELETE", "/api/orgs/{org}/invitations/%00", None),
        ("GET", "/api/orgs/{org}/audit?actor=a%00b@example.com", None),
        ("GET", "/api/orgs/{org}/audit?action=%00", None),
        ("POST", "/api/orgs/{org}/invitations", {"email": "nul\u0000@example.com"}),
        ("POST", "/api/orgs", {"name": "Nul\u0000Corp"}),
        ("PUT", "/api/orgs/{org}/policy", {"allowed_models": ["gpt\u0000"]}),
        ("PUT", "/api/orgs/{org}/credential", {"api_key": "sk-abc\u0000defghijk"}),
        (
            "PUT",
            "/api/orgs/{org}/credential",
            {
                "provider": "azure",
                "api_key": "sk-x",
                "base_url": "http://x",
                "deployments": {"a": "\u0000"},
            },
        ),
    ],
)
def test_bad_input_is_a_400_family_answer_never_a_500(
    world: World, method: str, path: str, body: object
) -> None:
    response = world.alice.browser.api(method, path.replace("{org}", world.org_a), body)
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}


def test_odd_bodies_and_forms_are_refused_cleanly(world: World) -> None:
    alice = world.alice.browser
    client = alice.client
    headers = {"X-CSRF-Token": str(alice.csrf), "content-type": "application/json"}
    url = f"/api/orgs/{world.org_a}/tokens"
    assert client.post(url, content=b"{not json", headers=headers).status_code == 400
    assert client.post(url, content=b"\xff\xfe", headers=headers).status_code == 400
    assert client.post(url, content=b"[]", headers=headers).status_code == 400
    big = client.post(url, content=b"x" * (2 * 1024 * 1024), headers=headers)
    assert big.status_code == 413
    form = alice.form(f"/orgs/{world.org_a}/limits", {"org_rpm": "9" * 30, "models_mode": "x"})
    assert form.status_code == 400
    weird = alice.form(f"/orgs/{world.org_a}/tokens", {"name": "é" * 150})
    assert weird.status_code == 400 and "at most 100" in weird.text
    assert alice.get("/orgs/%00").status_code == 404
    assert alice.get(f"/orgs/{world.org_a}/audit?actor=%00").status_code == 400
    stranger = world.browser()
    page = stranger.get("/login")
    nul = stranger.form(
        "/login", {"email": "a\x00@example.com", "password": "x"}, csrf=csrf_in(page.text)
    )
    assert nul.status_code == 401
    assert alice.get(f"/orgs/{world.org_a}/key?provider=<script>").status_code == 200


def test_the_api_is_documented(world: World) -> None:
    spec = world.browser().get("/openapi.json").json()
    paths = spec["paths"]
    assert "/api/orgs/{org_id}/credential" in paths and "/orgs/{org_id}" not in paths
    put = paths["/api/orgs/{org_id}/credential"]["put"]
    assert "400" in put["responses"] and "422" not in put["responses"]
    public = spec["components"]["schemas"]["CredentialPublic"]["properties"]
    assert "api_key" not in public and "fingerprint" in public
    docs = world.browser().get("/docs")
    assert docs.status_code == 200 and "/api/orgs/{org_id}/members" in docs.text
    assert "<script>" not in docs.text.replace(
        '<script src="/static/console.js" defer></script>', ""
    )


def test_a_member_sees_a_plain_overview_without_admin_parts(world: World) -> None:
    page = world.bob.browser.get(f"/orgs/{world.org_a}").text
    assert "Switch billing mode" not in page and "/members" not in page
    assert "http://testserver/v1" in page
    assert world.bob.browser.api("GET", f"/api/orgs/{world.org_a}").json()["your_role"] == "member"


def test_every_member_page_renders_for_each_role(world: World) -> None:
    for persona in (world.alice, world.bob):
        for page in ("", "/tokens"):
            assert persona.browser.get(f"/orgs/{world.org_a}{page}").status_code == 200
    assert world.alice.browser.get("/").headers["location"] == f"/orgs/{world.org_a}"
    assert world.browser().get("/").headers["location"] == "/login"
    assert Role.MEMBER.value in world.bob.browser.get("/orgs").text


def test_cookies_are_secure_over_https_or_behind_an_https_public_url(world: World) -> None:
    over_https = Browser(
        TestClient(world.app, base_url="https://testserver", follow_redirects=False)
    )
    token = over_https.get("/api/csrf")
    assert "max-age=31536000" in token.headers["strict-transport-security"]
    signed_in = over_https.client.post(
        "/api/session",
        json={"email": world.bob.email, "password": PASSWORD},
        headers={"X-CSRF-Token": token.json()["csrf_token"]},
    )
    assert signed_in.status_code == 200
    cookies = signed_in.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("__Host-cg_session="))
    assert all(flag in session.lower() for flag in ("secure", "httponly", "samesite=lax"))
    assert "domain=" not in session.lower() and "path=/" in session.lower()
    # TLS ended at a proxy: the request is http, the public URL says https.
    world.ctx.settings.public_url = "https://chatgrid.example.com"
    presession = world.browser().get("/api/csrf").headers["set-cookie"]
    assert presession.startswith("__Host-cg_presession=") and "secure" in presession.lower()


def test_an_admin_caps_a_members_shared_credit_spend_from_the_members_page(world: World) -> None:
    alice = world.alice.browser
    world.ctx.orgs.set_shared_allowed(world.org_a, True)
    seed_pool_key(world.ctx)
    page = alice.get(f"/orgs/{world.org_a}/mode")
    alice.form(f"/orgs/{world.org_a}/mode", {"mode": "shared"}, csrf=csrf_in(page.text))
    url = f"/orgs/{world.org_a}/members/{world.bob.member_id}/cap"
    page = alice.get(f"/orgs/{world.org_a}/members")
    assert "Monthly cap" in page.text
    saved = alice.form(url, {"cap_usd": "2.5"}, csrf=csrf_in(page.text))
    assert saved.status_code == 303
    assert world.ctx.billing.cap(world.org_a, str(world.bob.member_id)) == 2_500_000
    assert 'value="2.500000"' in alice.get(f"/orgs/{world.org_a}/members").text
    refused = alice.form(url, {"cap_usd": "2.5000001"}, csrf=csrf_in(page.text))
    assert refused.status_code == 400 and "6 decimals" in refused.text
    assert world.ctx.billing.cap(world.org_a, str(world.bob.member_id)) == 2_500_000
    alice.form(url, {"cap_usd": ""}, csrf=csrf_in(page.text))
    assert world.ctx.billing.cap(world.org_a, str(world.bob.member_id)) is None
    actions = [e.action for e in world.ctx.audit.entries(world.org_a)]
    assert "member.cap_set" in actions and "member.cap_cleared" in actions
