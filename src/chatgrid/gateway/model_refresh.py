"""Keys' model lists follow their providers: on a schedule, on demand, and when asked.

A list saved when a key was connected goes stale as the provider adds
models (a release, a fine-tune made after connect). Three ways keep it
current:

- **Scheduled** (``CHATGRID_MODEL_REFRESH_SECONDS``, 0: off): every active
  org key and pooled key is listed again. One replica does each round: the
  round is claimed in Redis when replicas share one, else under a file lock
  in the data directory (the workers of one machine).
- **On demand**: :func:`refresh_org_key` (``chatgrid credential refresh``,
  the console's *Refresh models*), audited, saying what was added and removed.
- **On a call for an unlisted model**: :meth:`ModelLists.confirm` asks the
  provider once. The answer is kept per key for a short while and a second
  caller waits for the first's question, so a flood of made-up model names
  costs one list call per key per ``recheck_seconds``. A model the provider
  lists now is saved and the call goes on; one it does not list is answered
  as OpenAI does: 404 ``model_not_found``. If no list can be had (the
  provider is down, or not one whose list is fetched), the call goes on and
  the upstream judges the model itself.

Every change to a stored list bumps the change marker, so every replica
reloads its routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp

from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import NotFound, UpstreamFailed
from chatgrid.gateway.directory import OrgRoute
from chatgrid.providers.model_lists import ModelListUnavailable, fetch_model_list
from chatgrid.providers.network import create_upstream_session
from chatgrid.redis_client import sync_redis
from chatgrid.store.credential_models import CredentialModels
from chatgrid.store.credentials import StoredKey
from chatgrid.vault import SecretUnreadable

log = logging.getLogger(__name__)

#: How long one answer of the provider stands for a key's unlisted models.
RECHECK_SECONDS = 30.0


@dataclass(frozen=True)
class ModelChange:
    """What one refresh found for one key (``models``: the list now stored)."""

    key_id: str
    owner: str  # org id, or "pool"
    provider: str
    models: list[str]
    added: list[str]
    removed: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def model_not_found(model: str) -> NotFound:
    return NotFound(
        f"The model `{model}` does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )


async def refresh_key(
    ctx: AppContext, session: aiohttp.ClientSession, stored: StoredKey
) -> ModelChange | None:
    """List one key's models again and store them; None when its provider gave no list."""
    try:
        key = ctx.vault.open(stored.sealed, binding=stored.binding)
    except SecretUnreadable:
        log.warning("key %s could not be opened to refresh its models", stored.sealed.fingerprint)
        return None
    try:
        models = await fetch_model_list(session, stored.config, key)
    except ModelListUnavailable as exc:
        log.warning("models of key %s not refreshed: %s", stored.sealed.fingerprint, exc)
        return None
    if models is None:
        return None
    change = _compare(stored, models)
    if change.changed:
        store = CredentialModels(ctx.engine)
        if stored.owner == "pool":
            saved = await asyncio.to_thread(store.set_pool_key_models, stored.id, models)
        else:
            saved = await asyncio.to_thread(
                store.set_credential_models, stored.owner, stored.id, models
            )
        if not saved:  # rotated, revoked or broken meanwhile: nothing to say about it
            return None
    return change


def _compare(stored: StoredKey, models: list[str]) -> ModelChange:
    before, now = set(stored.models), set(models)
    return ModelChange(
        key_id=stored.id,
        owner=stored.owner,
        provider=stored.config.provider.value,
        models=sorted(now),
        added=sorted(now - before),
        removed=sorted(before - now),
    )


async def refresh_all(ctx: AppContext, session: aiohttp.ClientSession) -> list[ModelChange]:
    """One round over every active org key and pooled key; the changes it stored."""
    store = CredentialModels(ctx.engine)
    keys = await asyncio.to_thread(store.active_credentials)
    keys += await asyncio.to_thread(store.active_pool_keys)
    changes = []
    for stored in keys:
        change = await refresh_key(ctx, session, stored)
        if change is not None and change.changed:
            changes.append(change)
    if changes:
        await asyncio.to_thread(ctx.changes.bump)
        log.info("model lists refreshed: %d key(s) changed", len(changes))
    return changes


async def refresh_org_keys(ctx: AppContext, org_ref: str, actor: Actor) -> list[ModelChange]:
    """Refresh each of an org's working keys now (CLI, console), audited per key as
    ``credential.models_refreshed``; the stored lists are what the providers answered."""
    org = ctx.orgs.get(org_ref)
    keys = await asyncio.to_thread(CredentialModels(ctx.engine).org_credentials, org.id)
    if not keys:
        raise NotFound("this org has no working key to refresh", code="no_credential")
    changes = []
    async with create_upstream_session(ctx.settings) as session:
        for stored in keys:
            change = await refresh_key(ctx, session, stored)
            if change is None:
                raise UpstreamFailed(
                    f"the {stored.config.provider.value} key ending in {stored.sealed.last4} "
                    "gave no model list (rejected, or the endpoint unreachable); its stored "
                    "list is unchanged",
                    code="model_list_unavailable",
                )
            changes.append(change)
            ctx.audit.record(
                org.id,
                actor,
                "credential.models_refreshed",
                stored.id,
                {
                    "provider": stored.config.provider.value,
                    "fingerprint": stored.sealed.fingerprint,
                    "added": change.added,
                    "removed": change.removed,
                },
            )
    if any(change.changed for change in changes):
        await asyncio.to_thread(ctx.changes.bump)
    return changes


