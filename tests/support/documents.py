"""Real documents built in the test run, so no binary fixture is committed.

PDFs come from fpdf2 (a separate writer from the pypdf reader under test),
Word files from python-docx, and encryption from pypdf's writer.
"""

from __future__ import annotations

import io
import zipfile

import docx
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter


def make_pdf(
    pages: list[str],
    *,
    title: str | None = None,
    outline: dict[int, list[tuple[int, str]]] | None = None,
) -> bytes:
    """A PDF with one string of text per page; ``outline`` maps a 0-based page to
    (level, title) bookmarks that start there."""
    pdf = FPDF()
    pdf.set_auto_page_break(auto=False)
    if title is not None:
        pdf.set_title(title)
    for index, text in enumerate(pages):
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        for level, name in (outline or {}).get(index, []):
            pdf.start_section(name, level=level - 1)
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def encrypt_pdf(data: bytes, *, user_password: str, owner_password: str | None = None) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(
        user_password=user_password,
        owner_password=owner_password or "owner-of-the-file",
        algorithm="AES-128",
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(
    blocks: list[tuple[str, object]],
    *,
    title: str | None = None,
) -> bytes:
    """A Word file from ("heading", (level, text)), ("paragraph", text),
    ("title", text) and ("table", rows) blocks in order."""
    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    for kind, value in blocks:
        if kind == "heading":
            assert isinstance(value, tuple)
            level, text = value
            document.add_heading(str(text), level=int(level))
        elif kind == "title":
            document.add_heading(str(value), level=0)
        elif kind == "paragraph":
            document.add_paragraph(str(value))
        elif kind == "table":
            assert isinstance(value, list)
            table = document.add_table(rows=len(value), cols=len(value[0]))
            for row, cells in zip(table.rows, value, strict=True):
                for cell, text in zip(row.cells, cells, strict=True):
                    cell.text = str(text)
        else:
            raise ValueError(kind)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_zip_bomb_docx(inflated_bytes: int) -> bytes:
    """A ZIP that names the Word part but inflates far past its own size."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b" " * inflated_bytes)
    return out.getvalue()
