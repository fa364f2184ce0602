"""An org's data as one ZIP archive, streamed: members, teams, collections, documents (with
their files), conversations (with their images), prompts, budgets, usage, invoices and
the audit log, and a manifest.

The archive is written as it is read, a few hundred rows at a time, so
neither the server's memory nor the time to the first byte grows with the
org. Each table is a JSON Lines file (one row per line, as the database
holds it, minus secrets and hashes: ``store.org_export`` names every table
and what is left out); each uploaded file and image is a file of its own;
``manifest.json`` comes last and lists every file with its rows (or bytes)
and SHA-256. Exporting is audited (``org.exported``).
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Table

from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.store.org_export import (
    EXPORTED,
    LEFT_OUT,
    MEMBER_EXPORTED,
    documents_with_files,
    images_of,
    org_rows,
    retention_of,
    section_name,
)
from chatgrid.store.types import utcnow

FORMAT = "chatgrid-org-export/1"
#: Bytes gathered before they are handed on: big enough for few, cheap chunks.
CHUNK_BYTES = 64 * 1024
_UNSAFE = re.compile(r"[^\w.\- ]+")


class _Sink(io.RawIOBase):
    """Where ``zipfile`` writes; the bytes are taken away as they come (not seekable)."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.pending += data
        return len(data)

    def drain(self) -> bytes:
        taken = bytes(self.pending)
        self.pending.clear()
        return taken


@dataclass(frozen=True)
class _Scope:
    """What one archive holds: a whole org, or one member's own data in it."""

    org_id: str
    org_name: str
    member_id: str | None = None
    member_email: str | None = None

    @property
    def tables(self) -> list[Table]:
        return list(EXPORTED if self.member_id is None else MEMBER_EXPORTED)


def export_org(ctx: AppContext, org_ref: str, actor: Actor) -> tuple[str, Iterator[bytes]]:
    """The archive's file name, and its bytes as they are made."""
    org = ctx.orgs.get(org_ref)
    stamp = utcnow()
    ctx.audit.record(org.id, actor, "org.exported", org.id, {"format": FORMAT})
    filename = f"chatgrid-export-{_slug(org.name)}-{stamp:%Y%m%d-%H%M%S}.zip"
    return filename, _archive(ctx, _Scope(org.id, org.name), stamp, actor)


def export_member(
    ctx: AppContext, org_id: str, member_id: str, actor: Actor
) -> tuple[str, Iterator[bytes]]:
    """A member's own conversations (with images), collections and documents (with files),
    prompts, teams and usage: the archive a member downloads of their data."""
    org = ctx.orgs.get(org_id)
    member = ctx.members.get(org.id, member_id)
    stamp = utcnow()
    ctx.audit.record(org.id, actor, "member.exported", member.id, {"format": FORMAT})
    filename = f"chatgrid-my-data-{_slug(org.name)}-{stamp:%Y%m%d-%H%M%S}.zip"
    scope = _Scope(org.id, org.name, member.id, member.email)
    return filename, _archive(ctx, scope, stamp, actor)


def _slug(name: str) -> str:
    return _UNSAFE.sub("-", name.lower()).strip("-")[:40] or "org"


def _archive(ctx: AppContext, scope: _Scope, stamp: datetime, actor: Actor) -> Iterator[bytes]:
    sink = _Sink()
    files: list[dict[str, Any]] = []
    org_id, member_id = scope.org_id, scope.member_id
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in scope.tables:
            name, rows, digest = section_name(table), 0, hashlib.sha256()
            with archive.open(name, "w", force_zip64=True) as out:
                for row in org_rows(ctx.engine, table, org_id, member_id):
                    line = orjson.dumps(row, default=_plain) + b"\n"
                    out.write(line)
                    digest.update(line)
                    rows += 1
                    if len(sink.pending) >= CHUNK_BYTES:
                        yield sink.drain()
            files.append({"file": name, "rows": rows, "sha256": digest.hexdigest()})
            yield sink.drain()
        for folder, found in (
            ("documents", _uploads(ctx, org_id, member_id)),
            ("images", _images(ctx, org_id, member_id)),
        ):
            for ident, filename, data in found:
                name = f"{folder}/{ident}/{_safe(filename)}"
                archive.writestr(name, data)
                digest_hex = hashlib.sha256(data).hexdigest()
                files.append({"file": name, "bytes": len(data), "sha256": digest_hex})
                yield sink.drain()
        manifest = {
            "format": FORMAT,
            "org": {"id": org_id, "name": scope.org_name},
            "exported_at": stamp.isoformat(),
            "exported_by": actor.email,
            "retention": retention_of(ctx.engine, org_id),
            "files": files,
        }
        if member_id is None:
            manifest["left_out"] = LEFT_OUT
        else:
            manifest["member"] = {"id": member_id, "email": scope.member_email}
        archive.writestr(
            "manifest.json", orjson.dumps(manifest, default=_plain, option=orjson.OPT_INDENT_2)
        )
    yield sink.drain()


def _uploads(
    ctx: AppContext, org_id: str, member_id: str | None
) -> Iterator[tuple[str, str, bytes]]:
    """(document id, filename, bytes) of each upload, opened (files are sealed at rest)."""
    for ident, filename in documents_with_files(ctx.engine, org_id, member_id):
        data = ctx.documents.file_bytes(org_id, ident)
        if data is not None:  # deleted while the archive was being written
            yield ident, filename, data


def _images(
    ctx: AppContext, org_id: str, member_id: str | None
) -> Iterator[tuple[str, str, bytes]]:
    """(image id, filename, bytes) of each attached image, opened (sealed at rest)."""
    open_image = ctx.attachments.sealing.open_image
    for ident, filename, stored, sealed in images_of(ctx.engine, org_id, member_id):
        yield ident, filename, open_image(org_id, ident, stored, sealed)


def _safe(filename: str) -> str:
    """A file name that stays inside its folder whatever was uploaded."""
    flat = filename.replace("/", "_").replace("\\", "_")
    cleaned = re.sub(r"\.{2,}", ".", _UNSAFE.sub("_", flat)).strip(" ._")
    return cleaned[:120] or "file"


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return None  # binary columns are files of their own
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(type(value).__name__)
