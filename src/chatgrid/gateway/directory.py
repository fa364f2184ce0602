"""In-memory answers to "who is calling" and "where do their calls go".

Looked up once from the database, then served from dicts. Every request
first asks the change marker whether admin state moved (one ``stat``); if
it did, everything is dropped and looked up again. A look-up that started
before a change never lands in the cache after it (generation check), so a
revoked key cannot sneak back in.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from chatgrid.billing.standing import budget_status
from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode, OrgStatus
from chatgrid.identity.tokens import member_user_tag
from chatgrid.ledger.pricing import PriceBook
from chatgrid.ledger.units import DatedUnitPrices
from chatgrid.limits.policy import NO_LIMITS, OrgPolicy
from chatgrid.providers import Provider, UpstreamTarget, build_target
from chatgrid.providers.network import PrivateUpstreamRefused, refuse_private
from chatgrid.store.budgets import OrgTerms, month_of
from chatgrid.store.credentials import StoredKey
from chatgrid.vault import SecretUnreadable

log = logging.getLogger(__name__)

_MAX_UNKNOWN_TOKENS = 10_000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Caller:
    token_id: str
    org_id: str
    member_id: str
    user_tag: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrgRoute:
    """How one org's calls are made right now.

    A BYOK org's route holds one narrower route per key it has (``keys``),
    each with that key's target, credential and models, and which of them
    serves a model (``for_model``). Admission plans a call on the narrowed
    route, so everything after it (ledger, a 401 marking the key broken, a
    revoked key cutting its streams) sees the one key the call used.
    """

    org_id: str
    mode: BillingMode
    markup_bps: int
    suspended: bool
    target: UpstreamTarget | None = None  # BYOK: the org's own key
    credential_id: str | None = None
    models: frozenset[str] = field(default_factory=frozenset)
    policy: OrgPolicy = NO_LIMITS
    operator_policy: OrgPolicy = NO_LIMITS  # shared credits only
    terms: OrgTerms | None = None
    # Why a BYOK org (or one key) cannot call: no_credential, broken, unreadable...
    problem: str | None = None
    provider: Provider | None = None  # a key's route: its provider and name
    key_name: str = ""
    keys: tuple[OrgRoute, ...] = ()  # BYOK: a route per key, usable ones first
    by_model: Mapping[str, OrgRoute] = field(default_factory=dict)

    def for_model(self, model: str) -> OrgRoute:
        """The route of the key that serves ``model``: the admin's choice when two
        keys list it, else the first listing it (OpenAI and Azure first); a model
        no key lists goes to the provider its name suggests, else the first key."""
        found = self.by_model.get(model)
        if found is not None:
            return found
        usable = [k for k in self.keys if k.problem is None] or list(self.keys)
        if not usable:
            return self
        wanted = _provider_by_name(model)
        if wanted is not None:
            named = [k for k in usable if k.provider is wanted]
            if named:
                return named[0]
        others = [k for k in usable if k.provider is not Provider.ANTHROPIC]
        return (others or usable)[0]


def _provider_by_name(model: str) -> Provider | None:
    if model.startswith("claude"):
        return Provider.ANTHROPIC
    if model.startswith("gemini"):
        return Provider.GEMINI
    return None


def models_served(
    keys: tuple[OrgRoute, ...], choices: Mapping[str, tuple[Provider, str]]
) -> dict[str, OrgRoute]:
    """model → the key route that serves it: the admin's choice among usable keys,
    else the first usable key listing it, else the first (unusable) one listing it."""
    served: dict[str, OrgRoute] = {}
    for key in sorted(keys, key=lambda k: k.problem is not None):  # stable: rank kept
        for model in key.models:
            served.setdefault(model, key)
    for model, (provider, name) in choices.items():
        chosen = next(
            (
                k
                for k in keys
                if k.provider is provider and k.key_name == name and k.problem is None
            ),
            None,
        )
        if chosen is not None:
            served[model] = chosen
    return served


@dataclass(frozen=True, slots=True)
class PoolTarget:
    key_id: str
    target: UpstreamTarget
    weight: int
    models: frozenset[str]
    rpm_limit: int | None = None  # the key's own budget at the upstream, per minute
    tpm_limit: int | None = None

    def serves(self, model: str) -> bool:
        """Whether this key may take ``model``: its model list says so. With no list to
        go by, a Claude model goes only to an Anthropic key and a Gemini model only to a
        Gemini key, and those keys take nothing else (a call in another provider's form
        would reach them)."""
        if self.models:
            return model in self.models
        named = _provider_by_name(model)
        if self.target.provider in (Provider.ANTHROPIC, Provider.GEMINI):
            return named is self.target.provider
        return named is None


class Directory:
    def __init__(self, context: AppContext) -> None:
        self.context = context
        self._generation = 0
        self._callers: dict[str, Caller] = {}
        self._unknown: set[str] = set()
        self._routes: dict[str, OrgRoute] = {}
        self._pool: list[PoolTarget] | None = None
        self._prices: PriceBook | None = None
        self._unit_prices: DatedUnitPrices | None = None

    def invalidate(self) -> None:
        self._generation += 1
        self._callers = {}
        self._unknown = set()
        self._routes = {}
        self._pool = None
        self._prices = None
        self._unit_prices = None
        self.context.reload_keyring()

    async def _load(self, loader: Callable[[], T]) -> tuple[T, bool]:
        """Run a blocking look-up off the loop; say whether it may be cached."""
        generation = self._generation
        value = await asyncio.to_thread(loader)
        return value, generation == self._generation

    async def caller(self, token_hash: str) -> Caller | None:
        found = self._callers.get(token_hash)
        if found is not None or token_hash in self._unknown:
            return found
        caller, cacheable = await self._load(lambda: self._load_caller(token_hash))
        if cacheable:
            if caller is not None:
                self._callers[token_hash] = caller
            else:
                if len(self._unknown) >= _MAX_UNKNOWN_TOKENS:
                    self._unknown = set()
                self._unknown.add(token_hash)
        return caller

    def _load_caller(self, token_hash: str) -> Caller | None:
        """A member's personal token, else a ``v1`` service account's (its own caller id)."""
        owner = self.context.tokens.owner_of(token_hash)
        if owner is not None:
            if not owner.usable:
                return None
            return Caller(
                token_id=owner.token_id,
                org_id=owner.org_id,
                member_id=owner.member_id,
                user_tag=member_user_tag(owner.member_id),
                expires_at=owner.expires_at,
            )
        holder = self.context.service_accounts.holder_of(token_hash)
        if holder is None or not holder.usable or holder.account.scope != "v1":
            return None
        account = holder.account
        return Caller(
            token_id=holder.token_id,
            org_id=account.org_id,
            member_id=account.id,
            user_tag=member_user_tag(account.id),
            expires_at=None,
        )

    async def route(self, org_id: str) -> OrgRoute:
        found = self._routes.get(org_id)
        if found is not None:
            return found
        route, cacheable = await self._load(lambda: self._load_route(org_id))
        if cacheable:
            self._routes[org_id] = route
        return route

    def _load_route(self, org_id: str) -> OrgRoute:
        ctx = self.context
        org = ctx.orgs.get(org_id)
        policy = ctx.policies.get(org.id)
        terms = self._terms(org.id)
        markup = org.markup_bps
        if markup is None:
            markup = terms.markup_bps if terms.markup_bps is not None else ctx.settings.markup_bps

        def route(**extra: Any) -> OrgRoute:
            return OrgRoute(
                org_id=org.id,
                mode=org.billing_mode,
                markup_bps=markup,
                suspended=org.status is not OrgStatus.ACTIVE,
                policy=policy,
                terms=terms,
                **extra,
            )

        if org.billing_mode is BillingMode.SHARED:
            return route(operator_policy=ctx.policies.operator(org.id))
        keys = tuple(self._key_route(route, stored) for stored in ctx.credentials.active(org.id))
        if not keys:
            return route(problem="no_credential")
        usable = [k for k in keys if k.problem is None]
        first = (usable or list(keys))[0]
        return route(
            target=first.target,
            credential_id=first.credential_id,
            models=frozenset().union(*(k.models for k in usable)),
            problem=None if usable else first.problem,
            provider=first.provider,
            key_name=first.key_name,
            keys=keys,
            by_model=models_served(keys, ctx.credentials.choices(org.id)),
        )

    def _key_route(self, route: Callable[..., OrgRoute], stored: StoredKey) -> OrgRoute:
        """The org's route narrowed to one of its keys (with why it cannot call, if so)."""
        common: dict[str, Any] = {
            "credential_id": stored.id,
            "provider": stored.config.provider,
            "key_name": stored.name,
            "models": frozenset(stored.models),
        }
        if stored.status == "broken":
            return route(problem="broken", **common)
        if not self._reachable(stored):
            return route(problem="private_upstream", **common)
        key = self._open(stored)
        if key is None:
            return route(problem="unreadable", **common)
        return route(target=build_target(stored.config, key, stored.sealed.fingerprint), **common)

    async def pool(self) -> list[PoolTarget]:
        if self._pool is not None:
            return self._pool
        pool, cacheable = await self._load(self._load_pool)
        if cacheable:
            self._pool = pool
        return pool

    def _load_pool(self) -> list[PoolTarget]:
        ctx = self.context
        targets = []
        for stored in ctx.pool.list(usable_only=True):
            key = self._open(stored) if self._reachable(stored) else None
            if key is None:
                continue
            targets.append(
                PoolTarget(
                    key_id=stored.id,
                    target=build_target(stored.config, key, stored.sealed.fingerprint),
                    weight=max(stored.weight, 1),
                    models=frozenset(stored.models),
                    rpm_limit=stored.rpm_limit,
                    tpm_limit=stored.tpm_limit,
                )
            )
        return targets

    def _terms(self, org_id: str) -> OrgTerms:
        """Plan terms, with the month's allowance by billing's own rule (what invoices use)."""
        now = datetime.now(UTC)
        ctx = self.context
        terms = ctx.budgets.terms(org_id)
        allowance = (
            None
            if terms.overage
            else budget_status(ctx.billing, ctx.plans, org_id, now).limit_micros
        )
        return replace(terms, allowance_micros=allowance, month=month_of(now))

    def forget(self, org_id: str) -> None:
        """Drop one org's cached route (its month changed)."""
        self._routes.pop(org_id, None)

    def _reachable(self, stored: StoredKey) -> bool:
        """Private literal addresses stay refused even if saved before the setting changed."""
        try:
            refuse_private(stored.config.base_url, self.context.settings)
        except PrivateUpstreamRefused:
            return False
        return True

    def _open(self, stored: StoredKey) -> str | None:
        """Open a sealed key, re-reading the keyring once if a new master appeared."""
        for attempt in range(2):
            try:
                return self.context.vault.open(stored.sealed, binding=stored.binding)
            except SecretUnreadable:
                if attempt == 0:
                    self.context.reload_keyring()
        log.error("key %s cannot be opened with the master keyring", stored.sealed.fingerprint)
        return None

    async def prices(self) -> PriceBook:
        if self._prices is not None:
            return self._prices
        book, cacheable = await self._load(self.context.prices.book)
        if cacheable:
            self._prices = book
        return book

    async def unit_prices(self) -> DatedUnitPrices:
        """Every dated unit price, cached as token prices are (a new one bumps the generation)."""
        if self._unit_prices is not None:
            return self._unit_prices
        dated, cacheable = await self._load(self.context.prices.unit_prices)
        if cacheable:
            self._unit_prices = dated
        return dated


