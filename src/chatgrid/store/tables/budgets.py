"""Monthly spending budgets an org sets on itself, its teams and its members.

One row per (org, scope, subject): the org (``subject_id`` is the org's id), a
team (its stable id) or a member. ``hard`` budgets refuse a call that could
pass them; soft ones only alert. ``thresholds`` are the percentages that
alert, as "50,80,100".
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, String, Table, UniqueConstraint

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

budgets = Table(
    "budgets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("scope", String(8), nullable=False),  # org | team | member
    Column("subject_id", ID, nullable=False),
    Column("limit_micros", BigInteger, nullable=False),
    Column("hard", Boolean, nullable=False),
    Column("thresholds", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=True),
    UniqueConstraint("org_id", "scope", "subject_id"),
)
