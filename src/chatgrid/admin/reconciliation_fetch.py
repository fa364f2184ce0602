"""ChatGrid reads an org's OpenAI Usage and Costs APIs itself, with an admin key the org stores.

An admin key (``sk-admin-…``) reads the whole OpenAI organization's usage,
so it is a secret like any upstream key: sealed by the vault (bound to the
org), rewrapped when the master key rotates, shown as its last four
characters only, never logged, audited by fingerprint. Its base URL is the
org's OpenAI key's (a proxy or a test's simulator serves both). The pages
fetched are reconciled exactly as an uploaded file is
(:func:`chatgrid.admin.reconciliation.reconcile_usage`); the Costs API's
spend per day is put beside the ledger's list cost for the same days.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import aiohttp

from chatgrid.admin.reconciliation import MAX_USAGE_BYTES, reconcile_usage
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest, NotFound, UpstreamFailed, UpstreamRefused
from chatgrid.governance.reconciliation_costs import cost_lines, openai_costs
from chatgrid.providers.base import OPENAI_BASE_URL, Provider
from chatgrid.providers.network import create_upstream_session
from chatgrid.settings import Settings
from chatgrid.store.reconciliation_keys import ReconciliationKeyRepository
from chatgrid.store.types import utcnow
from chatgrid.vault import Vault

ADMIN_KEY_PREFIX = "sk-admin-"
DEFAULT_DAYS = 7
MAX_DAYS = 90
#: Pages of one fetch: 90 days are 3 usage pages of 31 days and one costs page.
MAX_PAGES = 10
TIMEOUT_SECONDS = 30.0
_TIMEOUT = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)


def admin_keys(ctx: AppContext) -> ReconciliationKeyRepository:
    return ReconciliationKeyRepository(ctx.engine)


def key_binding(org_id: str) -> str:
    """What the sealed key is bound to: copied into another org's row, it does not open."""
    return f"reconciliation_key:{org_id}"


def set_admin_key(
    ctx: AppContext, org_ref: str, actor: Actor, key: str, *, api_key_id: str | None = None
) -> dict[str, Any]:
    """Store (or replace) the org's admin key; the answer names it by its last four only."""
    org = ctx.orgs.get(org_ref)
    key = key.strip()
    if not key.startswith(ADMIN_KEY_PREFIX) or len(key) > 500 or not key.isascii():
        raise InvalidRequest(
            "an OpenAI admin key starts with sk-admin- (Organization settings → Admin keys)",
            param="admin_key",
        )
    if api_key_id is not None and (not api_key_id.startswith("key_") or len(api_key_id) > 100):
        raise InvalidRequest("an OpenAI API key id starts with key_", param="api_key_id")
    sealed = ctx.vault.seal(key, binding=key_binding(org.id))
    admin_keys(ctx).put(org.id, sealed, api_key_id=api_key_id, updated_by=actor.email)
    details = {"fingerprint": sealed.fingerprint, "api_key_id": api_key_id}
    ctx.audit.record(org.id, actor, "reconciliation.key_set", org.id, details)
    return admin_key_status(ctx, org.id)


def remove_admin_key(ctx: AppContext, org_ref: str, actor: Actor) -> dict[str, Any]:
    org = ctx.orgs.get(org_ref)
    if not admin_keys(ctx).remove(org.id):
        raise NotFound("the org has no OpenAI admin key", code="admin_key_not_found")
    ctx.audit.record(org.id, actor, "reconciliation.key_removed", org.id, {})
    return admin_key_status(ctx, org.id)


def admin_key_status(ctx: AppContext, org_ref: str) -> dict[str, Any]:
    """What may be shown of the key: never the key (its last four characters only)."""
    org = ctx.orgs.get(org_ref)
    stored = admin_keys(ctx).get(org.id)
    if stored is None:
        return {"org_id": org.id, "admin_key": None}
    return {
        "org_id": org.id,
        "admin_key": {
            "last4": stored.sealed.last4,
            "fingerprint": stored.sealed.fingerprint,
            "api_key_id": stored.api_key_id,
            "updated_at": stored.updated_at.isoformat(),
            "updated_by": stored.updated_by,
        },
    }


