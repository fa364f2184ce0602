"""How long an org's data is kept, and the lease that makes one replica sweep at a time.

``retention_policies`` has one row per org that set its own periods and one
for the instance (``scope`` ``instance``), whose periods are a ceiling on
every org's and whose ``ledger_days`` is the legal period of the ledger. A
null period is "forever". ``job_leases`` holds, per background job, which
process runs it until when.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

retention_policies = Table(
    "retention_policies",
    metadata,
    Column("scope", ID, primary_key=True),  # an org's id, or "instance"
    Column("conversations_days", Integer, nullable=True),
    Column("documents_days", Integer, nullable=True),
    Column("audit_days", Integer, nullable=True),
    Column("ledger_days", Integer, nullable=True),  # the instance's only
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=True),
)

job_leases = Table(
    "job_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("lease_until", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
)
