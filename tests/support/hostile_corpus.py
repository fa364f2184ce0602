"""Hostile uploads, built in the test run: the files issue 9's probes used.

Nothing here is committed as a binary: each file is generated from a few
parameters, so the corpus can be as large as the probe was (a 338 KB Word
file that inflates to 100 MB) without weighing on the repository.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterator

from tests.support.documents import make_docx

MiB = 1024 * 1024

BODY_OPEN = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body>"
)
BODY_CLOSE = b"</w:body></w:document>"


def _paragraphs(inflated_bytes: int) -> Iterator[bytes]:
    """Paragraphs of Word XML, about ``inflated_bytes`` in all, compressing about 300:1."""
    written = len(BODY_OPEN) + len(BODY_CLOSE)
    yield BODY_OPEN
    while written < inflated_bytes:
        batch = b"".join(
            b"<w:p><w:r><w:t>Clause %d of the agreement applies.</w:t></w:r></w:p>" % (i % 10)
            for i in range(1000)
        )
        written += len(batch)
        yield batch
    yield BODY_CLOSE


def docx_bomb(inflated_bytes: int) -> bytes:
    """A well-formed Word file whose body is ``inflated_bytes`` of small paragraphs.

    Real Word XML, not padding: python-docx builds an object per paragraph,
    which is what made the probe's 100 MB body cost 2 GB and two minutes.
    """
    template = zipfile.ZipFile(io.BytesIO(make_docx([("paragraph", "seed")])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member in template.infolist():
            if member.filename == "word/document.xml":
                with archive.open(member.filename, "w") as body:
                    for piece in _paragraphs(inflated_bytes):
                        body.write(piece)
            else:
                archive.writestr(member.filename, template.read(member.filename))
    return out.getvalue()


def docx_with_lying_sizes(inflated_bytes: int, claimed_bytes: int = 4096) -> bytes:
    """A Word file whose directory claims the body is small while its data inflates large.

    Both the central directory and the local header are patched, so a reader
    that trusts either sees ``claimed_bytes``.
    """
    data = bytearray(docx_bomb(inflated_bytes))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    body = archive.getinfo("word/document.xml")
    # Local header: uncompressed size at offset 22 (zip64 keeps it in an extra field).
    local = body.header_offset
    name_length, extra_length = struct.unpack("<HH", data[local + 26 : local + 30])
    _patch_size(data, local + 22, local + 30 + name_length, extra_length, claimed_bytes)
    # Central directory record: uncompressed size at offset 24.
    central = _central_record(bytes(data), "word/document.xml")
    name_length, extra_length = struct.unpack("<HH", data[central + 28 : central + 32])
    _patch_size(data, central + 24, central + 46 + name_length, extra_length, claimed_bytes)
    return bytes(data)


def _central_record(data: bytes, name: str) -> int:
    position = data.find(b"PK\x01\x02")
    while position != -1:
        name_length = struct.unpack("<H", data[position + 28 : position + 30])[0]
        if data[position + 46 : position + 46 + name_length].decode() == name:
            return position
        position = data.find(b"PK\x01\x02", position + 4)
    raise ValueError(name)


def _patch_size(data: bytearray, at: int, extra_at: int, extra_length: int, size: int) -> None:
    """Write ``size`` as the uncompressed size, in the zip64 extra field when it is there."""
    if struct.unpack("<I", data[at : at + 4])[0] != 0xFFFFFFFF:
        data[at : at + 4] = struct.pack("<I", size)
        return
    end = extra_at + extra_length
    while extra_at < end:
        kind, length = struct.unpack("<HH", data[extra_at : extra_at + 4])
        if kind == 0x0001:  # zip64: uncompressed size first
            data[extra_at + 4 : extra_at + 12] = struct.pack("<Q", size)
            return
        extra_at += 4 + length
    raise ValueError("no size field")


def docx_bzip2_bomb(inflated_bytes: int) -> bytes:
    """A Word file whose body uses bzip2 (which Word never writes) and claims a tiny size.

    Python's zipfile inflates a whole bzip2 read at once before cutting it to
    the declared size, so a lying size alone does not bound what it inflates.
    """
    template = zipfile.ZipFile(io.BytesIO(make_docx([("paragraph", "seed")])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member in template.infolist():
            if member.filename == "word/document.xml":
                info = zipfile.ZipInfo("word/document.xml")
                info.compress_type = zipfile.ZIP_BZIP2
                with archive.open(info, "w") as body:
                    for piece in _paragraphs(inflated_bytes):
                        body.write(piece)
            else:
                archive.writestr(member.filename, template.read(member.filename))
    data = bytearray(out.getvalue())
    central = _central_record(bytes(data), "word/document.xml")
    name_length, extra_length = struct.unpack("<HH", data[central + 28 : central + 32])
    _patch_size(data, central + 24, central + 46 + name_length, extra_length, 4096)
    return bytes(data)


def markdown_brackets(size: int) -> bytes:
    """``size`` bytes of ``[``: each opens a link label markdown-it scans to the end for."""
    return b"[" * size


def markdown_deep_quotes(depth: int) -> bytes:
    """Block quotes nested ``depth`` deep, then a line of text."""
    return b"> " * depth + b"quoted\n"


def markdown_deep_lists(depth: int) -> bytes:
    """A list item nested ``depth`` deep, each level indented under the last."""
    return b"".join(b"  " * level + b"- item\n" for level in range(depth))


def html_nested(size: int) -> bytes:
    """``size`` bytes of ``<b><i>`` never closed: a tree as deep as the file is long."""
    return b"<html><body>" + b"<b><i>" * (size // 6) + b"deep text</body></html>"


def huge_text(size: int) -> bytes:
    """Ordinary prose, ``size`` bytes of it: large, not hostile in its shape."""
    line = b"The committee reviewed the quarterly figures and approved the budget. "
    paragraph = line * 8 + b"\n\n"
    return (paragraph * (size // len(paragraph) + 1))[:size]
