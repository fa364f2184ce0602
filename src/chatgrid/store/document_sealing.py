"""How a document's file and chunks are written and read back: sealed with the org's data key
(``vault.documents``), the keyword index given the words' keyed names.

The repositories call these on the way in and out, so nothing above storage
sees a ciphertext and nothing in the database holds a file, a chunk's text
or heading, or an indexed word in the clear. Rows stored before documents
were encrypted at rest read as they are until ``chatgrid vault
seal-documents`` seals them; meanwhile the keyword search asks for the plain
words too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from chatgrid.store.document_keys import DocumentKeys

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERM_CHARS = 64


def words(text: str) -> Iterator[str]:
    """The words of ``text`` as the keyword index and its queries both see them: lower
    case, accents off (as SQLite's ``remove_diacritics``), at most 64 characters."""
    folded = text.lower()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    for match in _WORD.finditer(folded):
        word = match.group()[:MAX_TERM_CHARS].strip("_")
        if word:
            yield word


def _file_binding(org_id: str, document_id: str) -> str:
    return f"document_file:{org_id}:{document_id}"


def _image_binding(org_id: str, image_id: str) -> str:
    return f"conversation_image:{org_id}:{image_id}"


def _chunk_binding(org_id: str, chunk_id: str) -> str:
    return f"chunk:{org_id}:{chunk_id}"


class DocumentSealing:
    """Sealing with each org's key; with no keys (a benchmark's baseline) rows stay plain, as
    they were stored before documents were encrypted at rest."""

    def __init__(self, keys: DocumentKeys | None) -> None:
        self.keys = keys
        #: Whether plain chunks (stored before sealing) remain, for searches to ask for plain
        #: words too; None until the first search looks (once per process).
        self.plain_rows_remain: bool | None = None

    def file(self, org_id: str, document_id: str, data: bytes) -> tuple[bytes, bool]:
        """The bytes to store for an upload, and whether they are sealed."""
        return self._seal(org_id, _file_binding(org_id, document_id), data)

    def open_file(self, org_id: str, document_id: str, stored: bytes, sealed: bool) -> bytes:
        return self._open(org_id, _file_binding(org_id, document_id), stored, sealed)

    def image(self, org_id: str, image_id: str, data: bytes) -> tuple[bytes, bool]:
        """The bytes to store for an image attached in the composer, and whether sealed."""
        return self._seal(org_id, _image_binding(org_id, image_id), data)

    def open_image(self, org_id: str, image_id: str, stored: bytes, sealed: bool) -> bytes:
        return self._open(org_id, _image_binding(org_id, image_id), stored, sealed)

    def _seal(self, org_id: str, binding: str, data: bytes) -> tuple[bytes, bool]:
        if self.keys is None:
            return data, False
        return self.keys.cipher(org_id).seal(data, binding), True

    def _open(self, org_id: str, binding: str, stored: bytes, sealed: bool) -> bytes:
        if not sealed:
            return stored
        assert self.keys is not None, "a sealed file needs the org's key"
        return self.keys.cipher(org_id).open(stored, binding)

    def chunk(self, org_id: str, chunk_id: str, heading: str | None, text: str) -> dict[str, Any]:
        """A chunk's stored columns: ``text``, ``heading``, ``sealed`` and ``keywords``."""
        if self.keys is None:
            return {"text": text, "heading": heading, "sealed": None, "keywords": text}
        cipher = self.keys.cipher(org_id)
        payload = orjson.dumps({"h": heading, "t": text})
        return {
            "text": "",
            "heading": None,
            "sealed": cipher.seal(payload, _chunk_binding(org_id, chunk_id)),
            "keywords": cipher.names(words(text)),
        }

    def open_chunk(self, org_id: str, chunk_id: str, row: Any) -> tuple[str | None, str]:
        """(heading, text) of a stored chunk row (with its ``heading``, ``text``, ``sealed``)."""
        sealed = row["sealed"]
        if sealed is None:
            return row["heading"], str(row["text"])
        assert self.keys is not None, "a sealed chunk needs the org's key"
        plain = self.keys.cipher(org_id).open(bytes(sealed), _chunk_binding(org_id, chunk_id))
        opened = orjson.loads(plain)
        return opened["h"], opened["t"]

    def match_terms(self, org_id: str, terms: Sequence[str]) -> list[str]:
        """What the keyword index is asked for: each term's keyed name (and the plain term
        while plain chunks may remain)."""
        if self.keys is None:
            return list(terms)
        cipher = self.keys.cipher(org_id)
        named = [cipher.name(term) for term in terms]
        return [*named, *terms] if self.plain_rows_remain is not False else named
