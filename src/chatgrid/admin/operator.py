"""The operator's console: tenants, pooled keys, margin, suspensions, trials, prices.

Numbers are month to date (UTC). Margin is what ChatGrid charged for
shared-credit calls minus what the pooled keys' upstream bills for them at
list price; BYOK calls are billed by the org's own upstream and count for
neither. Every action is written to the instance-wide audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

from chatgrid.admin import billing
from chatgrid.admin.orgs import set_operator_policy
from chatgrid.admin.prices import add_price, dollars_per_mtok
from chatgrid.audit import Actor
from chatgrid.billing.plans import Plan
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest, NotFound
from chatgrid.identity.models import Org, OrgStatus
from chatgrid.identity.users import has_control_characters
from chatgrid.ledger.pricing import Price
from chatgrid.store.credentials import StoredKey
from chatgrid.store.operator import OperatorRepository, TenantRow

MAX_POOL_WEIGHT = 1000
MAX_POOL_BUDGET = 100_000_000


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Tenant(TenantRow):
    """A tenant's row with what follows from it at a moment: on its trial, its margin."""

    on_trial: bool

    @property
    def margin_micros(self) -> int:
        return self.charged_micros - self.list_cost_micros

    @classmethod
    def at(cls, row: TenantRow, now: datetime) -> Tenant:
        trial = row.trial_ends_at
        on_trial = row.plan_name is None and trial is not None and trial > now
        return cls(**{f.name: getattr(row, f.name) for f in fields(row)}, on_trial=on_trial)


@dataclass(frozen=True)
class PoolKeyUsage:
    id: str
    name: str
    fingerprint: str
    last4: str
    weight: int
    status: str
    status_reason: str | None
    rpm_limit: int | None
    tpm_limit: int | None
    requests: int
    list_cost_micros: int


@dataclass(frozen=True)
class Margin:
    charged_micros: int
    list_cost_micros: int

    @property
    def margin_micros(self) -> int:
        return self.charged_micros - self.list_cost_micros


def tenants(ctx: AppContext, *, now: datetime | None = None) -> list[Tenant]:
    """Every tenant with its month-to-date usage (one query)."""
    now = now or _now()
    rows = OperatorRepository(ctx.engine).tenants(since=month_start(now))
    return [Tenant.at(row, now) for row in rows]


def tenant(ctx: AppContext, org_id: str, *, now: datetime | None = None) -> Tenant:
    """One tenant's row of the tenants table, reading only its own usage (404 for anything but
    an org id)."""
    now = now or _now()
    rows = OperatorRepository(ctx.engine).tenants(since=month_start(now), org_id=org_id)
    if not rows:
        raise NotFound("no such organization", code="org_not_found")
    return Tenant.at(rows[0], now)


def overall_margin(rows: list[Tenant]) -> Margin:
    return Margin(
        charged_micros=sum(t.charged_micros for t in rows),
        list_cost_micros=sum(t.list_cost_micros for t in rows),
    )


def pool_usage(ctx: AppContext, *, now: datetime | None = None) -> list[PoolKeyUsage]:
    """Every pooled key with its month-to-date calls and list cost (by fingerprint)."""
    usage = ctx.usage.per_fingerprint(since=month_start(now or _now()))
    out = []
    for key in ctx.pool.list():
        used = usage.get(key.sealed.fingerprint, {"requests": 0, "list_cost_micros": 0})
        out.append(
            PoolKeyUsage(
                id=key.id,
                name=key.name,
                fingerprint=key.sealed.fingerprint,
                last4=key.sealed.last4,
                weight=key.weight,
                status=key.status,
                status_reason=key.status_reason,
                rpm_limit=key.rpm_limit,
                tpm_limit=key.tpm_limit,
                requests=used["requests"],
                list_cost_micros=used["list_cost_micros"],
            )
        )
    return out


def plans(ctx: AppContext) -> list[Plan]:
    """Every plan, by name."""
    return sorted(ctx.plans.list(), key=lambda plan: plan.name)


def _org_name(ctx: AppContext, org_id: str) -> str:
    """The org's name; 404 unless ``org_id`` is an org's id (names are not accepted here)."""
    return ctx.orgs.by_id(org_id).name


def suspend(ctx: AppContext, actor: Actor, org_id: str, reason: str) -> None:
    """Every replica refuses the org's /v1 calls once this returns."""
    reason = reason.strip()
    if not 1 <= len(reason) <= 300 or has_control_characters(reason):
        raise InvalidRequest("give a reason of 1 to 300 characters", param="reason")
    name = _org_name(ctx, org_id)
    ctx.orgs.set_status(org_id, OrgStatus.SUSPENDED, reason)
    ctx.changes.bump()
    ctx.audit.record(None, actor, "org.suspended", org_id, {"org_name": name, "reason": reason})


def resume(ctx: AppContext, actor: Actor, org_id: str) -> None:
    name = _org_name(ctx, org_id)
    ctx.orgs.set_status(org_id, OrgStatus.ACTIVE)
    ctx.changes.bump()
    ctx.audit.record(None, actor, "org.resumed", org_id, {"org_name": name})


def extend_trial(
    ctx: AppContext, actor: Actor, org_id: str, days: int, *, now: datetime | None = None
) -> datetime:
    """The console's door to ``billing.extend_trial`` (its rules and audit): by org id only."""
    _org_name(ctx, org_id)
    account = billing.extend_trial(ctx, org_id, days, actor=actor, now=now)
    assert account.trial_ends_at is not None
    return account.trial_ends_at


