"""Bodies of single sign-on, each beside its converter. No response carries the client
secret: only its fingerprint and last four characters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from chatgrid.admin.sso import ConnectionTest
from chatgrid.identity.models import Role
from chatgrid.identity.saml import ServiceProvider
from chatgrid.identity.sso import SsoConnection, SsoProtocol
from chatgrid.web.api.schemas import Strict

#: A role in a JSON body: its value (``"admin"``); strict mode would want the Python member.
LaxRole = Annotated[Role, Field(strict=False)]


class OidcUpdate(Strict):
    issuer: str = Field(max_length=600, description="The provider's issuer, exactly.")
    client_id: str = Field(max_length=600)
    client_secret: str | None = Field(
        default=None,
        max_length=1200,
        description="Required the first time; leave out to keep the current one.",
    )
    groups_claim: str | None = Field(
        default=None, max_length=200, description="The ID token claim listing groups."
    )
    role_map: dict[str, LaxRole] = Field(
        default_factory=dict,
        description="Group name → role; the highest role of a person's groups applies.",
    )
    default_role: Role = Field(default=Role.MEMBER, strict=False)


class SamlUpdate(Strict):
    metadata_url: str | None = Field(
        default=None,
        max_length=600,
        description="The IdP's metadata URL (https), fetched now; or give metadata_xml.",
    )
    metadata_xml: str | None = Field(
        default=None, max_length=512 * 1024, description="The IdP's metadata XML, pasted."
    )
    groups_attribute: str | None = Field(
        default=None, max_length=200, description="The assertion attribute listing groups."
    )
    role_map: dict[str, LaxRole] = Field(
        default_factory=dict,
        description="Group name → role; the highest role of a person's groups applies.",
    )
    default_role: Role = Field(default=Role.MEMBER, strict=False)


class EnforcementUpdate(Strict):
    enforced: bool = Field(
        description="True: password sign-in is refused for addresses on the org's verified "
        "domains (owners keep their recovery codes)."
    )


class SamlSpPublic(BaseModel):
    """What to give a SAML IdP about us."""

    entity_id: str = Field(description="Our entity ID (audience); also our metadata URL.")
    acs_url: str = Field(description="The Assertion Consumer Service URL (HTTP-POST).")
    metadata_url: str


class SsoPublic(BaseModel):
    id: str
    protocol: Literal["oidc", "saml"]
    issuer: str
    client_id: str | None
    secret_fingerprint: str | None
    secret_last4: str | None
    groups_claim: str | None
    role_map: dict[str, Role]
    default_role: Role
    enforced: bool
    redirect_uri: str = Field(description="What to register at an OIDC provider.")
    saml: SamlSpPublic | None = Field(
        default=None, description="For a SAML IdP: what to give it (null for OIDC)."
    )
    updated_at: datetime
    updated_by: str | None


def sso_public(
    connection: SsoConnection, redirect_uri: str, saml_sp: ServiceProvider | None = None
) -> SsoPublic:
    sealed = connection.sealed_secret
    saml = connection.protocol is SsoProtocol.SAML and saml_sp is not None
    return SsoPublic(
        id=connection.id,
        protocol="saml" if connection.protocol is SsoProtocol.SAML else "oidc",
        issuer=connection.issuer,
        client_id=connection.client_id,
        secret_fingerprint=sealed.fingerprint if sealed else None,
        secret_last4=sealed.last4 if sealed else None,
        groups_claim=connection.groups_claim,
        role_map=dict(connection.role_map),
        default_role=connection.default_role,
        enforced=connection.enforced,
        redirect_uri=redirect_uri,
        saml=SamlSpPublic(
            entity_id=saml_sp.entity_id, acs_url=saml_sp.acs_url, metadata_url=saml_sp.entity_id
        )
        if saml and saml_sp is not None
        else None,
        updated_at=connection.updated_at,
        updated_by=connection.updated_by,
    )


class TestStepPublic(BaseModel):
    step: str
    ok: bool
    detail: str = Field(description="What was found, or what is wrong, in plain words.")


class ConnectionTestPublic(BaseModel):
    ok: bool
    steps: list[TestStepPublic]


def connection_test_public(result: ConnectionTest) -> ConnectionTestPublic:
    return ConnectionTestPublic(
        ok=result.ok,
        steps=[TestStepPublic(step=s, ok=ok, detail=d) for s, ok, d in result.steps],
    )
