"""Usage analytics for org admins: charts per day, member and model, filters, CSV."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import analytics, reports
from chatgrid.analytics import charts, usage
from chatgrid.errors import ChatGridError
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin
from chatgrid.web.pages.common import form_action, render
from chatgrid.web.state import ConsoleState

router = APIRouter()


def chart(title: str, buckets: list[usage.Bucket], metric: str) -> Markup:
    label, value, fmt = usage.METRICS[metric]
    points = [charts.Point(b.label, value(b)) for b in buckets]
    return charts.bar_chart(f"{label} {title}", points, fmt=fmt, css_class=f"metric-{metric}")


def _query(since: str, until: str, member: str, model: str) -> analytics.UsageQuery:
    return analytics.usage_query(
        analytics.parse_day(since, "since"),
        analytics.parse_day(until, "until"),
        member.strip() or None,
        model.strip() or None,
    )


def _usage_page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    metric: str,
    filters: dict[str, str],
    report: usage.UsageReport | None = None,
    usage_query: analytics.UsageQuery | None = None,
    refused: ChatGridError | None = None,
) -> Response:
    ctx = state.ctx
    charts_ = {}
    if report is not None:
        charts_ = {
            "day": chart("per day", report.days, metric),
            "member": chart("per member", report.members, metric),
            "model": chart("per model", report.models, metric),
        }
    return render(
        request,
        state,
        "usage.html",
        access=access,
        section="usage",
        report=report,
        usage_query=usage_query,
        charts=charts_,
        metric=metric,
        metrics={k: v[0] for k, v in usage.METRICS.items()},
        members=ctx.members.list(access.org.id),
        models=ctx.usage.models_used(access.org.id),
        filters=filters,
        dollars=usage.dollars,
        query=request.url.query,
        refused=refused,
    )


@router.get("/orgs/{org_id}/usage")
def usage_page(
    request: Request,
    state: Console,
    access: OrgAdmin,
    since: str = "",
    until: str = "",
    member: str = "",
    model: str = "",
    metric: str = "tokens",
) -> Response:
    """Filters that do not parse show the page again with the message, like a form."""
    filters = {"since": since, "until": until, "member": member, "model": model}
    metric = metric if metric in usage.METRICS else "tokens"
    page = partial(_usage_page, request, state, access, metric=metric, filters=filters)

    def show() -> Response:
        query = _query(since, until, member, model)
        report = analytics.usage_report(state.ctx, access.org.id, query)
        return page(report=report, usage_query=query)

    return form_action(show, page)


@router.get("/orgs/{org_id}/usage.csv")
def usage_csv(
    state: Console,
    access: OrgAdmin,
    since: str = "",
    until: str = "",
    member: str = "",
    model: str = "",
) -> Response:
    report = analytics.usage_report(state.ctx, access.org.id, _query(since, until, member, model))
    body = reports.to_csv(analytics.CSV_COLUMNS, analytics.csv_rows(report))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="usage-{access.org.id}.csv"'},
    )
