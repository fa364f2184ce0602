"""Teams inside an org: named groups of members (a member may be in several).

A team's id is meant to become a budget scope later (reservations per team), so
it is a stable prefixed id (``team_…``) and renaming a team never changes it.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

teams = Table(
    "teams",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The displayName of the SCIM group whose members the team mirrors (null: set by hand).
    Column("scim_group", String(255), nullable=True),
    UniqueConstraint("org_id", "name"),
)

# ``org_id`` repeats the team's org so every query can be scoped to the org without a join.
team_members = Table(
    "team_members",
    metadata,
    Column("team_id", ID, ForeignKey("teams.id"), primary_key=True),
    Column("member_id", ID, ForeignKey("members.id"), primary_key=True, index=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)
