"""Bodies of teams inside an org, each beside its converter."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from chatgrid.store.teams import Team, TeamMember
from chatgrid.web.api.schemas import Strict


class TeamCreate(Strict):
    name: str = Field(
        max_length=1000, description="1 to 100 characters once trimmed; unique in the org."
    )


class TeamUpdate(Strict):
    name: str | None = Field(
        default=None, max_length=1000, description="The new name (the id and the members stay)."
    )
    scim_group: str | None = Field(
        default=None,
        max_length=1000,
        description=(
            "The displayName of a SCIM group whose members the team then mirrors; null stops "
            "following (the members stay, set by hand from then on). Leave out to keep as is."
        ),
    )


class TeamPublic(BaseModel):
    id: str = Field(description="Stable: a rename keeps it.")
    name: str
    member_count: int = Field(description="How many members the team has.")
    created_at: datetime
    scim_group: str | None = Field(
        default=None,
        description="The SCIM group the team mirrors (its members come from the IdP); null: none.",
    )


def team_public(team: Team) -> TeamPublic:
    return TeamPublic(
        id=team.id,
        name=team.name,
        member_count=team.member_count,
        created_at=team.created_at,
        scim_group=team.scim_group,
    )


class TeamMemberPublic(BaseModel):
    member_id: str
    email: str
    role: str
    added_at: datetime


def team_member_public(member: TeamMember) -> TeamMemberPublic:
    return TeamMemberPublic(
        member_id=member.member_id, email=member.email, role=member.role, added_at=member.added_at
    )


class TeamDetail(TeamPublic):
    members: list[TeamMemberPublic] = Field(description="The team's members by email.")


def team_detail(team: Team, members: list[TeamMember]) -> TeamDetail:
    return TeamDetail(
        **team_public(team).model_dump(),
        members=[team_member_public(m) for m in members],
    )
