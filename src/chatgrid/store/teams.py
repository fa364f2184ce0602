"""Teams inside an org and who is in them: the one writer of ``teams`` and ``team_members``.

Every method takes the org id, so a team of another org is simply not found.
A member leaving the org leaves their teams in the same transaction
(``AccountRepository.remove`` calls ``leave_teams`` with its connection).

Adding a member locks the org's row (as a member's removal does, first), then
the team's and the member's, so it cannot interleave with the team's deletion
or the member's removal: either it runs before them (and they take the new row
away) or after (and it finds nothing); taking the org's row first keeps the
two from waiting on each other's locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, RowMapping, delete, exists, func, literal, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.errors import Conflict, NotFound
from chatgrid.store.ids import new_id
from chatgrid.store.tables import ID, members, orgs, team_members, teams, users
from chatgrid.store.types import UTCDateTime, utcnow


@dataclass(frozen=True)
class Team:
    id: str
    org_id: str
    name: str
    created_at: datetime
    member_count: int
    scim_group: str | None = None  # the SCIM group it mirrors (None: its members are set by hand)


@dataclass(frozen=True)
class TeamMember:
    member_id: str
    email: str
    role: str
    added_at: datetime


def team_not_found() -> NotFound:
    return NotFound("no such team", code="team_not_found", param="team")


def _name_taken(name: str) -> Conflict:
    return Conflict(f"a team named {name!r} exists already", code="team_exists", param="name")


def leave_teams(conn: Connection, org_id: str, member_id: str) -> int:
    """The member leaves every team of the org (their removal from the org calls this)."""
    result = conn.execute(
        delete(team_members).where(
            team_members.c.org_id == org_id, team_members.c.member_id == member_id
        )
    )
    return int(result.rowcount)


_COUNTED = team_members.alias("counted")
_COUNT = (
    select(func.count())
    .select_from(_COUNTED)
    .where(_COUNTED.c.team_id == teams.c.id)
    .correlate(teams)
    .scalar_subquery()
    .label("member_count")
)
_TEAM = select(
    teams.c.id, teams.c.org_id, teams.c.name, teams.c.created_at, _COUNT, teams.c.scim_group
)


def _team(r: RowMapping) -> Team:
    return Team(
        r["id"], r["org_id"], r["name"], r["created_at"], int(r["member_count"]), r["scim_group"]
    )


class TeamRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, org_id: str, name: str) -> Team:
        team_id = new_id("team")
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    teams.insert().values(id=team_id, org_id=org_id, name=name, created_at=utcnow())
                )
        except IntegrityError:
            raise _name_taken(name) from None
        return self.get(org_id, team_id)

    def get(self, org_id: str, team_id: str) -> Team:
        with self.engine.connect() as conn:
            row = (
                conn.execute(_TEAM.where(teams.c.org_id == org_id, teams.c.id == team_id))
                .mappings()
                .first()
            )
        if row is None:
            raise team_not_found()
        return _team(row)

    def find(self, org_id: str, ref: str) -> Team:
        """A team named by its id or its exact name (what the command line takes)."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(_TEAM.where(teams.c.org_id == org_id, teams.c.id == ref))
                .mappings()
                .first()
            )
            if row is None:
                row = (
                    conn.execute(_TEAM.where(teams.c.org_id == org_id, teams.c.name == ref.strip()))
                    .mappings()
                    .first()
                )
        if row is None:
            raise NotFound(f"no team {ref!r} in this org", code="team_not_found", param="team")
        return _team(row)

    def rename(self, org_id: str, team_id: str, name: str) -> Team:
        try:
            with self.engine.begin() as conn:
                changed = conn.execute(
                    update(teams)
                    .where(teams.c.org_id == org_id, teams.c.id == team_id)
                    .values(name=name)
                ).rowcount
        except IntegrityError:
            raise _name_taken(name) from None
        if changed == 0:
            raise team_not_found()
        return self.get(org_id, team_id)

    def delete(self, org_id: str, team_id: str) -> Team:
        """Delete the team and its memberships (the members stay in the org)."""
        with self.engine.begin() as conn:
            team = self._locked_team(conn, org_id, team_id)
            conn.execute(delete(team_members).where(team_members.c.team_id == team_id))
            conn.execute(delete(teams).where(teams.c.id == team_id))
        return team

    def add_member(self, org_id: str, team_id: str, member_id: str) -> bool:
        """Put an active member of the org in the team; False if they were in it already.

        One ``INSERT ... SELECT`` whose returned row decides, so SQLite (which takes
        no row locks) cannot slip a row in after the member left or the team went;
        on PostgreSQL the locks taken first make the same true under READ COMMITTED.
        """
        with self.engine.begin() as conn:
            conn.execute(select(orgs.c.id).where(orgs.c.id == org_id).with_for_update())
            self._locked_team(conn, org_id, team_id)
            active = (
                members.c.org_id == org_id,
                members.c.id == member_id,
                members.c.status == "active",
            )
            conn.execute(select(members.c.id).where(*active).with_for_update())
            candidate = (
                select(
                    teams.c.id,
                    members.c.id,
                    literal(org_id, ID),
                    literal(utcnow(), UTCDateTime()),
                )
                .select_from(teams.join(members, members.c.org_id == teams.c.org_id))
                .where(teams.c.org_id == org_id, teams.c.id == team_id, *active)
                .where(
                    ~exists().where(
                        team_members.c.team_id == team_id, team_members.c.member_id == member_id
                    )
                )
            )
            inserted = conn.execute(
                team_members.insert()
                .from_select(["team_id", "member_id", "org_id", "added_at"], candidate)
                .returning(team_members.c.member_id)
            ).first()
            if inserted is not None:
                return True
            self._locked_team(conn, org_id, team_id)  # a team_not_found if it went meanwhile
            if conn.execute(select(members.c.id).where(*active)).first() is None:
                raise NotFound("no such member", code="member_not_found", param="member")
        return False

    def remove_member(self, org_id: str, team_id: str, member_id: str) -> bool:
        """Take a member out of the team; False if they were not in it."""
        self.get(org_id, team_id)
        with self.engine.begin() as conn:
            removed = conn.execute(
                delete(team_members).where(
                    team_members.c.org_id == org_id,
                    team_members.c.team_id == team_id,
                    team_members.c.member_id == member_id,
                )
            ).rowcount
        return bool(removed)

    def link(self, org_id: str, team_id: str, group_name: str | None) -> Team:
        """Make the team follow the SCIM group named ``group_name`` (None: by hand again)."""
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(teams)
                .where(teams.c.org_id == org_id, teams.c.id == team_id)
                .values(scim_group=group_name)
            ).rowcount
        if changed == 0:
            raise team_not_found()
        return self.get(org_id, team_id)

    def following(self, org_id: str, group_names: set[str]) -> list[Team]:
        """The org's teams that follow any of these SCIM groups."""
        if not group_names:
            return []
        query = _TEAM.where(teams.c.org_id == org_id, teams.c.scim_group.in_(sorted(group_names)))
        with self.engine.connect() as conn:
            return [_team(r) for r in conn.execute(query).mappings()]

    def mirror(self, org_id: str, team_id: str, member_ids: set[str]) -> tuple[int, int]:
        """Make the team's members exactly the org's active members among ``member_ids``.

        (added, removed). The team's row is locked first, so two mirrors of one
        team (two replicas taking the IdP's pushes) apply one after the other.
        """
        with self.engine.begin() as conn:
            self._locked_team(conn, org_id, team_id)
            wanted = set(
                conn.execute(
                    select(members.c.id).where(
                        members.c.org_id == org_id,
                        members.c.status == "active",
                        members.c.id.in_(sorted(member_ids)),
                    )
                ).scalars()
            )
            current = set(
                conn.execute(
                    select(team_members.c.member_id).where(team_members.c.team_id == team_id)
                ).scalars()
            )
            gone, new = current - wanted, wanted - current
            if gone:
                conn.execute(
                    delete(team_members).where(
                        team_members.c.team_id == team_id,
                        team_members.c.member_id.in_(sorted(gone)),
                    )
                )
            if new:
                now = utcnow()
                conn.execute(
                    team_members.insert(),
                    [
                        {"team_id": team_id, "member_id": m, "org_id": org_id, "added_at": now}
                        for m in sorted(new)
                    ],
                )
        return len(new), len(gone)

    def members_of(self, org_id: str, team_id: str) -> list[TeamMember]:
        """The team's members by email (unknown team: ``team_not_found``)."""
        self.get(org_id, team_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    team_members.c.member_id,
                    users.c.email,
                    members.c.role,
                    team_members.c.added_at,
                )
                .join(members, members.c.id == team_members.c.member_id)
                .join(users, users.c.id == members.c.user_id)
                .where(team_members.c.org_id == org_id, team_members.c.team_id == team_id)
                .order_by(users.c.email)
            ).mappings()
            return [TeamMember(r["member_id"], r["email"], r["role"], r["added_at"]) for r in rows]

    def teams_of(self, org_id: str, member_id: str) -> list[Team]:
        """The teams a member is in (later: the team budgets a call of theirs counts against)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                _TEAM.join(team_members, team_members.c.team_id == teams.c.id)
                .where(teams.c.org_id == org_id, team_members.c.member_id == member_id)
                .order_by(teams.c.name, teams.c.id)
            ).mappings()
            return [_team(r) for r in rows]

    @staticmethod
    def _locked_team(conn: Connection, org_id: str, team_id: str) -> Team:
        conn.execute(
            select(teams.c.id)
            .where(teams.c.org_id == org_id, teams.c.id == team_id)
            .with_for_update()
        )
        row = (
            conn.execute(_TEAM.where(teams.c.org_id == org_id, teams.c.id == team_id))
            .mappings()
            .first()
        )
        if row is None:
            raise team_not_found()
        return _team(row)

    def list(self, org_id: str) -> list[Team]:
        """The org's teams by name, each with its number of members."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                _TEAM.where(teams.c.org_id == org_id).order_by(teams.c.name, teams.c.id)
            ).mappings()
            return [_team(r) for r in rows]