class ModelLists:
    """Per process: the provider's word on models a key's stored list lacks."""

    def __init__(
        self,
        context: AppContext,
        session: aiohttp.ClientSession,
        *,
        recheck_seconds: float = RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.context = context
        self.session = session
        self.recheck_seconds = recheck_seconds
        self.clock = clock
        self.store = CredentialModels(context.engine)
        self._answers: dict[str, tuple[float, frozenset[str] | None]] = {}
        self._asking: dict[str, asyncio.Future[frozenset[str] | None]] = {}
        self._confirmed: set[tuple[str, str]] = set()
        self._background: set[asyncio.Task[None]] = set()
        self.schedule = ScheduledRefresh(context, session)

    def start(self) -> None:
        """Start the scheduled refresh (unless ``CHATGRID_MODEL_REFRESH_SECONDS`` is 0)."""
        self.schedule.start()

    async def confirm(self, route: OrgRoute, model: str) -> None:
        """Return if the org's key may be used for ``model``, else raise 404 model_not_found."""
        credential_id = route.credential_id
        if credential_id is None or (credential_id, model) in self._confirmed:
            return
        listed = await self._provider_list(route.org_id, credential_id)
        if listed is None:
            return  # no list to judge by: the upstream judges the model itself
        if model not in listed:
            raise model_not_found(model)
        self._confirmed.add((credential_id, model))
        saved = await asyncio.to_thread(
            self.store.set_credential_models, route.org_id, credential_id, sorted(listed)
        )
        if saved:
            self._in_background(asyncio.to_thread(self.context.changes.bump))

    async def _provider_list(self, org_id: str, credential_id: str) -> frozenset[str] | None:
        """The provider's current list for this key: asked at most once per recheck period."""
        answered = self._answers.get(credential_id)
        if answered is not None and self.clock() - answered[0] < self.recheck_seconds:
            return answered[1]
        pending = self._asking.get(credential_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[frozenset[str] | None] = asyncio.get_running_loop().create_future()
        self._asking[credential_id] = future
        try:
            listed = await self._ask(org_id, credential_id)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters (if any) re-raise it themselves
            raise
        finally:
            del self._asking[credential_id]
        if len(self._answers) > 10_000:
            self._answers.clear()
        self._answers[credential_id] = (self.clock(), listed)
        future.set_result(listed)
        return listed

    async def _ask(self, org_id: str, credential_id: str) -> frozenset[str] | None:
        stored = await asyncio.to_thread(self.store.active_credential, org_id, credential_id)
        if stored is None:
            return None
        try:
            key = self.context.vault.open(stored.sealed, binding=stored.binding)
            models = await fetch_model_list(self.session, stored.config, key, seconds=10.0)
        except (SecretUnreadable, ModelListUnavailable) as exc:
            log.warning("models of key %s not checked: %s", stored.sealed.fingerprint, exc)
            return None
        return None if models is None else frozenset(models)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        await self.schedule.stop()
        for task in list(self._background):
            with contextlib.suppress(Exception):
                await task


class ScheduledRefresh:
    """Refreshes every key's list each ``interval`` seconds, one replica per round."""

    def __init__(self, context: AppContext, session: aiohttp.ClientSession) -> None:
        self.context = context
        self.session = session
        self.interval = context.settings.model_refresh_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                if await asyncio.to_thread(self.claim_round):
                    await refresh_all(self.context, self.session)
            except Exception:
                log.exception("model list refresh failed; next round in %.0fs", self.interval)

    def claim_round(self, now: float | None = None) -> bool:
        """Whether this replica does the round that is due (no other has in this interval)."""
        settings = self.context.settings
        hold = max(self.interval * 0.9, 1.0)
        if settings.redis_url:
            client = sync_redis(settings.redis_url)
            try:
                key = f"{settings.redis_prefix}:model-refresh:round"
                return bool(client.set(key, b"1", nx=True, px=int(hold * 1000)))
            finally:
                client.close()
        return _claim_in_data_dir(self.context, hold, time.time() if now is None else now)


def _claim_in_data_dir(ctx: AppContext, hold: float, now: float) -> bool:
    """Workers sharing a data directory: the first past the last round's time takes it."""
    data_dir = ctx.settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    stamp = data_dir / "model-refresh.last"
    with (data_dir / "model-refresh.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            last = float(stamp.read_text() or 0)
        except (FileNotFoundError, ValueError):
            last = 0.0
        if 0 <= now - last < hold:
            return False
        stamp.write_text(repr(now))
        return True
