"""A real SAML 2.0 identity provider for the tests: pysaml2's IdP (``saml2.server.Server``,
signing with the ``xmlsec1`` program), served over HTTP in a process of its own.

It does what Okta or Entra ID do for an SP-initiated sign-in: takes the
AuthnRequest by HTTP-Redirect, reads the SP's metadata from the URL the
request's Issuer names (ChatGrid's entity ID is its metadata URL), shows a
login form, and answers with a signed assertion (RSA-SHA256) by HTTP-POST
binding to the ACS that metadata names, with the person's email as NameID and
their groups in a ``groups`` attribute. The login form takes any email and a
comma-separated list of groups (a test says who signs in).

Run as ``python -m tests.support.saml_idp_server PORT WORKDIR``; ``start_saml_idp``
does that and waits for ``/metadata``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx

from tests.support.processes import RunningProcess, free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[2]

StartResponse = Any
Environ = dict[str, Any]


@dataclass
class SamlIdpProcess:
    server: RunningProcess

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/metadata"

    @property
    def entity_id(self) -> str:
        return self.metadata_url

    def metadata(self) -> str:
        response = httpx.get(self.metadata_url, timeout=10)
        response.raise_for_status()
        return response.text


def start_saml_idp(log_dir: Path) -> SamlIdpProcess:
    if shutil.which("xmlsec1") is None:
        raise RuntimeError("the SAML IdP needs the xmlsec1 program (Debian's xmlsec1)")
    port = free_port()
    work = log_dir / f"saml-idp-{port}"
    work.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"saml-idp-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.saml_idp_server", str(port), str(work)],
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
    # Named ``localhost`` while ChatGrid runs on 127.0.0.1: another *site* to the browser,
    # so its POST back to the ACS is cross-site, as from a real IdP, and the SameSite=Lax
    # sign-in cookie stays behind (what the ACS's same-origin re-post is for).
    base = f"http://localhost:{port}"
    wait_until_up(f"http://127.0.0.1:{port}/metadata", process)
    return SamlIdpProcess(RunningProcess(process, base, log_path))


def serve_saml_idp(log_dir: Path) -> Iterator[SamlIdpProcess]:
    """``start_saml_idp`` for a fixture: the IdP runs until the fixture ends."""
    idp = start_saml_idp(log_dir)
    try:
        yield idp
    finally:
        idp.server.stop()


# The IdP process itself (imports pysaml2 only here, so a test that does not start it
# does not need it).


def _config(base: str, work: Path) -> Any:
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.config import IdPConfig
    from saml2.saml import NAME_FORMAT_BASIC

    from tests.support.saml_idp import new_key_pair

    keys = new_key_pair("pysaml2-test-idp")
    (work / "key.pem").write_text(keys.key_pem)
    (work / "cert.pem").write_text(keys.cert_pem)
    config = IdPConfig()
    config.load(
        {
            "entityid": f"{base}/metadata",
            "xmlsec_binary": shutil.which("xmlsec1"),
            "key_file": str(work / "key.pem"),
            "cert_file": str(work / "cert.pem"),
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [(f"{base}/sso", BINDING_HTTP_REDIRECT)]
                    },
                    "name_id_format": ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"],
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": 5},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_BASIC,
                        }
                    },
                    "want_authn_requests_signed": False,
                }
            },
            "metadata": {},
            "allow_unknown_attributes": True,
        }
    )
    return config


class _Idp:
    def __init__(self, base: str, work: Path) -> None:
        from saml2.server import Server

        self.base = base
        self.server = Server(config=_config(base, work))
        self.loaded: set[str] = set()

    def __call__(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        try:
            if path == "/metadata":
                return self._reply(start_response, self._metadata(), "application/samlmetadata+xml")
            if path == "/sso":
                query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
                return self._reply(start_response, self._login_form(query))
            if path == "/login" and environ["REQUEST_METHOD"] == "POST":
                size = int(environ.get("CONTENT_LENGTH") or 0)
                form = {
                    k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(size).decode()).items()
                }
                return self._reply(start_response, self._answer(form))
        except Exception as exc:  # the test reads the log; the browser sees a 500
            print(f"IdP error: {exc!r}", file=sys.stderr, flush=True)
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [f"IdP error: {exc}".encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not here"]

    @staticmethod
    def _reply(start_response: StartResponse, body: str, kind: str = "text/html") -> list[bytes]:
        start_response("200 OK", [("Content-Type", f"{kind}; charset=utf-8")])
        return [body.encode()]

    def _metadata(self) -> str:
        from saml2.metadata import entity_descriptor

        return str(entity_descriptor(self.server.config))

    def _login_form(self, query: dict[str, str]) -> str:
        from saml2 import BINDING_HTTP_REDIRECT

        request = self.server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
        sp = request.message.issuer.text
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{escape(query.get(name, ""))}">'
            for name in ("SAMLRequest", "RelayState")
        )
        return (
            "<!doctype html><title>Test IdP sign-in</title><h1>Test IdP</h1>"
            f"<p>Signing in to <code id='sp'>{escape(sp)}</code></p>"
            f'<form method="post" action="/login">{hidden}'
            '<label>Email <input name="email" id="email"></label>'
            '<label>Groups <input name="groups" id="groups"></label>'
            '<button type="submit">Sign in</button></form>'
        )

    def _load_sp(self, entity_id: str) -> None:
        """The SP's metadata, read from its entity ID (ChatGrid's is its metadata URL)."""
        if entity_id in self.loaded:
            return
        response = httpx.get(entity_id, timeout=10)
        response.raise_for_status()
        self.server.metadata.load("inline", response.text)
        self.loaded.add(entity_id)

    def _answer(self, form: dict[str, str]) -> str:
        from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
        from saml2.authn_context import PASSWORDPROTECTEDTRANSPORT
        from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
        from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

        request = self.server.parse_authn_request(form["SAMLRequest"], BINDING_HTTP_REDIRECT)
        self._load_sp(request.message.issuer.text)
        args = self.server.response_args(request.message, [BINDING_HTTP_POST])
        email = form["email"].strip()
        groups = [g.strip() for g in form.get("groups", "").split(",") if g.strip()]
        identity = {"mail": [email], **({"groups": groups} if groups else {})}
        response = self.server.create_authn_response(
            identity,
            userid=email,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
            authn={"class_ref": PASSWORDPROTECTEDTRANSPORT, "authn_auth": self.base},
            sign_assertion=True,
            sign_response=False,
            # pysaml2 signs with SHA-1 unless told; ChatGrid refuses SHA-1 (as it should).
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
            **args,
        )
        http = self.server.apply_binding(
            BINDING_HTTP_POST,
            str(response),
            args["destination"],
            form.get("RelayState", ""),
            response=True,
        )
        return str(http["data"])


class _LogToStderr(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        print(format % args, file=sys.stderr, flush=True)


def main() -> None:
    port, work = int(sys.argv[1]), Path(sys.argv[2])
    app = _Idp(f"http://localhost:{port}", work)
    with make_server("127.0.0.1", port, app, handler_class=_LogToStderr) as httpd:
        httpd.serve_forever()


if __name__ == "__main__":
    main()
