"""SAML 2.0 single sign-on, the service provider's side, on OneLogin's python3-saml.

The library does the XML work that is easy to get fatally wrong (canonical
form, signature references, the schema); this module decides what we accept:

- the IdP's metadata is parsed with DTDs and entities forbidden and no network;
- the *assertion* must be covered by a valid signature from a certificate in
  the IdP's metadata (a signed Response around an unsigned assertion is not
  enough), with SHA-1 and other deprecated algorithms refused;
- exactly one assertion, whose ID is the one the signature references (the
  library's check against signature wrapping), plus our own check that the
  document has no second Assertion anywhere (one hidden in an Extensions or
  Object element still counts) and no comment inside the NameID;
- audience, recipient, destination (our ACS URL as configured, never the
  request's Host header), ``NotBefore``/``NotOnOrAfter`` within a small skew;
- ``InResponseTo`` present and equal to a request we sent (the caller binds the
  request id to the browser, as OIDC's ``state``);
- each assertion ID accepted once: the caller spends it in the replay store
  (``store.saml_replay``) with the expiry returned here.

Who may come in, and with which role, is ``identity.sso``'s, as for OIDC.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.metadata import OneLogin_Saml2_Metadata
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from chatgrid.identity.sso import Identity, SsoSetupRefused, SsoSignInRefused, groups_of

MAX_METADATA_BYTES = 512 * 1024
MAX_RESPONSE_BYTES = 256 * 1024
#: The clock skew allowed each way (the library's own drift allowance is wider;
#: this is the one we enforce on top of it).
CLOCK_SKEW = timedelta(minutes=2)
ACS_PATH = "/sso/saml/acs"

#: Where an email may come from when the NameID is not an address (Okta, Entra ID, Google).
EMAIL_ATTRIBUTES = (
    "email",
    "mail",
    "emailAddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
)
_NS_ASSERTION = "{urn:oasis:names:tc:SAML:2.0:assertion}"
_NS_METADATA = "{urn:oasis:names:tc:SAML:2.0:metadata}"
_NS_DSIG = "{http://www.w3.org/2000/09/xmldsig#}"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class IdpMetadata:
    """What we keep of an IdP's metadata: who it is, where to send people, its signing certs."""

    entity_id: str
    sso_url: str
    certificates: tuple[str, ...]

    def as_settings(self) -> dict[str, object]:
        return {
            "entity_id": self.entity_id,
            "sso_url": self.sso_url,
            "certificates": list(self.certificates),
        }

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> IdpMetadata:
        certs = settings.get("certificates")
        return cls(
            entity_id=str(settings["entity_id"]),
            sso_url=str(settings["sso_url"]),
            certificates=tuple(str(c) for c in certs) if isinstance(certs, list) else (),
        )


@dataclass(frozen=True)
class ServiceProvider:
    """Our side, as the IdP is told: entity id (the metadata URL) and the ACS URL."""

    entity_id: str
    acs_url: str


def service_provider(public_url: str, org_id: str) -> ServiceProvider:
    """The org's SP: one entity id per org (so an assertion for one org's SP is refused
    by another's audience check), one shared ACS URL."""
    base = public_url.rstrip("/")
    return ServiceProvider(entity_id=f"{base}/sso/saml/{org_id}/metadata", acs_url=base + ACS_PATH)


@dataclass(frozen=True)
class SamlAssertion:
    """A verified assertion: who it is, and what the replay store needs."""

    identity: Identity
    assertion_id: str
    expires_at: datetime


def _refuse_setup(message: str) -> SsoSetupRefused:
    return SsoSetupRefused(message, param="metadata")


def _refuse(message: str, code: str = "saml_invalid") -> SsoSignInRefused:
    return SsoSignInRefused(message, code=code)