class PoolHealth:
    """Which pooled keys are cooling down after a 429 or a failure (per process).

    Not part of the cached admin state: it survives cache invalidation.
    """

    def __init__(self) -> None:
        self._cooling_until: dict[str, float] = {}

    def cool_down(self, key_id: str, seconds: float) -> None:
        self._cooling_until[key_id] = time.monotonic() + seconds

    def cooling(self, key_id: str) -> bool:
        until = self._cooling_until.get(key_id)
        if until is None:
            return False
        if until <= time.monotonic():
            del self._cooling_until[key_id]
            return False
        return True


def choose_pool_target(
    pool: list[PoolTarget],
    model: str,
    *,
    health: PoolHealth | None = None,
    exclude: frozenset[str] = frozenset(),
    headroom: Callable[[PoolTarget], float] | None = None,
) -> PoolTarget | None:
    """A pooled key that serves the model, spread by weight × budget left, healthy keys first.

    ``headroom`` (0 to 1) is how much of the key's minute budget is left; a
    key with none is skipped outright, unlike a cooling key, which is still
    tried when every key is cooling (the upstream may have recovered; a spent
    budget has not).
    """
    candidates = [p for p in pool if p.serves(model) and p.key_id not in exclude]
    weights: list[float] | None = None
    if headroom is not None and candidates:
        left = [(p, headroom(p)) for p in candidates]
        left = [(p, h) for p, h in left if h > 0]
        candidates = [p for p, _ in left]
        weights = [p.weight * h for p, h in left]
    if health is not None and candidates:
        healthy = [i for i, p in enumerate(candidates) if not health.cooling(p.key_id)]
        if healthy:  # all cooling: still try rather than refuse
            candidates = [candidates[i] for i in healthy]
            weights = None if weights is None else [weights[i] for i in healthy]
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    if weights is None:
        weights = [float(p.weight) for p in candidates]
    return random.choices(candidates, weights=weights)[0]
