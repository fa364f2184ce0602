"""OpenID Connect, the parts that need no network: the issuer URL, the provider's metadata,
the authorization request (code flow with PKCE, ``state`` and ``nonce``) and the ID
token's checks.

The protocol is authlib's (PKCE, the request URL, the ID token's claim rules) and
joserfc's (the JWS signature); what is ours is the policy around them:

- only asymmetric algorithms from an allow-list; ``alg: none`` and HMAC (whose
  "key" would be the client secret, known to more parties than the provider) are
  refused before any key is looked at;
- the signing key is the provider's, found by ``kid`` in its JWKS; an unknown
  ``kid`` raises ``UnknownSigningKey`` so the caller fetches the JWKS again,
  once (the provider rotated its keys);
- issuer, audience (and ``azp``), expiry, issued-at and nonce are all checked,
  against an explicit ``now`` so tests need no clock.

Every refusal is an ``IdTokenRefused`` whose message says what was wrong in
words an admin can act on; none of them carries the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from chatgrid.identity.sso import Identity, groups_of
from chatgrid.identity.users import has_control_characters

#: Signature algorithms accepted on an ID token (asymmetric only).
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
#: Clock difference tolerated between us and the provider, in seconds.
LEEWAY_SECONDS = 60
#: Scopes every sign-in asks for; the groups claim's name is added when the provider lists it.
BASE_SCOPES = ("openid", "email", "profile")
MAX_ISSUER_LENGTH = 500
MAX_TOKEN_LENGTH = 64 * 1024
WELL_KNOWN = "/.well-known/openid-configuration"


class DiscoveryProblem(Exception):
    """The provider's metadata cannot be used; the message says why, in plain words."""


class IdTokenRefused(Exception):
    """The ID token failed a check; the message says which, in plain words."""


class UnknownSigningKey(IdTokenRefused):
    """The token names a key the JWKS we hold does not have (fetch it again, once)."""


def check_issuer(text: str) -> str:
    """The issuer URL as typed, or ``ValueError`` saying what is wrong with it.

    https only; plain http only for a provider on this machine (a test IdP),
    which the address rules allow only with ``CHATGRID_ALLOW_PRIVATE_UPSTREAMS``.
    """
    issuer = text.strip()
    if not issuer or len(issuer) > MAX_ISSUER_LENGTH or has_control_characters(issuer):
        raise ValueError("the issuer is a URL such as https://example.okta.com")
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("the issuer is a URL such as https://example.okta.com")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("the issuer URL has no query, fragment or user name")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the issuer must use https")
    return issuer


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + WELL_KNOWN


@dataclass(frozen=True)
class ProviderMetadata:
    """What discovery says about a provider, checked."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    scopes_supported: tuple[str, ...]
    token_auth_methods: tuple[str, ...]


def _endpoint(document: Mapping[str, Any], name: str, issuer: str) -> str:
    """An endpoint from discovery: https, or http only when the issuer itself is (a local IdP)."""
    value = document.get(name)
    if not isinstance(value, str) or not value or len(value) > 1000:
        raise DiscoveryProblem(f"the provider's discovery document has no {name}")
    scheme = urlsplit(value).scheme
    if scheme != "https" and not (scheme == "http" and issuer.startswith("http://")):
        raise DiscoveryProblem(f"the provider's {name} ({value[:200]}) is not an https URL")
    return value


def read_metadata(issuer: str, document: object) -> ProviderMetadata:
    """Discovery's answer for ``issuer``, or ``DiscoveryProblem`` saying what is wrong."""
    if not isinstance(document, dict):
        raise DiscoveryProblem("the discovery document is JSON but not an object")
    said = document.get("issuer")
    if said != issuer:
        raise DiscoveryProblem(
            f"issuer mismatch: the provider calls itself {str(said)[:200]!r}, not {issuer!r}. "
            "Use exactly the issuer it names (a trailing slash counts)."
        )
    algorithms = document.get("id_token_signing_alg_values_supported")
    if isinstance(algorithms, list) and not set(algorithms) & set(ALLOWED_ALGORITHMS):
        raise DiscoveryProblem(
            "the provider signs ID tokens only with "
            f"{', '.join(map(str, algorithms))[:200]}; ChatGrid accepts "
            f"{', '.join(ALLOWED_ALGORITHMS)}"
        )
    scopes = document.get("scopes_supported")
    methods = document.get("token_endpoint_auth_methods_supported")
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=_endpoint(document, "authorization_endpoint", issuer),
        token_endpoint=_endpoint(document, "token_endpoint", issuer),
        jwks_uri=_endpoint(document, "jwks_uri", issuer),
        scopes_supported=tuple(s for s in scopes if isinstance(s, str))
        if isinstance(scopes, list)
        else (),
        token_auth_methods=tuple(m for m in methods if isinstance(m, str))
        if isinstance(methods, list)
        else (),
    )


