"""The ID token verifier and discovery, against tokens these tests sign themselves.

What a real provider would never send (``alg: none``, a token signed with the
client secret, another key, an expired one) is easiest to make here; the same
refusals through node's oidc-provider are in ``tests/web/test_sso_signin.py``.
Discovery and the key set are served by a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import aiohttp
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from chatgrid.identity.models import Role
from chatgrid.identity.oidc import (
    DiscoveryProblem,
    IdTokenRefused,
    UnknownSigningKey,
    authorization_request,
    check_issuer,
    code_verifier,
    identity_from,
    read_metadata,
    verify_id_token,
)
from chatgrid.identity.oidc_http import ProviderDirectory, discover
from chatgrid.identity.sso import (
    Identity,
    SsoSignInRefused,
    check_identity,
    parse_role_map,
    role_for,
)

ISSUER = "https://idp.example"
CLIENT = "chatgrid-web"
NOW = 1_900_000_000  # a fixed instant: no test depends on the clock
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"})
EC = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"})


def keys(*members: Any) -> KeySet:
    return KeySet.import_key_set({"keys": [k.as_dict(private=False) for k in members]})


def claims(**changes: Any) -> dict[str, Any]:
    base = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "user-1",
        "iat": NOW - 10,
        "exp": NOW + 300,
        "nonce": "n-1",
        "email": "Pat@Acme.example",
        "email_verified": True,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(key: Any = RSA, alg: str = "RS256", **changes: Any) -> str:
    header = {"alg": alg, **({"kid": key.kid} if key.kid else {})}
    return jwt.encode(header, claims(**changes), key, algorithms=[alg])


def check(token: str, key_set: KeySet | None = None) -> dict[str, Any]:
    return verify_id_token(
        token, key_set or keys(RSA, EC), issuer=ISSUER, client_id=CLIENT, nonce="n-1", now=NOW
    )


def test_a_good_token_from_either_key_type_passes() -> None:
    assert check(signed())["sub"] == "user-1"
    assert check(signed(EC, "ES256"))["email"] == "Pat@Acme.example"


def _unsigned(header: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims())}."


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: _unsigned({"alg": "none"}), "signed with 'none'"),
        (lambda: signed(OctKey.import_key(b"the-client-secret" * 2), "HS256"), "'HS256'"),
        (lambda: signed(OTHER), "signature does not verify"),
        (lambda: signed(exp=NOW - 120), "expired"),
        (lambda: signed(iss="https://evil.example"), "another provider"),
        (lambda: signed(aud="another-app"), "another application (audience)"),
        (lambda: signed(aud=[CLIENT, "x"], azp="x"), "authorized party"),
        (lambda: signed(nonce="n-2"), "nonce does not match"),
        (lambda: signed(nonce=None), "nonce"),
        (lambda: signed(sub=None), "subject"),
        (lambda: "not-a-jwt", "not a signed JWT"),
    ],
)
def test_a_bad_token_is_refused_in_plain_words(token: Any, reason: str) -> None:
    with pytest.raises(IdTokenRefused) as refused:
        check(token())
    assert reason in str(refused.value)


def test_a_key_the_set_does_not_have_asks_for_a_fresh_key_set() -> None:
    with pytest.raises(UnknownSigningKey):
        check(signed(RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})), keys(RSA))


def test_who_signed_in_comes_from_the_checked_claims() -> None:
    person = identity_from(check(signed(groups=["a", 3, "b"])), ISSUER, "groups")
    assert person == Identity(ISSUER, "user-1", "pat@acme.example", True, ("a", "b"))
    entra = identity_from(claims(email_verified=None, xms_edov=True), ISSUER, None)
    assert entra.email_verified
    assert not identity_from(claims(email_verified="false"), ISSUER, None).email_verified
    with pytest.raises(IdTokenRefused, match="no email address"):
        identity_from(claims(email=None), ISSUER, None)


def test_only_the_orgs_own_verified_domain_and_a_vouched_address_come_in() -> None:
    person = Identity(ISSUER, "s", "pat@acme.example", True)
    check_identity(person, "org_a", "org_a")
    for owner, code in ((None, "sso_domain_unverified"), ("org_b", "sso_other_org")):
        with pytest.raises(SsoSignInRefused) as refused:
            check_identity(person, "org_a", owner)
        assert refused.value.code == code
    with pytest.raises(SsoSignInRefused) as refused:
        check_identity(Identity(ISSUER, "s", "pat@acme.example", False), "org_a", "org_a")
    assert refused.value.code == "sso_email_unverified"


def test_groups_map_to_the_highest_role_else_the_default() -> None:
    mapping = parse_role_map(["staff=member", " leads = admin", "", "root=owner"])
    assert role_for(["staff", "leads"], mapping, Role.MEMBER) is Role.ADMIN
    assert role_for(["root", "staff"], mapping, Role.MEMBER) is Role.OWNER
    assert role_for(["nobody"], mapping, Role.ADMIN) is Role.ADMIN
    with pytest.raises(Exception, match="GROUP=ROLE"):
        parse_role_map(["no-equals-sign"])
    with pytest.raises(Exception, match="not a role"):
        parse_role_map(["a=superuser"])


def test_the_authorization_request_uses_pkce_state_and_nonce() -> None:
    metadata = read_metadata(ISSUER, DOCUMENT)
    request = authorization_request(
        metadata, CLIENT, "https://cg.example/sso/oidc/callback", "browser-secret", "groups"
    )
    assert request.url.startswith(f"{ISSUER}/authorize?")
    for part in ("code_challenge_method=S256", f"state={request.state}", "scope=openid+email"):
        assert part in request.url
    assert f"nonce={request.nonce}" in request.url and "groups" in request.url
    assert "code_verifier" not in request.url
    assert code_verifier("browser-secret", request.state) != code_verifier("other", request.state)


def test_an_issuer_is_https_or_a_local_test_provider() -> None:
    assert check_issuer(" https://acme.okta.com ") == "https://acme.okta.com"
    assert check_issuer("http://127.0.0.1:9000") == "http://127.0.0.1:9000"
    for bad in ("http://acme.okta.com", "ftp://x", "https://x/?a=1", "acme.okta.com", ""):
        with pytest.raises(ValueError):  # noqa: PT011 (each says its own reason)
            check_issuer(bad)


DOCUMENT = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/authorize",
    "token_endpoint": f"{ISSUER}/token",
    "jwks_uri": f"{ISSUER}/jwks",
    "scopes_supported": ["openid", "email", "groups"],
    "id_token_signing_alg_values_supported": ["RS256"],
}


# Discovery and the key set over HTTP


class Provider(BaseHTTPRequestHandler):
    """Answers what ``routes`` says for each path (status, content type, body)."""

    routes: ClassVar[dict[str, tuple[int, str, bytes]]] = {}
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        status, kind, body = self.routes.get(self.path, (404, "text/plain", b"no"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        if status in (301, 302):
            self.send_header("Location", "https://elsewhere.example/")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def provider() -> Iterator[tuple[str, type[Provider]]]:
    handler = type("Handler", (Provider,), {"routes": {}, "hits": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def serve_discovery(base: str, handler: type[Provider], **changes: Any) -> None:
    document = {
        "issuer": base,
        "authorization_endpoint": f"{base}/auth",
        "token_endpoint": f"{base}/token",
        "jwks_uri": f"{base}/jwks",
    }
    document.update(changes)
    body = json.dumps({k: v for k, v in document.items() if v is not None}).encode()
    handler.routes["/.well-known/openid-configuration"] = (200, "application/json", body)


async def _discover(issuer: str) -> Any:
    async with aiohttp.ClientSession() as session:
        return await discover(session, issuer)


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda b, h: None, "answered HTTP 404"),
        (
            lambda b, h: h.routes.update(
                {"/.well-known/openid-configuration": (200, "text/html", b"<html>login</html>")}
            ),
            "is not JSON",
        ),
        (lambda b, h: serve_discovery(b, h, issuer=b + "/"), "issuer mismatch"),
        (lambda b, h: serve_discovery(b, h, jwks_uri=None), "has no jwks_uri"),
        (
            lambda b, h: serve_discovery(b, h, id_token_signing_alg_values_supported=["HS256"]),
            "signs ID tokens only with HS256",
        ),
        (
            lambda b, h: h.routes.update({"/.well-known/openid-configuration": (302, "x", b"")}),
            "redirect",
        ),
        (
            lambda b, h: h.routes.update(
                {"/.well-known/openid-configuration": (200, "application/json", b" " * 300_000)}
            ),
            "larger than",
        ),
    ],
)
def test_discovery_says_what_is_wrong(
    provider: tuple[str, type[Provider]], setup: Any, words: str
) -> None:
    base, handler = provider
    setup(base, handler)
    with pytest.raises(DiscoveryProblem, match=words):
        asyncio.run(_discover(base))


def test_an_unreachable_provider_is_named() -> None:
    with pytest.raises(DiscoveryProblem, match=r"could not reach 127\.0\.0\.1:9"):
        asyncio.run(_discover("http://127.0.0.1:9"))


def test_a_rotated_key_is_fetched_once_and_then_accepted(
    provider: tuple[str, type[Provider]],
) -> None:
    base, handler = provider
    serve_discovery(base, handler)
    jwks = json.dumps({"keys": [RSA.as_dict(private=False)]}).encode()
    handler.routes["/jwks"] = (200, "application/json", jwks)
    new = RSAKey.generate_key(2048, parameters={"kid": "rsa-2", "use": "sig"})
    token = jwt.encode(
        {"alg": "RS256", "kid": "rsa-2"}, claims(iss=base), new, algorithms=["RS256"]
    )
    directory = ProviderDirectory(clock=lambda: 0.0)

    async def sign_in(tok: str) -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            metadata = await directory.metadata(session, base)
            return await directory.verify(
                session, metadata, tok, client_id=CLIENT, nonce="n-1", now=NOW
            )

    with pytest.raises(UnknownSigningKey):  # the provider does not list it yet: one refetch
        asyncio.run(sign_in(token))
    assert handler.hits.count("/jwks") == 2
    both = json.dumps({"keys": [RSA.as_dict(private=False), new.as_dict(private=False)]})
    handler.routes["/jwks"] = (200, "application/json", both.encode())
    assert asyncio.run(sign_in(token))["sub"] == "user-1"  # rotated in: fetched again
    assert handler.hits.count("/jwks") == 3
    assert asyncio.run(sign_in(token))["sub"] == "user-1"  # and kept
    assert handler.hits.count("/jwks") == 3