def parse_idp_metadata(xml: bytes | str) -> IdpMetadata:
    """The IdP's metadata XML, parsed safely; ``SsoSetupRefused`` says what is missing."""
    raw = xml.encode() if isinstance(xml, str) else xml
    if len(raw) > MAX_METADATA_BYTES:
        raise _refuse_setup(f"the metadata is larger than {MAX_METADATA_BYTES // 1024} KiB")
    try:
        root = defused_fromstring(raw, forbid_dtd=True)
    except DefusedXmlException:
        raise _refuse_setup("the metadata declares a DTD or entities, which are refused") from None
    except Exception:
        raise _refuse_setup("the metadata is not well-formed XML") from None
    parsed: dict[str, Any] = OneLogin_Saml2_IdPMetadataParser.parse(raw)
    idp = parsed.get("idp") or {}
    entity_id = idp.get("entityId")
    sso_url = (idp.get("singleSignOnService") or {}).get("url")
    certs = _signing_certificates(root, str(entity_id or ""))
    if not entity_id:
        raise _refuse_setup("the metadata has no IDPSSODescriptor with an entityID")
    if not sso_url:
        raise _refuse_setup(
            "the metadata has no SingleSignOnService with the HTTP-Redirect binding"
        )
    if urlsplit(sso_url).scheme != "https" and not _is_loopback(sso_url):
        raise _refuse_setup("the IdP's sign-in URL must use https")
    if not certs:
        raise _refuse_setup("the metadata has no signing certificate (KeyDescriptor use=signing)")
    return IdpMetadata(
        entity_id=str(entity_id)[:500],
        sso_url=str(sso_url),
        certificates=tuple(dict.fromkeys(re.sub(r"\s+", "", c) for c in certs)),
    )


def _signing_certificates(root: Any, entity_id: str) -> list[str]:
    """The IdP's certificates for signing: KeyDescriptors with ``use="signing"`` or no
    ``use`` (both, by the spec). An encryption-only key never vouches for an assertion."""
    found: list[str] = []
    for descriptor in root.iter(f"{_NS_METADATA}EntityDescriptor"):
        if descriptor.get("entityID") != entity_id:
            continue
        for idp in descriptor.iter(f"{_NS_METADATA}IDPSSODescriptor"):
            for key in idp.iter(f"{_NS_METADATA}KeyDescriptor"):
                if key.get("use") not in (None, "signing"):
                    continue
                found += [c.text or "" for c in key.iter(f"{_NS_DSIG}X509Certificate")]
        break
    return [c for c in found if c.strip()]


def _is_loopback(url: str) -> bool:
    """Plain http only to this machine (a provider the tests start)."""
    host = urlsplit(url).hostname or ""
    return urlsplit(url).scheme == "http" and host in {"127.0.0.1", "localhost", "::1"}


def _settings(sp: ServiceProvider, idp: IdpMetadata) -> OneLogin_Saml2_Settings:
    return OneLogin_Saml2_Settings(
        {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": sp.entity_id,
                "assertionConsumerService": {
                    "url": sp.acs_url,
                    "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST,
                },
                "NameIDFormat": OneLogin_Saml2_Constants.NAMEID_UNSPECIFIED,
            },
            "idp": {
                "entityId": idp.entity_id,
                "singleSignOnService": {
                    "url": idp.sso_url,
                    "binding": OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT,
                },
                "x509certMulti": {"signing": list(idp.certificates)},
            },
            "security": {
                "wantAssertionsSigned": True,
                "wantMessagesSigned": False,
                "wantNameId": True,
                "requestedAuthnContext": False,
                "rejectDeprecatedAlgorithm": True,
                "wantAttributeStatement": False,
            },
        },
        sp_validation_only=True,
    )


def sp_metadata(sp: ServiceProvider, idp: IdpMetadata | None = None) -> str:
    """Our SP metadata XML for the IdP's admin (entity id, ACS URL, POST binding)."""
    xml = OneLogin_Saml2_Metadata.builder(
        {
            "entityId": sp.entity_id,
            "assertionConsumerService": {
                "url": sp.acs_url,
                "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST,
            },
            "NameIDFormat": OneLogin_Saml2_Constants.NAMEID_EMAIL_ADDRESS,
        },
        authnsign=False,
        wsign=True,
    )
    return xml.decode() if isinstance(xml, bytes) else str(xml)


def authn_request(sp: ServiceProvider, idp: IdpMetadata, relay_state: str) -> tuple[str, str]:
    """A new AuthnRequest: its id (to bind to the browser) and the IdP URL to send it to."""
    request = OneLogin_Saml2_Authn_Request(_settings(sp, idp), set_nameid_policy=False)
    query = urlencode({"SAMLRequest": request.get_request(), "RelayState": relay_state})
    separator = "&" if "?" in idp.sso_url else "?"
    return request.get_id(), f"{idp.sso_url}{separator}{query}"


def _decoded(saml_response: str) -> bytes:
    if len(saml_response) > MAX_RESPONSE_BYTES * 2:
        raise _refuse("the SAML response is too large")
    try:
        return base64.b64decode(saml_response, validate=False)
    except (binascii.Error, ValueError):
        raise _refuse("the SAML response is not base64") from None