def read_key_set(document: object) -> KeySet:
    """The provider's signing keys from its JWKS document."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise DiscoveryProblem("the provider's jwks_uri did not answer with a key set")
    usable = [
        k
        for k in document["keys"]
        if isinstance(k, dict) and k.get("use", "sig") == "sig" and k.get("kty") in ("RSA", "EC")
    ]
    try:
        keys = KeySet.import_key_set({"keys": usable})
    except (JoseError, ValueError, TypeError) as exc:
        raise DiscoveryProblem(f"the provider's key set cannot be read ({exc})") from None
    if not keys.keys:
        raise DiscoveryProblem("the provider's key set has no RSA or EC signing key")
    return keys


# The authorization request


@dataclass(frozen=True)
class AuthorizationRequest:
    """One sign-in's secrets and where the browser goes to start it."""

    url: str
    state: str
    nonce: str


def new_browser_secret() -> str:
    """The random value the sign-in cookie holds; the PKCE verifier is derived from it."""
    return str(generate_token(43))


def code_verifier(browser_secret: str, state: str) -> str:
    """The PKCE verifier, derived from the browser's secret: never stored anywhere."""
    digest = hmac.new(browser_secret.encode(), f"pkce:{state}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def scopes_for(metadata: ProviderMetadata, groups_claim: str | None) -> list[str]:
    scopes = list(BASE_SCOPES)
    if groups_claim and groups_claim in metadata.scopes_supported:
        scopes.append(groups_claim)
    return scopes


def authorization_request(
    metadata: ProviderMetadata,
    client_id: str,
    redirect_uri: str,
    browser_secret: str,
    groups_claim: str | None = None,
    *,
    login_hint: str | None = None,
) -> AuthorizationRequest:
    state = str(generate_token(32))
    nonce = str(generate_token(32))
    extra: dict[str, str] = {}
    if login_hint:
        extra["login_hint"] = login_hint
    verifier = code_verifier(browser_secret, state)
    challenge = create_s256_code_challenge(verifier)  # type: ignore[no-untyped-call]  # stubs
    url = prepare_grant_uri(
        metadata.authorization_endpoint,
        client_id,
        "code",
        redirect_uri=redirect_uri,
        scope=" ".join(scopes_for(metadata, groups_claim)),
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        code_challenge_method="S256",
        **extra,
    )
    return AuthorizationRequest(url=str(url), state=state, nonce=nonce)


# The ID token


def token_header(token: str) -> dict[str, Any]:
    """The JOSE header, read without trusting anything in it yet."""
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise IdTokenRefused("the ID token is not a signed JWT")
    encoded = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except ValueError:
        raise IdTokenRefused("the ID token's header cannot be read") from None
    if not isinstance(header, dict):
        raise IdTokenRefused("the ID token's header cannot be read")
    return header


def _signing_key(keys: KeySet, header: Mapping[str, Any]) -> Any:
    kid = header.get("kid")
    alg = str(header["alg"])
    family = "EC" if alg.startswith("ES") else "RSA"
    candidates = [
        k
        for k in keys.keys
        if k.key_type == family and (kid is None or k.kid == kid) and k.get("alg", alg) == alg
    ]
    if kid is None and len(candidates) > 1:
        raise IdTokenRefused("the ID token names no key (kid) and the provider has several")
    if not candidates:
        raise UnknownSigningKey(
            f"the ID token is signed with a key the provider does not list ({str(kid)[:60]})"
        )
    return candidates[0]


_CLAIM_WORDS = {
    "iss": "it was issued by another provider",
    "aud": "it was issued to another application (audience)",
    "azp": "it was issued to another application (authorized party)",
    "exp": "it has expired",
    "iat": "its issue time is missing or wrong",
    "nbf": "it is not valid yet",
    "nonce": "its nonce does not match this sign-in",
    "sub": "it names no subject",
}


def verify_id_token(
    token: str, keys: KeySet, *, issuer: str, client_id: str, nonce: str, now: int
) -> dict[str, Any]:
    """The token's claims once every check passed; ``IdTokenRefused`` otherwise."""
    header = token_header(token)
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise IdTokenRefused(
            f"the ID token is signed with {str(alg)[:20]!r}; ChatGrid accepts only "
            f"{', '.join(ALLOWED_ALGORITHMS)}"
        )
    key = _signing_key(keys, header)
    try:
        decoded = jwt.decode(token, key, algorithms=[str(alg)])
    except JoseError:
        raise IdTokenRefused("the ID token's signature does not verify") from None
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
            "exp": {"essential": True},
            "sub": {"essential": True},
        },
        params={"nonce": nonce, "client_id": client_id},
    )
    try:
        claims.validate(now=now, leeway=LEEWAY_SECONDS)
    except JoseError as exc:
        claim = str(getattr(exc, "claim", "") or "")
        reason = _CLAIM_WORDS.get(claim, f"its {claim or 'claims'} did not check out")
        raise IdTokenRefused(f"the ID token was refused: {reason}") from None
    return dict(decoded.claims)


def identity_from(claims: Mapping[str, Any], issuer: str, groups_claim: str | None) -> Identity:
    """Who signed in, from checked claims. Microsoft Entra ID vouches for an address with
    ``xms_edov`` (email domain owner verified) instead of ``email_verified``."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 320:
        raise IdTokenRefused(
            "the identity provider sent no email address; allow the email scope for ChatGrid"
        )
    verified = claims.get("email_verified", claims.get("xms_edov"))
    return Identity(
        issuer=issuer,
        subject=str(claims["sub"])[:255],
        email=email.strip().lower(),
        email_verified=verified is True or verified == "true",
        groups=groups_of(claims.get(groups_claim)) if groups_claim else (),
    )
