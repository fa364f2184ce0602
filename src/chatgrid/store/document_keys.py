"""Each org's document data key: the one writer of ``org_data_keys``, and the ciphers made
from the keys, kept per process.

A key is made the first time an org stores a document, sealed by the vault
(bound to the org), and never changes: rotating the master key rewraps it
(``store_rewrapped``), so every file and chunk sealed with it stays
readable, and a cipher already in memory stays right. Two replicas making
an org's first key at once both try to insert it; the second reads the
first's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, RowMapping, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.store.tables import org_data_keys
from chatgrid.store.types import utcnow
from chatgrid.vault import SealedSecret, Vault
from chatgrid.vault.documents import DocumentCipher, new_data_key


def key_binding(org_id: str) -> str:
    """What an org's sealed data key is bound to: in another org's row it does not open."""
    return f"org_data_key:{org_id}"


@dataclass(frozen=True)
class StoredDataKey:
    org_id: str
    sealed: SealedSecret


class DocumentKeys:
    """The org's ``DocumentCipher``: made once per process, from the stored key."""

    def __init__(self, engine: Engine, vault: Callable[[], Vault]) -> None:
        self.engine = engine
        self._vault = vault
        self._ciphers: dict[str, DocumentCipher] = {}
        self._lock = threading.Lock()

    def cipher(self, org_id: str) -> DocumentCipher:
        known = self._ciphers.get(org_id)
        if known is not None:
            return known
        with self._lock:
            known = self._ciphers.get(org_id)
            if known is None:
                known = DocumentCipher(self._data_key(org_id))
                self._ciphers[org_id] = known
        return known

    def _data_key(self, org_id: str) -> bytes:
        vault = self._vault()
        stored = self.get(org_id)
        if stored is None:
            sealed = vault.seal(new_data_key().hex(), binding=key_binding(org_id))
            stored = self._insert(org_id, sealed)
        return bytes.fromhex(vault.open(stored.sealed, binding=key_binding(org_id)))

    def get(self, org_id: str) -> StoredDataKey | None:
        query = select(org_data_keys).where(org_data_keys.c.org_id == org_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _stored(row)

    def _insert(self, org_id: str, sealed: SealedSecret) -> StoredDataKey:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    org_data_keys.insert().values(
                        org_id=org_id,
                        wrapped_key=sealed.wrapped_key,
                        master_key_version=sealed.master_key_version,
                        nonce=sealed.nonce,
                        ciphertext=sealed.ciphertext,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:  # another process made it first: use theirs
            theirs = self.get(org_id)
            if theirs is None:
                raise
            return theirs
        return StoredDataKey(org_id, sealed)

    def all_sealed(self) -> list[StoredDataKey]:
        """Every org's key, for rewrapping under a new master (``vault rotate-master``)."""
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(select(org_data_keys)).mappings()]

    def rewrap_all(self, vault: Vault) -> tuple[int, list[str]]:
        """Every org's key under ``vault``'s current master (``vault rotate-master``): how
        many were rewrapped, and the orgs whose key would not open. The data keys do not
        change, so no file or chunk is touched."""
        stored = [(k.org_id, key_binding(k.org_id), k.sealed) for k in self.all_sealed()]
        return vault.rewrap_each(stored, self.store_rewrapped)

    def store_rewrapped(self, org_id: str, sealed: SealedSecret) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(org_data_keys)
                .where(org_data_keys.c.org_id == org_id)
                .values(
                    wrapped_key=sealed.wrapped_key, master_key_version=sealed.master_key_version
                )
            )

    def master_versions(self) -> set[int]:
        with self.engine.connect() as conn:
            query = select(org_data_keys.c.master_key_version).distinct()
            return {int(v) for v in conn.execute(query).scalars()}


def _stored(row: RowMapping) -> StoredDataKey:
    sealed = SealedSecret(
        fingerprint="",  # a data key has no name to show
        last4="",
        wrapped_key=bytes(row["wrapped_key"]),
        master_key_version=int(row["master_key_version"]),
        nonce=bytes(row["nonce"]),
        ciphertext=bytes(row["ciphertext"]),
    )
    return StoredDataKey(str(row["org_id"]), sealed)
