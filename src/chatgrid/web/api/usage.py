"""Usage analytics through the API (admins only): sums per day, member and model."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from chatgrid.admin import analytics, dates, reports
from chatgrid.web.api.params import Day
from chatgrid.web.api.usage_schemas import UsageReportPublic, usage_report_public
from chatgrid.web.deps import Console, OrgAdmin

router = APIRouter(tags=["usage"])

Name = Annotated[str | None, Query(max_length=100)]


def _query(
    since: str | None, until: str | None, member: str | None, model: str | None
) -> analytics.UsageQuery:
    return analytics.usage_query(
        dates.parse_day(since, "since"), dates.parse_day(until, "until"), member, model
    )


@router.get(
    "/api/orgs/{org_id}/usage",
    response_model=UsageReportPublic,
    summary="Usage per day, member and model (the last 30 days by default)",
)
def usage_report(
    state: Console,
    access: OrgAdmin,
    since: Day = None,
    until: Day = None,
    member: Name = None,
    model: Name = None,
) -> UsageReportPublic:
    query = _query(since, until, member, model)
    return usage_report_public(query, analytics.usage_report(state.ctx, access.org.id, query))


@router.get(
    "/api/orgs/{org_id}/usage.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="Usage per day, member and model as CSV",
)
def usage_csv(
    state: Console,
    access: OrgAdmin,
    since: Day = None,
    until: Day = None,
    member: Name = None,
    model: Name = None,
) -> Response:
    query = _query(since, until, member, model)
    report = analytics.usage_report(state.ctx, access.org.id, query)
    body = reports.to_csv(analytics.CSV_COLUMNS, analytics.csv_rows(report))
    return Response(body, media_type="text/csv; charset=utf-8")
