"""Setting an org's SAML IdP from the command line (in process) on a real database: from a
metadata file, from a metadata URL served over HTTP on 127.0.0.1, and refused in plain
words with nothing saved (a DTD, no certificate, an HTTP error, both or neither option)."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner, Result

from chatgrid.admin import saml_signin, sso, sso_signin
from chatgrid.admin.sso_saml import certificate_fingerprint
from chatgrid.audit import AuditFilter
from chatgrid.cli import app
from chatgrid.context import AppContext
from chatgrid.identity.oidc_http import ProviderDirectory
from chatgrid.identity.sso import SsoSignInRefused
from tests.support.console import build_world
from tests.support.saml_idp import SamlIdp


class _Metadata(BaseHTTPRequestHandler):
    documents: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.documents.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/samlmetadata+xml")
        self.end_headers()
        self.wfile.write(body or b"not here")

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def metadata_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Metadata)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def cli(context: AppContext, *args: str) -> Result:
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CHATGRID_")}
    env["CHATGRID_DATA_DIR"] = str(context.settings.data_dir)
    env["CHATGRID_ALLOW_PRIVATE_UPSTREAMS"] = "true"
    env["CHATGRID_PUBLIC_URL"] = "https://chat.example.com"
    if context.settings.database_url:
        env["CHATGRID_DATABASE_URL"] = context.settings.database_url
    return CliRunner().invoke(app, list(args), env=env)


def test_the_idp_is_set_from_a_file_and_from_a_url_and_audited(
    context: AppContext, tmp_path: Path, metadata_server: str
) -> None:
    org = build_world(context).org_a
    idp = SamlIdp()
    file = tmp_path / "idp.xml"
    file.write_text(idp.metadata())
    result = cli(
        context, "sso", "saml", "set", org, "--metadata-file", str(file),
        "--groups-attribute", "groups", "--role-map", "cg-admins=admin",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["protocol"] == "saml" and shown["issuer"] == idp.entity_id
    assert shown["saml"] == {
        "entity_id": f"https://chat.example.com/sso/saml/{org}/metadata",
        "acs_url": "https://chat.example.com/sso/saml/acs",
        "metadata_url": f"https://chat.example.com/sso/saml/{org}/metadata",
    }
    saved = sso.connection_of(context, org)
    assert saved is not None and saved.settings["certificates"] == [idp.keys.cert_b64]
    assert saved.role_map == {"cg-admins": "admin"}

    rotated = SamlIdp()
    _Metadata.documents["/metadata"] = rotated.metadata().encode()
    result = cli(
        context, "sso", "saml", "set", org, "--metadata-url", metadata_server + "/metadata"
    )
    assert result.exit_code == 0, result.output
    saved = sso.connection_of(context, org)
    assert saved is not None and saved.settings["certificates"] == [rotated.keys.cert_b64]
    entries = context.audit.entries(org, AuditFilter(action="sso.configured"))
    latest, first = entries[0].details, entries[1].details
    assert first["protocol"] == latest["protocol"] == "saml"
    assert first["replaced"] is False and latest["replaced"] is True
    assert latest["metadata_url"] == metadata_server + "/metadata"
    assert latest["certificates"] == [certificate_fingerprint(rotated.keys.cert_b64)]
    # A sign-in now starts at the rotated IdP, with an AuthnRequest for this org's SP...
    started = saml_signin.begin(
        context, org, request_base="https://chat.example.com", next_path=None
    )
    assert started.url.startswith(rotated.sso_url + "?SAMLRequest=")
    # ...and never through the OIDC path, which says this org has no OIDC provider.
    with pytest.raises(SsoSignInRefused) as caught:
        asyncio.run(
            sso_signin.begin(
                context, ProviderDirectory(), org, email=None, redirect_uri="", next_path=None
            )
        )
    assert caught.value.code == "sso_not_configured"


def test_bad_metadata_is_refused_in_plain_words_and_nothing_is_saved(
    context: AppContext, tmp_path: Path, metadata_server: str
) -> None:
    org = build_world(context).org_a
    idp = SamlIdp()
    with_dtd = tmp_path / "dtd.xml"
    with_dtd.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>')
    no_cert = tmp_path / "nocert.xml"
    no_cert.write_text(idp.metadata().replace('use="signing"', 'use="encryption"'))
    cases = [
        (["--metadata-file", str(with_dtd)], "DTD"),
        (["--metadata-file", str(no_cert)], "no signing certificate"),
        (["--metadata-file", str(tmp_path / "missing.xml")], "cannot read"),
        (["--metadata-url", metadata_server + "/nowhere"], "HTTP 404"),
        ([], "exactly one"),
        (["--metadata-file", str(no_cert), "--metadata-url", metadata_server], "exactly one"),
    ]
    for options, words in cases:
        result = cli(context, "sso", "saml", "set", org, *options)
        assert result.exit_code == 1, (options, result.output)
        assert words in result.output, (options, result.output)
    assert sso.connection_of(context, org) is None
    assert not context.audit.entries(org, AuditFilter(action="sso.configured"))