def _structure_checks(document: bytes) -> None:
    """What we refuse before the library looks: a DTD, a second Assertion anywhere (an
    XML signature wrapping attack hides one in Extensions or a ds:Object), a comment in
    the NameID (which would cut the address the signature covers)."""
    try:
        root = defused_fromstring(document, forbid_dtd=True)
    except DefusedXmlException:
        raise _refuse("the SAML response declares a DTD or entities") from None
    except Exception:
        raise _refuse("the SAML response is not well-formed XML") from None
    if len(list(root.iter(f"{_NS_ASSERTION}Assertion"))) != 1:
        raise _refuse("the SAML response must hold exactly one assertion", "saml_wrapping")
    if list(root.iter(f"{_NS_ASSERTION}EncryptedAssertion")):
        raise _refuse("encrypted assertions are not supported; turn encryption off at the IdP")
    if b"<!--" in document:
        raise _refuse("the SAML response holds an XML comment, which is refused", "saml_wrapping")


def _when(timestamp: int | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def verify_response(
    saml_response: str,
    sp: ServiceProvider,
    idp: IdpMetadata,
    request_id: str,
    now: datetime,
    groups_attribute: str | None = None,
) -> SamlAssertion:
    """The POSTed ``SAMLResponse``, checked as the module docstring says.

    ``SsoSignInRefused`` (code ``saml_invalid``, ``saml_wrapping``,
    ``saml_expired`` or ``saml_in_response_to``) says why in plain words.
    """
    document = _decoded(saml_response)
    _structure_checks(document)
    acs = urlsplit(sp.acs_url)
    request_data = {
        "https": "on" if acs.scheme == "https" else "off",
        "http_host": acs.netloc,
        "script_name": acs.path,
        "post_data": {"SAMLResponse": saml_response},
    }
    response = OneLogin_Saml2_Response(_settings(sp, idp), saml_response)
    if response.get_in_response_to() != request_id:
        raise _refuse(
            "this SAML response does not answer the sign-in this browser started; "
            "start again from the sign-in page",
            "saml_in_response_to",
        )
    if not response.is_valid(request_data, request_id=request_id):
        raise _refuse(f"the SAML response was refused: {response.get_error()}")
    not_before = _when(_library_time(response, "NotBefore"))
    expires = _when(response.get_assertion_not_on_or_after()) or _when(
        _library_time(response, "NotOnOrAfter")
    )
    if expires is None:
        raise _refuse("the assertion has no NotOnOrAfter", "saml_expired")
    if now >= expires + CLOCK_SKEW or (not_before is not None and now < not_before - CLOCK_SKEW):
        raise _refuse("the assertion has expired or is not valid yet", "saml_expired")
    assertion_id = response.get_assertion_id()
    if not assertion_id:
        raise _refuse("the assertion has no ID")
    return SamlAssertion(
        identity=_identity(response, idp, groups_attribute),
        assertion_id=str(assertion_id),
        expires_at=expires + CLOCK_SKEW,
    )


def _library_time(response: OneLogin_Saml2_Response, name: str) -> int | None:
    """The assertion's Conditions ``NotBefore``/``NotOnOrAfter`` (the signed assertion's)."""
    nodes = response._query_assertion("/saml:Conditions")
    if not nodes or not nodes[0].get(name):
        return None
    return int(OneLogin_Saml2_Utils.parse_SAML_to_time(nodes[0].get(name)))


def _first(values: Sequence[object] | None) -> str | None:
    for value in values or ():
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _identity(
    response: OneLogin_Saml2_Response, idp: IdpMetadata, groups_attribute: str | None
) -> Identity:
    attributes: dict[str, list[object]] = response.get_attributes()
    name_id = (response.get_nameid() or "").strip()
    name_id_format = response.get_nameid_format() or ""
    email = name_id if name_id_format == OneLogin_Saml2_Constants.NAMEID_EMAIL_ADDRESS else None
    if not email:
        email = next(
            (_first(attributes.get(a)) for a in EMAIL_ATTRIBUTES if attributes.get(a)), None
        )
    if not email or not _EMAIL.match(email) or len(email) > 320:
        raise _refuse(
            "the identity provider sent no email address (an emailAddress NameID or a mail "
            "attribute); ask your administrator to send one",
            "sso_no_email",
        )
    groups = groups_of(list(attributes.get(groups_attribute) or [])) if groups_attribute else ()
    return Identity(
        issuer=idp.entity_id,
        subject=(name_id or email)[:255],
        email=email.lower(),
        # SAML has no email_verified: the IdP asserting the address on one of the
        # org's verified domains is what the rules in identity.sso trust.
        email_verified=True,
        groups=groups,
    )
