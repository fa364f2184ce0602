"""An org's single sign-on through both doors (the command line in-process, the JSON API
through the console app) on one database, against a real provider (node's oidc-provider):
the same rules and the same audit entries; enforcement refuses passwords for the org's
domain while its owners keep their recovery codes; the secret survives a master rotation.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from chatgrid.admin import keys, people, sso
from chatgrid.audit import AuditFilter
from chatgrid.cli import app
from chatgrid.context import AppContext
from chatgrid.identity import recovery_codes
from chatgrid.identity.models import Role
from chatgrid.identity.passwords import hash_password
from chatgrid.store.tables import sso_connections
from tests.support.console import PASSWORD, World, build_world, csrf_in
from tests.support.oidc_idp import OidcIdp, serve_idp
from tests.support.saml_idp import SamlIdp
from tests.support.sso import CALLBACK, new_domain, verified_domain


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcIdp]:
    yield from serve_idp(tmp_path_factory.mktemp("idp"), [CALLBACK])


@dataclass
class Doors:
    world: World
    env: dict[str, str | None]
    domain: str

    @property
    def ctx(self) -> AppContext:
        return self.world.ctx

    def cli(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input, env=self.env)


@pytest.fixture
def doors(context: AppContext) -> Doors:
    world = build_world(context)
    settings = context.settings
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CHATGRID_")}
    env["CHATGRID_DATA_DIR"] = str(settings.data_dir)
    env["CHATGRID_ALLOW_PRIVATE_UPSTREAMS"] = "true"
    if settings.database_url:
        env["CHATGRID_DATABASE_URL"] = settings.database_url
    domain = new_domain()
    verified_domain(context, world.org_a, domain)
    return Doors(world, env, domain)


def configured(doors: Doors) -> list[dict[str, object]]:
    entries = doors.ctx.audit.entries(doors.world.org_a, AuditFilter(action="sso.configured"))
    return [e.details for e in entries]


def test_both_doors_set_the_provider_with_the_same_rules_and_audit(
    doors: Doors, idp: OidcIdp
) -> None:
    org = doors.world.org_a
    args = ["sso", "oidc", "set", org, "--issuer", idp.issuer, "--client-id", idp.client_id]
    result = doors.cli(
        *args, "--groups-claim", "groups", "--role-map", "cg-admins=admin", input=idp.client_secret
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["secret_fingerprint"].startswith("fp_") and shown["role_map"] == {
        "cg-admins": "admin"
    }
    assert idp.client_secret not in result.output
    alice = doors.world.alice.browser
    api = alice.api(
        "PUT",
        f"/api/orgs/{org}/sso/oidc",
        {
            "issuer": idp.issuer,
            "client_id": idp.client_id,
            "groups_claim": "groups",
            "role_map": {"cg-admins": "admin"},
        },
    )
    assert api.status_code == 200, api.text  # the saved secret is kept
    assert api.json()["secret_fingerprint"] == shown["secret_fingerprint"]
    assert api.json()["redirect_uri"] == CALLBACK
    cli_entry, api_entry = configured(doors)[::-1]
    assert cli_entry.keys() == api_entry.keys()
    assert {k: v for k, v in cli_entry.items() if k != "replaced"} == {
        k: v for k, v in api_entry.items() if k != "replaced"
    }
    # Both refuse the same bad input, and a member may not touch it.
    assert doors.cli(*args, "--default-role", "owner", input="s").exit_code == 1
    owner_default = alice.api(
        "PUT",
        f"/api/orgs/{org}/sso/oidc",
        {"issuer": idp.issuer, "client_id": "x", "default_role": "owner"},
    )
    assert owner_default.status_code == 400
    assert owner_default.json()["error"]["param"] == "default_role"
    assert doors.world.bob.browser.api("GET", f"/api/orgs/{org}/sso").status_code == 403
    tested = alice.api("POST", f"/api/orgs/{org}/sso/test")
    assert tested.json()["ok"] is True
    assert doors.cli("sso", "test", org).exit_code == 0


def test_a_provider_whose_discovery_fails_is_not_saved_and_the_reason_is_plain(
    doors: Doors,
) -> None:
    org = doors.world.org_a
    result = doors.cli(
        "sso", "oidc", "set", org, "--issuer", "http://127.0.0.1:9", "--client-id", "c", input="s"
    )
    assert result.exit_code == 1 and "could not reach 127.0.0.1:9" in result.output
    api = doors.world.alice.browser.api(
        "PUT",
        f"/api/orgs/{org}/sso/oidc",
        {"issuer": "http://127.0.0.1:9", "client_id": "c", "client_secret": "s"},
    )
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "sso_setup_refused"
    no_https = doors.world.alice.browser.api(
        "PUT",
        f"/api/orgs/{org}/sso/oidc",
        {"issuer": "http://idp.example", "client_id": "c", "client_secret": "s"},
    )
    assert no_https.json()["error"]["message"] == "the issuer must use https"
    env = {**doors.env, "CHATGRID_ALLOW_PRIVATE_UPSTREAMS": "false"}
    private = CliRunner().invoke(
        app,
        ["sso", "oidc", "set", org, "--issuer", "http://127.0.0.1:9", "--client-id", "c"],
        input="s",
        env=env,
    )
    assert private.exit_code == 1 and "private address" in private.output
    assert sso.connection_of(doors.ctx, org) is None
    assert configured(doors) == []


def _person(doors: Doors, name: str, role: Role) -> str:
    email = f"{name}@{doors.domain}"
    member = people.add_member(doors.ctx, doors.world.org_a, email, role)
    doors.ctx.accounts.set_password(member.user_id, hash_password(PASSWORD))
    return member.user_id


def _password_sign_in(doors: Doors, email: str) -> tuple[int, str]:
    browser = doors.world.browser()
    token = browser.get("/api/csrf").json()["csrf_token"]
    answer = browser.client.post(
        "/api/session", json={"email": email, "password": PASSWORD}, headers={"X-CSRF-Token": token}
    )
    return answer.status_code, answer.text


def _break_glass(doors: Doors, email: str, code: str) -> int:
    browser = doors.world.browser()
    page = browser.get("/login/break-glass")
    answer = browser.form(
        "/login/break-glass",
        {"email": email, "password": PASSWORD, "recovery_code": code},
        csrf=csrf_in(page.text),
    )
    return answer.status_code


def test_enforced_sso_refuses_passwords_on_the_domain_but_owners_break_glass(
    doors: Doors, idp: OidcIdp
) -> None:
    org = doors.world.org_a
    doors.cli(
        "sso", "oidc", "set", org, "--issuer", idp.issuer, "--client-id", idp.client_id,
        input=idp.client_secret,
    )  # fmt: skip
    owner = _person(doors, "olga", Role.OWNER)
    _person(doors, "mia", Role.MEMBER)
    (code,) = recovery_codes.new_codes(1)
    hashed = recovery_codes.code_hash(owner, code)
    assert hashed is not None
    doors.ctx.second_factors.replace_recovery_codes(owner, [hashed], datetime.now(UTC))
    assert _password_sign_in(doors, f"mia@{doors.domain}")[0] == 200  # not enforced yet

    assert doors.cli("sso", "enforce", org, "--on").exit_code == 0
    for name in ("mia", "olga"):
        status, body = _password_sign_in(doors, f"{name}@{doors.domain}")
        assert status == 403 and json.loads(body)["error"]["code"] == "sso_required"
    assert _password_sign_in(doors, doors.world.bob.email)[0] == 200  # another domain
    assert _break_glass(doors, f"mia@{doors.domain}", code) == 403  # not an owner
    assert _break_glass(doors, f"olga@{doors.domain}", code) == 303
    assert _break_glass(doors, f"olga@{doors.domain}", code) == 403  # used once
    glass = doors.ctx.audit.entries(org, AuditFilter(action="sso.break_glass"))
    assert len(glass) == 1 and glass[0].details == {"codes_left": 0}

    api = doors.world.alice.browser.api(
        "PUT", f"/api/orgs/{org}/sso/enforcement", {"enforced": False}
    )
    assert api.status_code == 200 and api.json()["enforced"] is False
    assert _password_sign_in(doors, f"mia@{doors.domain}")[0] == 200
    enforced = doors.ctx.audit.entries(org, AuditFilter(action="sso.enforced"))
    assert [e.details["enforced"] for e in enforced] == [False, True]
    assert {e.actor_email for e in enforced} == {"cli", doors.world.alice.email}


def test_the_client_secret_opens_after_a_master_rotation_and_removal_is_audited(
    doors: Doors, idp: OidcIdp, tmp_path: Path
) -> None:
    org = doors.world.org_a
    doors.cli(
        "sso", "oidc", "set", org, "--issuer", idp.issuer, "--client-id", idp.client_id,
        input=idp.client_secret,
    )  # fmt: skip
    before = sso.connection_of(doors.ctx, org)
    assert before is not None and before.sealed_secret is not None
    keys.rotate_master(doors.ctx)
    after = sso.connection_of(doors.ctx, org)
    assert after is not None and after.sealed_secret is not None
    assert after.sealed_secret.master_key_version > before.sealed_secret.master_key_version
    opened = doors.ctx.vault.open(after.sealed_secret, binding=after.secret_binding)
    assert secrets.compare_digest(opened, idp.client_secret)
    assert sso.master_versions(doors.ctx) == {after.sealed_secret.master_key_version}
    removed = doors.world.alice.browser.api("DELETE", f"/api/orgs/{org}/sso")
    assert removed.status_code == 204
    assert doors.cli("sso", "show", org).output.strip() == "null"
    assert doors.cli("sso", "remove", org).exit_code == 1  # nothing left to remove
    entries = doors.ctx.audit.entries(org, AuditFilter(action="sso.removed"))
    assert [e.details["issuer"] for e in entries] == [idp.issuer]


def test_switching_to_saml_deletes_the_sealed_oidc_secret(
    doors: Doors, idp: OidcIdp, tmp_path: Path
) -> None:
    org = doors.world.org_a
    set_oidc = doors.cli(
        "sso", "oidc", "set", org, "--issuer", idp.issuer, "--client-id", idp.client_id,
        input=idp.client_secret,
    )  # fmt: skip
    assert set_oidc.exit_code == 0, set_oidc.output
    metadata = tmp_path / "idp.xml"
    metadata.write_text(SamlIdp().metadata())
    set_saml = doors.cli("sso", "saml", "set", org, "--metadata-file", str(metadata))
    assert set_saml.exit_code == 0, set_saml.output

    secret_columns = [
        sso_connections.c[name]
        for name in ("fingerprint", "last4", "wrapped_key", "master_key_version", "nonce")
    ]
    with doors.ctx.engine.connect() as conn:
        rows = conn.execute(
            select(sso_connections.c.protocol, sso_connections.c.ciphertext, *secret_columns)
        ).all()
    assert [tuple(row) for row in rows] == [("saml", None, None, None, None, None, None)]
    assert sso.master_versions(doors.ctx) == set()
    # Back to OIDC, the old secret is not there to be kept: a new one is asked for.
    again = doors.cli(
        "sso", "oidc", "set", org, "--issuer", idp.issuer, "--client-id", idp.client_id,
        input="",
    )  # fmt: skip
    assert again.exit_code != 0 and "client secret" in again.output
