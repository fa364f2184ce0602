"""Org-wide settings from the console (billing mode, limits and models) and the overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from chatgrid.admin import orgs
from chatgrid.admin.credentials import CredentialStatus, credential_status
from chatgrid.audit import Actor
from chatgrid.chat.model_kinds import chat_models
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest
from chatgrid.identity.models import BillingMode, Org
from chatgrid.identity.users import has_control_characters
from chatgrid.limits.policy import OrgPolicy
from chatgrid.store.types import utcnow


@dataclass(frozen=True)
class MonthUsage:
    since: datetime
    requests: int
    prompt_tokens: int
    completion_tokens: int
    list_cost_micros: int
    charged_micros: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Overview:
    org: Org
    seats: int
    credential: CredentialStatus | None
    usage: MonthUsage
    #: On shared credits: the chat models the operator's pool serves the org now.
    pool_models: tuple[str, ...] = ()

    @property
    def shared_allowed(self) -> bool:
        return self.org.shared_allowed

    @property
    def trial_ends_at(self) -> datetime | None:
        return self.org.trial_ends_at


def start_of_month(now: datetime) -> datetime:
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def overview(ctx: AppContext, org_id: str) -> Overview:
    org = ctx.orgs.by_id(org_id)
    since = start_of_month(utcnow())
    totals = ctx.usage.totals(org_id, since=since)
    return Overview(
        org=org,
        seats=ctx.members.count_active(org_id),
        credential=credential_status(ctx, org_id),
        usage=MonthUsage(since=since, **totals),
        pool_models=(
            tuple(shared_chat_models(ctx, org_id)) if org.billing_mode is BillingMode.SHARED else ()
        ),
    )


def shared_chat_models(ctx: AppContext, org_id: str) -> list[str]:
    """The chat models the operator's pooled keys can serve this org: priced, on an
    active key, and allowed by the org's list (the gateway's own rule, ``models_for``)."""
    priced = set(ctx.prices.book().models())
    served: set[str] = set()
    for key in ctx.pool.list(usable_only=True):
        served |= set(key.models) or priced
    policy = ctx.policies.get(org_id)
    usable = sorted(m for m in priced & served if policy.allows(m))
    return chat_models(usable, ctx.settings.embedding_model)


def switch_mode(ctx: AppContext, org_id: str, actor: Actor, mode: BillingMode) -> Org:
    """BYOK ↔ shared credits (shared only where the operator allows it), audited.

    Shared credits are refused while no pooled key can serve a chat model the
    org allows: the switch would only trade a working key for refusals.
    """
    before = ctx.orgs.by_id(org_id)
    if (
        mode is BillingMode.SHARED
        and before.billing_mode is not BillingMode.SHARED
        and before.shared_allowed
        and not shared_chat_models(ctx, org_id)
    ):
        raise Conflict(
            "Shared credits cannot serve this organization yet: no pooled key offers a chat "
            "model it allows, so every chat would be refused. Ask the operator to add a pooled "
            "key, or allow a model the pool serves on the Limits & models page.",
            param="mode",
            code="shared_pool_cannot_serve",
        )
    switched = orgs.switch_mode(ctx, org_id, mode)
    ctx.audit.record(
        org_id,
        actor,
        "org.mode_switched",
        org_id,
        {"from": before.billing_mode.value, "to": mode.value},
    )
    return switched


def update_policy(ctx: AppContext, org_id: str, actor: Actor, policy: OrgPolicy) -> OrgPolicy:
    if any(has_control_characters(m) for m in policy.allowed_models or ()):
        raise InvalidRequest("model names have no control characters", param="allowed_models")
    before = ctx.policies.get(org_id)
    saved = orgs.set_policy(ctx, org_id, policy, actor=actor.email)
    ctx.audit.record(
        org_id,
        actor,
        "policy.updated",
        org_id,
        {"before": before.public(), "after": saved.public()},
    )
    return saved
