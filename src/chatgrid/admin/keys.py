"""Upstream keys: connect (validated), rotate, revoke; pooled keys; master rotation."""

from __future__ import annotations

from chatgrid.admin import alerts, payments, reconciliation_fetch, second_factor, sso
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.providers.network import create_upstream_session
from chatgrid.providers.validation import validate_upstream
from chatgrid.store.credentials import (
    StoredKey,
    all_sealed,
    credential_binding,
    master_versions_in_use,
    pool_binding,
    store_rewrapped,
)
from chatgrid.store.document_keys import DocumentKeys
from chatgrid.store.ids import new_id
from chatgrid.vault import SecretUnreadable, Vault, rotate_keyring_file
from chatgrid.vault.keyring import save_keyring_file


async def _validated_models(ctx: AppContext, config: UpstreamConfig, key: str) -> list[str]:
    async with create_upstream_session(ctx.settings) as session:
        return await validate_upstream(session, config, key, ctx.settings)


async def set_credential(
    ctx: AppContext,
    org_ref: str,
    config: UpstreamConfig,
    key: str,
    *,
    actor: str | None = None,
    name: str = "",
) -> StoredKey:
    """Connect or rotate an org's key for one provider (and name): validated upstream
    first, then swapped in one commit.

    Calls already in flight finish on the old key; every call that starts
    after this returns uses the new one. The org's other keys are untouched.
    """
    org = ctx.orgs.get(org_ref)
    key = key.strip()
    models = await _validated_models(ctx, config, key)
    credential_id = new_id("cred")
    sealed = ctx.vault.seal(key, binding=credential_binding(org.id, credential_id))
    stored = ctx.credentials.replace(
        org.id, credential_id, config, sealed, models, actor, name=name
    )
    ctx.changes.bump()
    return stored


def revoke_credential(
    ctx: AppContext, org_ref: str, provider: Provider | None = None, name: str | None = None
) -> StoredKey:
    org = ctx.orgs.get(org_ref)
    revoked = ctx.credentials.revoke(org.id, provider, name)
    ctx.changes.bump()
    return revoked


async def add_pool_key(
    ctx: AppContext,
    name: str,
    config: UpstreamConfig,
    key: str,
    *,
    weight: int = 1,
    rpm_limit: int | None = None,
    tpm_limit: int | None = None,
    actor: Actor | None = None,
) -> StoredKey:
    """A pooled key for shared-credit orgs, validated upstream first (``pool_key.added``)."""
    if weight < 1:
        raise InvalidRequest("a pooled key's weight is at least 1", param="weight")
    for field, value in (("rpm_limit", rpm_limit), ("tpm_limit", tpm_limit)):
        if value is not None and value < 1:
            raise InvalidRequest(f"{field} is at least 1 (leave it out for no limit)", param=field)
    key = key.strip()
    models = await _validated_models(ctx, config, key)
    key_id = new_id("pool")
    sealed = ctx.vault.seal(key, binding=pool_binding(key_id))
    stored = ctx.pool.add(
        key_id, name, config, sealed, models, weight, rpm_limit=rpm_limit, tpm_limit=tpm_limit
    )
    ctx.changes.bump()
    ctx.audit.record(
        None,
        actor or Actor.cli(),
        "pool_key.added",
        stored.id,
        {
            "name": name,
            "provider": stored.config.provider.value,
            "fingerprint": stored.sealed.fingerprint,
            "weight": weight,
            "rpm_limit": rpm_limit,
            "tpm_limit": tpm_limit,
        },
    )
    return stored