def set_shared_allowed(ctx: AppContext, actor: Actor, org_ref: str, allowed: bool) -> Org:
    """Let an org use shared credits, or not; every server knows when this returns.

    Taking shared credits away from an org that is on them is refused rather
    than done halfway: the flag alone would leave its calls on the pool, and
    switching it to BYOK silently could strand an org without a key. Its
    admin (or ``chatgrid org mode ORG byok``) switches it first. The write is
    conditional on the mode (``OrgRepository.set_shared_allowed``), so an
    admin switching to shared credits at the same moment cannot be overtaken.
    """
    org = ctx.orgs.get(org_ref)
    if not ctx.orgs.set_shared_allowed(org.id, allowed):
        raise Conflict(
            f"{org.name} is on shared credits: switch it to BYOK first "
            f"(`chatgrid org mode {org.id} byok`), then take shared credits away",
            code="org_on_shared_credits",
        )
    ctx.changes.bump()
    ctx.audit.record(
        None, actor, "operator.shared_allowed", org.id, {"org_name": org.name, "allowed": allowed}
    )
    return ctx.orgs.by_id(org.id)


def price_book(ctx: AppContext) -> list[Price]:
    """Every dated price, by model then date."""
    return OperatorRepository(ctx.engine).prices()


def set_price(ctx: AppContext, actor: Actor, price: Price, *, today: date | None = None) -> Price:
    """A dated price from today or later (never retroactive), audited."""
    added = add_price(ctx, price, today=today)
    ctx.audit.record(
        None,
        actor,
        "price.added",
        price.model,
        {
            "effective_from": price.effective_from.isoformat(),
            "input_per_mtok": price.input_per_mtok,
            "cached_input_per_mtok": price.cached_input_per_mtok,
            "output_per_mtok": price.output_per_mtok,
        },
    )
    return added


def price_from_dollars(
    model: str,
    effective_from: date | None,
    input_usd: str,
    output_usd: str,
    cached_usd: str | None = None,
) -> Price:
    """A price from dollars per 1M tokens (exact); cached input defaults to the input price."""
    input_micros = dollars_per_mtok(input_usd, "input")
    return Price(
        model=model.strip(),
        effective_from=effective_from or _now().date(),
        input_per_mtok=input_micros,
        cached_input_per_mtok=(
            dollars_per_mtok(cached_usd, "cached_input") if cached_usd else input_micros
        ),
        output_per_mtok=dollars_per_mtok(output_usd, "output"),
    )


def _budget_value(value: int | None, name: str) -> int | None:
    if value is not None and not 1 <= value <= MAX_POOL_BUDGET:
        raise InvalidRequest(f"{name} is 1 to {MAX_POOL_BUDGET}, or empty for none", param=name)
    return value


def set_pool_budget(
    ctx: AppContext,
    actor: Actor,
    key_ref: str,
    *,
    weight: int,
    rpm_limit: int | None,
    tpm_limit: int | None,
) -> StoredKey:
    """A pooled key's weight and own per-minute budget; every server uses them once this returns."""
    if not 1 <= weight <= MAX_POOL_WEIGHT:
        raise InvalidRequest(f"weight is 1 to {MAX_POOL_WEIGHT}", param="weight")
    key = ctx.pool.get(key_ref)
    updated = ctx.pool.set_budget(
        key.id,
        weight=weight,
        rpm_limit=_budget_value(rpm_limit, "rpm_limit"),
        tpm_limit=_budget_value(tpm_limit, "tpm_limit"),
    )
    ctx.changes.bump()
    ctx.audit.record(
        None,
        actor,
        "pool_key.budget_set",
        key.id,
        {
            "name": key.name,
            "fingerprint": key.sealed.fingerprint,
            "weight": weight,
            "rpm_limit": updated.rpm_limit,
            "tpm_limit": updated.tpm_limit,
        },
    )
    return updated


OPERATOR_LIMITS = ("org_rpm", "org_tpm", "member_rpm", "member_tpm")


def operator_limits(ctx: AppContext, org_id: str) -> dict[str, int | None]:
    """The operator's per-org and per-member limits on a tenant (None: no limit)."""
    _org_name(ctx, org_id)
    policy = ctx.policies.operator(org_id)
    return {name: getattr(policy, name) for name in OPERATOR_LIMITS}


def set_operator_limits(
    ctx: AppContext, actor: Actor, org_id: str, limits: dict[str, int | None]
) -> dict[str, int | None]:
    """Replace the operator's limits on a tenant; in force on every server when this returns.

    They apply to shared-credit calls only, on top of the org admin's own
    limits; a BYOK org is never limited by them.
    """
    name = _org_name(ctx, org_id)
    unknown = set(limits) - set(OPERATOR_LIMITS)
    if unknown:
        raise InvalidRequest(f"unknown limit {sorted(unknown)[0]}", param=sorted(unknown)[0])
    current = ctx.policies.operator(org_id)
    set_operator_policy(ctx, org_id, current.with_changes(**limits))
    saved = operator_limits(ctx, org_id)
    ctx.audit.record(None, actor, "operator.limits_updated", org_id, {"org_name": name, **saved})
    return saved
