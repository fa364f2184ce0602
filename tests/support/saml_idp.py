"""A SAML identity provider for the tests: its own RSA key and certificate, its metadata,
and responses signed with xmlsec exactly as an IdP signs them (enveloped, exclusive
canonical form, RSA-SHA256), so the tests can also bend them into the classic attacks.
"""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape, quoteattr

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.utils import OneLogin_Saml2_Utils

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class KeyPair:
    key_pem: str
    cert_pem: str

    @property
    def cert_b64(self) -> str:
        return "".join(line for line in self.cert_pem.splitlines() if "-----" not in line)


def new_key_pair(name: str = "test-idp") -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = datetime(2020, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * 30))
        .sign(key, hashes.SHA256())
    )
    return KeyPair(
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
    )


@dataclass
class SamlIdp:
    """One IdP: an entity id, a sign-in URL and a signing key."""

    entity_id: str = "https://idp.test/saml"
    sso_url: str = "https://idp.test/sso"
    keys: KeyPair = field(default_factory=new_key_pair)

    def metadata(self) -> str:
        return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID={quoteattr(self.entity_id)}>
  <md:IDPSSODescriptor protocolSupportEnumeration="{SAMLP}">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>{self.keys.cert_b64}</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>{EMAIL_FORMAT}</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location={quoteattr(self.sso_url)}/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""

    def assertion(
        self,
        *,
        assertion_id: str,
        email: str,
        audience: str,
        recipient: str,
        in_response_to: str,
        issued: datetime,
        lifetime: timedelta = timedelta(minutes=5),
        groups: tuple[str, ...] = (),
        name_id: str | None = None,
    ) -> str:
        """An unsigned Assertion element (its own namespace declarations, so it can move)."""
        until = _stamp(issued + lifetime)
        values = "".join(f"<saml:AttributeValue>{escape(g)}</saml:AttributeValue>" for g in groups)
        group_attribute = (
            f'<saml:AttributeStatement><saml:Attribute Name="groups">{values}'
            "</saml:Attribute></saml:AttributeStatement>"
            if groups
            else ""
        )
        return (
            f'<saml:Assertion xmlns:saml="{SAML}" ID={quoteattr(assertion_id)} Version="2.0" '
            f'IssueInstant="{_stamp(issued)}">'
            f"<saml:Issuer>{escape(self.entity_id)}</saml:Issuer>"
            f'<saml:Subject><saml:NameID Format="{EMAIL_FORMAT}">'
            f"{name_id if name_id is not None else escape(email)}</saml:NameID>"
            '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
            f"<saml:SubjectConfirmationData InResponseTo={quoteattr(in_response_to)} "
            f'NotOnOrAfter="{until}" Recipient={quoteattr(recipient)}/>'
            "</saml:SubjectConfirmation></saml:Subject>"
            f'<saml:Conditions NotBefore="{_stamp(issued - timedelta(seconds=30))}" '
            f'NotOnOrAfter="{until}"><saml:AudienceRestriction>'
            f"<saml:Audience>{escape(audience)}</saml:Audience>"
            "</saml:AudienceRestriction></saml:Conditions>"
            f'<saml:AuthnStatement AuthnInstant="{_stamp(issued)}" SessionIndex="s1">'
            "<saml:AuthnContext><saml:AuthnContextClassRef>"
            "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
            "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
            f"{group_attribute}</saml:Assertion>"
        )

    def sign(self, element: str, keys: KeyPair | None = None) -> str:
        """``element`` with an enveloped RSA-SHA256 signature after its Issuer."""
        keys = keys or self.keys
        signed = OneLogin_Saml2_Utils.add_sign(
            element,
            keys.key_pem,
            keys.cert_pem,
            sign_algorithm=OneLogin_Saml2_Constants.RSA_SHA256,
            digest_algorithm=OneLogin_Saml2_Constants.SHA256,
        )
        text = signed.decode() if isinstance(signed, bytes) else str(signed)
        return text.split("?>", 1)[1].lstrip() if text.startswith("<?xml") else text

    def response(
        self,
        inner: str,
        *,
        destination: str,
        in_response_to: str,
        issued: datetime,
        response_id: str = "_resp1",
        extensions: str = "",
    ) -> str:
        """A Response around ``inner`` (one or more assertions, signed or not)."""
        return (
            f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" '
            f'ID={quoteattr(response_id)} Version="2.0" IssueInstant="{_stamp(issued)}" '
            f"Destination={quoteattr(destination)} InResponseTo={quoteattr(in_response_to)}>"
            f"<saml:Issuer>{escape(self.entity_id)}</saml:Issuer>"
            f"{extensions}"
            '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
            f"</samlp:Status>{inner}</samlp:Response>"
        )


def posted(xml: str) -> str:
    """What a browser POSTs as ``SAMLResponse``."""
    return base64.b64encode(xml.encode()).decode()


@dataclass(frozen=True)
class SentRequest:
    """What an SP's HTTP-Redirect URL carries: the AuthnRequest and the RelayState."""

    request_id: str
    relay_state: str
    xml: str


def sent_request(url: str) -> SentRequest:
    """The AuthnRequest in ``url`` (deflated, base64), as an IdP reads it."""
    query = dict(parse_qsl(urlsplit(url).query))
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"]), -15).decode()
    found = re.search(r'\sID="([^"]+)"', xml)
    assert found, xml
    return SentRequest(found.group(1), query.get("RelayState", ""), xml)
