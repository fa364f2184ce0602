"""Bodies of the usage-analytics API (money in integer micro-dollars), each beside its
converter. The operator's bodies are in ``operator_schemas``."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from chatgrid.admin.analytics import UsageQuery
from chatgrid.analytics.usage import Bucket, UsageReport


class UnitCountPublic(BaseModel):
    kind: str = Field(description="images, audio_ms, characters or inputs")
    variant: str = Field(description="An image's size/quality; empty for other kinds")
    count: int


class BucketPublic(BaseModel):
    key: str = Field(description="The day (YYYY-MM-DD), member id or model")
    label: str
    requests: int
    tokens: int
    list_cost_micros: int = Field(description="What the upstream bills at list price")
    charged_micros: int = Field(description="What ChatGrid charged (shared credits only)")
    images: int = Field(description="Images generated")
    audio_ms: int = Field(description="Milliseconds of audio transcribed")
    characters: int = Field(description="Characters turned into speech")
    inputs: int = Field(description="Moderation inputs")
    units: list[UnitCountPublic] = Field(description="The units per kind and variant")


def bucket_public(bucket: Bucket) -> BucketPublic:
    return BucketPublic.model_validate(bucket.as_dict())


class UsageReportPublic(BaseModel):
    since: date
    until: date = Field(description="The last day included (UTC)")
    member_id: str | None
    model: str | None
    total: BucketPublic
    days: list[BucketPublic]
    members: list[BucketPublic]
    models: list[BucketPublic]


def usage_report_public(query: UsageQuery, report: UsageReport) -> UsageReportPublic:
    return UsageReportPublic(
        since=query.since,
        until=query.until,
        member_id=query.member_id,
        model=query.model,
        total=bucket_public(report.total),
        days=[bucket_public(b) for b in report.days],
        members=[bucket_public(b) for b in report.members],
        models=[bucket_public(b) for b in report.models],
    )