def fetch_and_reconcile(
    ctx: AppContext,
    org_ref: str,
    actor: Actor,
    *,
    days: int = DEFAULT_DAYS,
    threshold: int = 0,
) -> dict[str, Any]:
    """The last ``days`` days (today included) from OpenAI, reconciled with the ledger."""
    org = ctx.orgs.get(org_ref)
    if not 1 <= days <= MAX_DAYS:
        raise InvalidRequest(f"read 1 to {MAX_DAYS} days", param="days")
    stored = admin_keys(ctx).get(org.id)
    if stored is None:
        raise NotFound("the org has no OpenAI admin key", code="admin_key_not_found")
    key = ctx.vault.open(stored.sealed, binding=key_binding(org.id))
    first_day = utcnow().date() - timedelta(days=days - 1)
    query: dict[str, Any] = {
        "start_time": int(datetime.combine(first_day, time(), UTC).timestamp()),
        "bucket_width": "1d",
    }
    if stored.api_key_id is not None:
        query["api_key_ids"] = stored.api_key_id
    base = _openai_base_url(ctx, org.id)
    usage, costs = asyncio.run(_fetch(ctx.settings, base, key, query))
    found = reconcile_usage(
        ctx, org.id, actor, usage, api_key_id=stored.api_key_id, threshold=threshold
    )
    until = datetime.combine(utcnow().date() + timedelta(days=1), time(), UTC)
    since = datetime.combine(first_day, time(), UTC)
    ledger: dict[date, int] = defaultdict(int)
    for started_at, micros in ctx.usage.byok_openai_list_cost(org.id, since=since, until=until):
        ledger[started_at.astimezone(UTC).date()] += micros
    lines = cost_lines(openai_costs(costs), ledger)
    return {**found, "source": "openai", "costs": [line.public() for line in lines]}


def rewrap_admin_keys(ctx: AppContext, vault: Vault) -> tuple[int, list[str]]:
    """Every org's admin key under the vault's current master (``vault rotate-master``)."""
    repository = admin_keys(ctx)
    stored = [(k.org_id, key_binding(k.org_id), k.sealed) for k in repository.all_sealed()]
    return vault.rewrap_each(stored, repository.store_rewrapped)


def _openai_base_url(ctx: AppContext, org_id: str) -> str:
    """The org's OpenAI key's base URL (OpenAI's own when the org has none)."""
    for stored in ctx.credentials.active(org_id):
        if stored.config.provider == Provider.OPENAI:
            return stored.config.base_url.rstrip("/")
    return OPENAI_BASE_URL


async def _fetch(
    settings: Settings, base: str, key: str, query: dict[str, Any]
) -> tuple[list[Any], list[Any]]:
    """Usage and costs pages through the upstream pool's guard: a base URL that is, or
    resolves to, a private address is refused as the socket connects (as for ``/v1``)."""
    async with create_upstream_session(settings) as http:
        usage = await _pages(http, f"{base}/organization/usage/completions", key, query, "model")
        costs = await _pages(http, f"{base}/organization/costs", key, query, "line_item")
    return usage, costs


async def _pages(
    http: aiohttp.ClientSession, url: str, key: str, query: dict[str, Any], group: str
) -> list[Any]:
    """Every page from ``start_time`` on, following ``next_page``; amounts as ``Decimal``."""
    pages: list[Any] = []
    params = {**query, "group_by": group, "limit": 31}
    headers = {"Authorization": f"Bearer {key}"}
    for _ in range(MAX_PAGES):
        try:
            async with http.get(
                url, params=params, headers=headers, allow_redirects=False, timeout=_TIMEOUT
            ) as answer:
                status = answer.status
                body = await answer.content.read(MAX_USAGE_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise UpstreamFailed(f"OpenAI could not be reached: {type(exc).__name__}") from None
        if status in (401, 403):
            raise UpstreamRefused(
                f"OpenAI refused the admin key ({status}): replace it", code="admin_key_rejected"
            )
        if status != 200 or len(body) > MAX_USAGE_BYTES:
            raise UpstreamFailed(f"OpenAI answered {status} to {url.rsplit('/', 1)[-1]}")
        try:
            page = json.loads(body, parse_float=Decimal)
        except ValueError:
            raise UpstreamFailed("OpenAI's answer is not JSON") from None
        pages.append(page)
        if not isinstance(page, dict) or not page.get("has_more") or not page.get("next_page"):
            return pages
        params = {**params, "page": str(page["next_page"])}
    return pages
