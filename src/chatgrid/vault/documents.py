"""Documents at rest: one data key per org seals its uploaded files and extracted text, and
names the words of its keyword index.

The org's data key (32 random bytes) is itself sealed by the vault, like
every upstream key, so rotating the master key rewraps it and nothing else
moves. Two keys are derived from it (HKDF-SHA256): one seals with
AES-256-GCM, the other names words with HMAC-SHA256. The associated data
binds each ciphertext to its row (the org and the file's or chunk's id): a
blob copied into another row, or another org's, fails to open.

The keyword index cannot hold the words themselves (an FTS index keeps
every word with its position: the text could be read back from it), so it
holds each word's keyed name instead (a "blind index"): equal words have
equal names within an org, so BM25 ranks exactly as before, and nothing in
the database says which word a name stands for. What it gives away is only
how often each (unknown) word occurs. Prefix search is not possible on it;
ChatGrid's keyword search never used it.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from chatgrid.vault.envelope import SecretUnreadable

DATA_KEY_BYTES = 32
_NONCE_BYTES = 12
#: Bytes of a word's keyed name: 64 bits, so two words of an org share a name once in
#: billions even with a million distinct words (and a shared name only merges two terms'
#: ranking, never shows another org's text).
_NAME_BYTES = 8
#: Word names remembered per org and process (about 10 MB at most).
_NAMES_KEPT = 100_000


def new_data_key() -> bytes:
    return secrets.token_bytes(DATA_KEY_BYTES)


def _derive(data_key: bytes, purpose: bytes) -> bytes:
    kdf = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"chatgrid/documents/" + purpose
    )
    return kdf.derive(data_key)


class DocumentCipher:
    """One org's data key at work: seal and open bytes, name words for the index."""

    def __init__(self, data_key: bytes) -> None:
        if len(data_key) != DATA_KEY_BYTES:
            raise ValueError("a document data key is 32 bytes")
        self._aead = AESGCM(_derive(data_key, b"seal"))
        self._index_key = _derive(data_key, b"index")
        # Words recur (Zipf): naming each once per process keeps ingestion at its speed.
        self._names: dict[str, str] = {}

    def seal(self, plain: bytes, binding: str) -> bytes:
        """``nonce || ciphertext`` of ``plain``, bound to ``binding`` (the row it goes in)."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plain, binding.encode())

    def open(self, sealed: bytes, binding: str) -> bytes:
        nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, binding.encode())
        except InvalidTag:
            raise SecretUnreadable("the document does not belong to this record") from None

    def name(self, word: str) -> str:
        """A word's keyed name in the index: 13 letters and digits (base32), one token to any
        full-text tokenizer, and short: the index's size and speed stay a plain word's."""
        known = self._names.get(word)
        if known is None:
            digest = hmac.digest(self._index_key, word.encode(), "sha256")
            known = base64.b32encode(digest[:_NAME_BYTES]).decode().rstrip("=").lower()
            if len(self._names) >= _NAMES_KEPT:
                self._names.clear()
            self._names[word] = known
        return known

    def names(self, words: Iterable[str]) -> str:
        """The index's text for a run of words: their names, in order, space-separated."""
        return " ".join(self.name(word) for word in words)
