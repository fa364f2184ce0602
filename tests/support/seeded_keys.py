"""Keys put straight into the store, for tests of the console's rules.

``admin.keys`` validates every key against a live upstream first; tests that
run no simulator and only need the rows (a pooled key that makes shared
credits servable, an org's own key shown on its overview) seed them here.
"""

from __future__ import annotations

from chatgrid.context import AppContext
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.credentials import StoredKey, credential_binding, pool_binding
from chatgrid.store.ids import new_id

_CONFIG = UpstreamConfig.create(Provider.OPENAI, base_url="https://api.openai.com/v1")


def seed_pool_key(
    ctx: AppContext, models: list[str] | None = None, *, name: str | None = None
) -> StoredKey:
    """An active pooled key offering ``models`` (default: gpt-4o-mini and the embedding model)."""
    key_id = new_id("pool")
    sealed = ctx.vault.seal("sk-pool-seeded-0123456789", binding=pool_binding(key_id))
    offered = models if models is not None else ["gpt-4o-mini", ctx.settings.embedding_model]
    stored = ctx.pool.add(key_id, name or key_id, _CONFIG, sealed, offered, 1)
    ctx.changes.bump()
    return stored


def seed_credential(ctx: AppContext, org_id: str, models: list[str] | None = None) -> StoredKey:
    """The org's own (BYOK) key, active, as if an admin had connected it."""
    key_id = new_id("cred")
    sealed = ctx.vault.seal("sk-byok-seeded-0123456789", binding=credential_binding(org_id, key_id))
    offered = models if models is not None else ["gpt-4o-mini", ctx.settings.embedding_model]
    stored = ctx.credentials.replace(org_id, key_id, _CONFIG, sealed, offered, None)
    ctx.changes.bump()
    return stored