def rotate_master(ctx: AppContext, actor: Actor | None = None) -> dict[str, int]:
    """Rewrap every data key under a new master version while servers keep serving.

    The new version is written to the key file before any row uses it, and
    servers reload the ring on the change marker (or on an unknown version),
    so a rewrapped row is always readable. Old versions are dropped from the
    file once no row references them.
    """
    ring = rotate_keyring_file(ctx.settings) if ctx.settings.master_key is None else None
    vault = Vault(ring) if ring is not None else ctx.vault
    ctx.changes.bump()
    rewrapped = 0
    unreadable: list[str] = []
    for table, stored in all_sealed(ctx.engine):
        if stored.sealed.master_key_version == vault.keyring.current_version:
            continue
        try:
            fresh = vault.rewrap(stored.sealed, binding=stored.binding)
        except SecretUnreadable:
            unreadable.append(stored.id)
            continue
        store_rewrapped(ctx.engine, table, stored.id, fresh)
        rewrapped += 1
    seeds_rewrapped, seeds_unreadable = second_factor.rewrap_seeds(ctx, vault)
    rewrapped += seeds_rewrapped
    unreadable += seeds_unreadable
    secrets_rewrapped, secrets_unreadable = sso.rewrap_secrets(ctx, vault)
    rewrapped += secrets_rewrapped
    unreadable += secrets_unreadable
    channels_rewrapped, channels_unreadable = alerts.rewrap_channels(ctx, vault)
    rewrapped += channels_rewrapped
    unreadable += channels_unreadable
    stripe_rewrapped, stripe_unreadable = payments.rewrap_payment_settings(ctx, vault)
    rewrapped += stripe_rewrapped
    unreadable += stripe_unreadable
    admin_rewrapped, admin_unreadable = reconciliation_fetch.rewrap_admin_keys(ctx, vault)
    rewrapped += admin_rewrapped
    unreadable += admin_unreadable
    document_keys = DocumentKeys(ctx.engine, lambda: vault)
    data_keys_rewrapped, data_keys_unreadable = document_keys.rewrap_all(vault)
    rewrapped += data_keys_rewrapped
    unreadable += data_keys_unreadable
    if unreadable:
        ctx.changes.bump()
        raise Conflict(
            f"{len(unreadable)} stored key(s) could not be opened with this keyring and were "
            f"left as they are: {', '.join(unreadable[:10])}. {rewrapped} were rewrapped; "
            "no master version was retired.",
            code="keys_unreadable",
        )
    retired = 0
    in_use = master_versions_in_use(ctx.engine) | ctx.second_factors.master_versions()
    in_use |= sso.master_versions(ctx) | ctx.alerts.master_versions()
    in_use |= payments.master_versions(ctx)
    in_use |= reconciliation_fetch.admin_keys(ctx).master_versions()
    in_use |= document_keys.master_versions()
    if ring is not None and in_use <= {ring.current_version}:
        retired = len(ring.keys) - 1
        save_keyring_file(ctx.settings, ring.without_versions_below(ring.current_version))
    ctx.vault = vault if ring is None else Vault(ring.without_versions_below(ring.current_version))
    ctx.changes.bump()
    result = {
        "master_key_version": vault.keyring.current_version,
        "rewrapped": rewrapped,
        "retired_versions": retired,
    }
    ctx.audit.record(None, actor or Actor.cli(), "vault.master_rotated", None, dict(result))
    return result


#: Rows sealed per transaction: short enough that ``/v1``'s ledger writes never wait long.
SEAL_BATCH = 200


def seal_plain_documents(ctx: AppContext, actor: Actor) -> dict[str, int]:
    """Seal every file, chunk and attached image stored in the clear before documents were
    encrypted at rest (``chatgrid vault seal-documents``); safe to run again, and beside servers."""
    files = chunks = images = 0
    while True:
        sealed_files, sealed_chunks = ctx.documents.seal_plain_rows(SEAL_BATCH)
        sealed_images = ctx.attachments.seal_plain_images(SEAL_BATCH)
        files, chunks, images = files + sealed_files, chunks + sealed_chunks, images + sealed_images
        if not sealed_files and not sealed_chunks and not sealed_images:
            break
    if chunks:  # merging the whole index is costly: only when plain words were in it
        ctx.documents.compact_keyword_index()
    result = {"files_sealed": files, "chunks_sealed": chunks, "images_sealed": images}
    ctx.audit.record(None, actor, "documents.sealed", None, dict(result))
    return result
