"""The SAML response verifier, against responses signed here with xmlsec as an IdP signs
them, then bent into what a real IdP never sends: the wrong audience, an expired or
unsigned assertion, another key's signature, a mismatched InResponseTo, and the classic
XML signature wrapping attacks. All at a fixed instant (the library's clock is set to it).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from chatgrid.errors import InvalidRequest
from chatgrid.identity.saml import (
    IdpMetadata,
    ServiceProvider,
    authn_request,
    parse_idp_metadata,
    service_provider,
    sp_metadata,
    verify_response,
)
from chatgrid.identity.sso import SsoSetupRefused, SsoSignInRefused
from tests.support.saml_idp import SamlIdp, new_key_pair, posted

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
REQUEST_ID = "ONELOGIN_request_1"
SP = service_provider("https://chat.example.com", "org_abc")


@pytest.fixture(autouse=True)
def library_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """python3-saml reads the wall clock; these tests run at ``NOW`` whatever the date."""
    monkeypatch.setattr(OneLogin_Saml2_Utils, "now", staticmethod(lambda: int(NOW.timestamp())))


@pytest.fixture(scope="module")
def idp() -> SamlIdp:
    return SamlIdp()


@pytest.fixture(scope="module")
def metadata(idp: SamlIdp) -> IdpMetadata:
    return parse_idp_metadata(idp.metadata())


def assertion(idp: SamlIdp, sp: ServiceProvider = SP, **changes: object) -> str:
    values: dict[str, object] = {
        "assertion_id": "_a1",
        "email": "ada@example.com",
        "audience": sp.entity_id,
        "recipient": sp.acs_url,
        "in_response_to": REQUEST_ID,
        "issued": NOW - timedelta(seconds=10),
    }
    values.update(changes)
    return idp.assertion(**values)  # type: ignore[arg-type]


def response(idp: SamlIdp, inner: str, **changes: object) -> str:
    values: dict[str, object] = {
        "destination": SP.acs_url,
        "in_response_to": REQUEST_ID,
        "issued": NOW - timedelta(seconds=10),
    }
    values.update(changes)
    return posted(idp.response(inner, **values))  # type: ignore[arg-type]


def verify(metadata: IdpMetadata, saml_response: str, **kwargs: object) -> object:
    return verify_response(saml_response, SP, metadata, REQUEST_ID, NOW, **kwargs)  # type: ignore[arg-type]


def refused(metadata: IdpMetadata, saml_response: str) -> SsoSignInRefused:
    with pytest.raises(SsoSignInRefused) as caught:
        verify(metadata, saml_response)
    return caught.value


def test_a_signed_assertion_gives_the_identity_and_its_expiry(
    idp: SamlIdp, metadata: IdpMetadata
) -> None:
    signed = idp.sign(assertion(idp, groups=("eng", "admins")))
    result = verify_response(response(idp, signed), SP, metadata, REQUEST_ID, NOW, "groups")
    assert result.identity.email == "ada@example.com"
    assert result.identity.issuer == idp.entity_id
    assert result.identity.groups == ("eng", "admins")
    assert result.assertion_id == "_a1"
    assert result.expires_at == NOW - timedelta(seconds=10) + timedelta(minutes=5 + 2)


def test_the_wrong_audience_is_refused(idp: SamlIdp, metadata: IdpMetadata) -> None:
    other_org = service_provider("https://chat.example.com", "org_other")
    signed = idp.sign(assertion(idp, audience=other_org.entity_id))
    assert "audience" in str(refused(metadata, response(idp, signed))).lower()


def test_the_wrong_recipient_and_destination_are_refused(
    idp: SamlIdp, metadata: IdpMetadata
) -> None:
    evil = "https://evil.example.net/sso/saml/acs"
    signed = idp.sign(assertion(idp, recipient=evil))
    assert "subjectconfirmation" in str(refused(metadata, response(idp, signed))).lower()
    signed = idp.sign(assertion(idp))
    assert "received at" in str(refused(metadata, response(idp, signed, destination=evil)))


def test_an_expired_assertion_is_refused(idp: SamlIdp, metadata: IdpMetadata) -> None:
    old = idp.sign(assertion(idp, issued=NOW - timedelta(hours=1)))
    assert refused(metadata, response(idp, old)).code in {"saml_invalid", "saml_expired"}


def test_an_unsigned_assertion_is_refused_even_in_a_signed_response(
    idp: SamlIdp, metadata: IdpMetadata
) -> None:
    unsigned = response(idp, assertion(idp))
    assert "signed" in str(refused(metadata, unsigned)).lower()
    whole = idp.sign(
        idp.response(assertion(idp), destination=SP.acs_url, in_response_to=REQUEST_ID, issued=NOW)
    )
    assert "signed" in str(refused(metadata, posted(whole))).lower()


def test_another_keys_signature_is_refused(idp: SamlIdp, metadata: IdpMetadata) -> None:
    forged = idp.sign(assertion(idp), keys=new_key_pair("attacker"))
    refused(metadata, response(idp, forged))


def test_a_changed_signed_assertion_is_refused(idp: SamlIdp, metadata: IdpMetadata) -> None:
    signed = idp.sign(assertion(idp, email="eve@example.com"))
    tampered = signed.replace("eve@example.com", "ada@example.com")
    refused(metadata, response(idp, tampered))


def test_a_mismatched_in_response_to_is_refused(idp: SamlIdp, metadata: IdpMetadata) -> None:
    signed = idp.sign(assertion(idp, in_response_to="ONELOGIN_other"))
    other = response(idp, signed, in_response_to="ONELOGIN_other")
    assert refused(metadata, other).code == "saml_in_response_to"
    # An unsolicited response (no InResponseTo at all) answers nothing we sent.
    bare = re.sub(
        r' InResponseTo="[^"]*"',
        "",
        idp.response(signed, destination=SP.acs_url, in_response_to="x", issued=NOW),
    )
    assert refused(metadata, posted(bare)).code == "saml_in_response_to"


def test_wrapping_a_second_unsigned_assertion_beside_a_signed_one(
    idp: SamlIdp, metadata: IdpMetadata
) -> None:
    signed = idp.sign(assertion(idp, email="eve@example.com"))
    evil = assertion(idp, assertion_id="_evil", email="ceo@example.com")
    assert refused(metadata, response(idp, evil + signed)).code == "saml_wrapping"
    assert refused(metadata, response(idp, signed + evil)).code == "saml_wrapping"


def test_wrapping_the_signed_assertion_moved_into_extensions(
    idp: SamlIdp, metadata: IdpMetadata
) -> None:
    signed = idp.sign(assertion(idp, email="eve@example.com"))
    evil = assertion(idp, email="ceo@example.com")  # the same ID, the signature's reference
    hidden = f"<samlp:Extensions>{signed}</samlp:Extensions>"
    assert refused(metadata, response(idp, evil, extensions=hidden)).code == "saml_wrapping"


def test_wrapping_the_signed_assertion_moved_into_a_signature_object(
    idp: SamlIdp, metadata: IdpMetadata
) -> None:
    signed = idp.sign(assertion(idp, email="eve@example.com"))
    evil = assertion(idp, email="ceo@example.com")
    signature = re.search(r"<ds:Signature.*</ds:Signature>", signed, re.S)
    assert signature is not None
    inside = signature.group(0).replace(
        "</ds:Signature>", f"<ds:Object>{signed}</ds:Object></ds:Signature>"
    )
    wrapped = evil.replace("</saml:Issuer>", "</saml:Issuer>" + inside, 1)
    assert refused(metadata, response(idp, wrapped)).code == "saml_wrapping"


def test_a_comment_in_the_name_id_is_refused(idp: SamlIdp, metadata: IdpMetadata) -> None:
    # Signed as eve@example.com.evil.net; a parser reading only the first text node
    # would see eve@example.com. The comment is outside what the signature covers,
    # so the signature still holds after the attacker adds it.
    signed = idp.sign(assertion(idp, email="eve@example.com.evil.net"))
    commented = signed.replace("eve@example.com.evil.net", "eve@example.com<!---->.evil.net")
    assert commented != signed
    assert refused(metadata, response(idp, commented)).code == "saml_wrapping"


def test_a_signature_referencing_another_id_is_refused(idp: SamlIdp, metadata: IdpMetadata) -> None:
    signed = idp.sign(assertion(idp, assertion_id="_signed"))
    renamed = signed.replace('ID="_signed"', 'ID="_other"', 1)
    refused(metadata, response(idp, renamed))


def test_not_base64_or_not_xml_is_refused_in_plain_words(metadata: IdpMetadata) -> None:
    assert "well-formed" in str(refused(metadata, posted("<not xml")))
    doctype = '<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'
    assert "DTD" in str(refused(metadata, posted(doctype)))


def test_metadata_is_parsed_safely_and_says_what_is_missing(idp: SamlIdp) -> None:
    parsed = parse_idp_metadata(idp.metadata())
    assert parsed.entity_id == idp.entity_id
    assert parsed.sso_url == idp.sso_url
    assert parsed.certificates == (idp.keys.cert_b64,)
    assert IdpMetadata.from_settings(parsed.as_settings()) == parsed
    billion = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><l>&a;</l>'
    for bad, words in [
        (billion, "DTD"),
        ("<nope", "well-formed"),
        # An encryption-only key never vouches for an assertion.
        (idp.metadata().replace('use="signing"', 'use="encryption"'), "certificate"),
        (idp.metadata().replace(idp.sso_url, "http://idp.example.net/sso"), "https"),
        ("<x/>" + " " * 600_000, "larger"),
    ]:
        with pytest.raises(SsoSetupRefused) as caught:
            parse_idp_metadata(bad)
        assert words in str(caught.value)
        assert isinstance(caught.value, InvalidRequest)


def test_our_metadata_and_request_name_our_endpoints(idp: SamlIdp, metadata: IdpMetadata) -> None:
    xml = sp_metadata(SP)
    assert f'entityID="{SP.entity_id}"' in xml
    assert f'Location="{SP.acs_url}"' in xml
    request_id, url = authn_request(SP, metadata, "relay-1")
    assert url.startswith(idp.sso_url + "?SAMLRequest=")
    assert "RelayState=relay-1" in url
    assert request_id.startswith("ONELOGIN_")
