"""Chunks follow the document's structure, overlap within a section, stay under
the target size, and lose no word of the source."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatgrid.documents.chunking import ChunkDraft, chunk_document
from chatgrid.documents.extract import ExtractedDocument, Section


def _doc(*sections: Section) -> ExtractedDocument:
    return ExtractedDocument(title="t", sections=list(sections), pages=None)


def _body(chunk: ChunkDraft) -> str:
    """The passage without its heading line."""
    return chunk.text.split("\n", 1)[1] if chunk.heading else chunk.text


def _sentences(count: int, start: int = 0) -> str:
    return " ".join(f"Sentence number {n} says something useful." for n in range(start, count))


def test_short_paragraphs_are_packed_into_one_chunk_with_their_heading_line() -> None:
    doc = _doc(Section("Guide > Install", "Download it.\n\nRun it.\n\nDone.", 4))

    chunks = chunk_document(doc)

    assert chunks == [
        ChunkDraft(0, "Guide > Install\nDownload it.\n\nRun it.\n\nDone.", "Guide > Install", 4)
    ]


def test_a_chunk_never_spans_two_sections_and_keeps_its_page() -> None:
    doc = _doc(Section("A", "Alpha text.", 1), Section(None, "Beta text.", 2))

    chunks = chunk_document(doc)

    assert [(c.ordinal, c.text, c.heading, c.page) for c in chunks] == [
        (0, "A\nAlpha text.", "A", 1),
        (1, "Beta text.", None, 2),
    ]


def test_paragraphs_are_packed_whole_up_to_the_target() -> None:
    paragraphs = [f"Paragraph {n} " + "word " * 15 + "end." for n in range(6)]
    doc = _doc(Section(None, "\n\n".join(paragraphs), None))

    chunks = chunk_document(doc, target_chars=250, overlap_chars=0)

    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk.text) <= 250
        assert all(part in paragraphs for part in chunk.text.split("\n\n"))
    assert "\n\n".join(c.text for c in chunks) == "\n\n".join(paragraphs)


def test_a_long_paragraph_is_split_at_sentence_ends() -> None:
    text = _sentences(40)
    chunks = chunk_document(_doc(Section(None, text, None)), target_chars=300, overlap_chars=0)

    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.text.startswith("Sentence number ")
        assert chunk.text.endswith("useful.")
    assert " ".join(c.text for c in chunks) == text


def test_consecutive_chunks_of_a_section_overlap_from_a_sentence_start() -> None:
    text = _sentences(40)
    chunks = chunk_document(_doc(Section(None, text, None)), target_chars=300, overlap_chars=100)

    assert len(chunks) > 3
    for previous, following in itertools.pairwise(chunks):
        shared = max(
            (n for n in range(1, 101) if previous.text.endswith(following.text[:n])), default=0
        )
        assert shared > 0
        assert following.text.startswith("Sentence number ")
        assert following.text[shared] == " "  # the overlap ends where a word ends


def test_no_overlap_crosses_a_section_boundary() -> None:
    doc = _doc(Section("One", _sentences(10), None), Section("Two", "Fresh start here.", None))

    chunks = chunk_document(doc, target_chars=200, overlap_chars=80)

    assert chunks[-1].text == "Two\nFresh start here."


def test_a_code_block_that_fits_stays_whole_despite_blank_lines() -> None:
    code = "```python\ndef f():\n    return 1\n\n\ndef g():\n    return 2\n```"
    doc = _doc(Section(None, f"Before.\n\n{code}\n\nAfter.", None))

    chunks = chunk_document(doc, target_chars=60, overlap_chars=0)

    assert code in [c.text for c in chunks]


def test_a_long_code_block_is_split_at_line_ends() -> None:
    code = "```\n" + "\n".join(f"value_{n} = {n}" for n in range(60)) + "\n```"
    chunks = chunk_document(_doc(Section(None, code, None)), target_chars=120, overlap_chars=0)

    assert len(chunks) > 1
    assert "\n".join(c.text for c in chunks) == code


def test_only_a_word_longer_than_a_chunk_is_cut() -> None:
    blob = "A" * 250
    chunks = chunk_document(_doc(Section(None, f"key: {blob} end", None)), target_chars=100)

    assert [c.text for c in chunks] == ["key:", "A" * 100, "A" * 100, "A" * 50 + " end"]


def test_a_long_heading_path_keeps_its_innermost_headings() -> None:
    heading = "Company Handbook 2026 Edition > People > Benefits > Parental leave"
    chunks = chunk_document(_doc(Section(heading, "Sixteen weeks.", None)), target_chars=120)

    assert chunks[0].text == "Benefits > Parental leave\nSixteen weeks."
    assert chunks[0].heading == heading


def test_blank_sections_give_no_chunks() -> None:
    assert chunk_document(_doc(Section("Empty", " \n\n ", 1))) == []


@pytest.mark.parametrize(("target", "overlap"), [(10, 0), (1200, -1)])
def test_nonsensical_sizes_are_refused(target: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="chars"):
        chunk_document(_doc(Section(None, "x", None)), target_chars=target, overlap_chars=overlap)


# --- properties --------------------------------------------------------------------------

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé0123456789,.!?-", min_size=1, max_size=12)
_PARAGRAPH = st.lists(_WORD, min_size=1, max_size=60).map(" ".join)
_TEXT = st.lists(_PARAGRAPH, min_size=1, max_size=6).map("\n\n".join)
_HEADING = st.one_of(st.none(), st.lists(_WORD, min_size=1, max_size=4).map(" > ".join))
_SECTIONS = st.lists(
    st.builds(Section, heading=_HEADING, text=_TEXT, page=st.one_of(st.none(), st.integers(1, 9))),
    min_size=1,
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(_SECTIONS, st.integers(60, 600), st.integers(0, 300))
def test_chunking_loses_no_word_cuts_none_and_stays_bounded(
    sections: list[Section], target: int, overlap: int
) -> None:
    doc = _doc(*sections)

    chunks = chunk_document(doc, target_chars=target, overlap_chars=overlap)

    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert chunks == chunk_document(doc, target_chars=target, overlap_chars=overlap)
    assert all(c.text.strip() and len(c.text) <= target for c in chunks)
    per_section = [
        chunk_document(_doc(section), target_chars=target, overlap_chars=overlap)
        for section in sections
    ]
    assert [(c.text, c.heading, c.page) for c in chunks] == [
        (c.text, c.heading, c.page) for section_chunks in per_section for c in section_chunks
    ]
    for section, section_chunks in zip(sections, per_section, strict=True):
        _assert_chunks_tile_the_words(
            section.text.split(), [_body(c).split() for c in section_chunks], overlap
        )


def _assert_chunks_tile_the_words(words: list[str], bodies: list[list[str]], overlap: int) -> None:
    """Each chunk is a run of whole source words, starting where the previous one
    ended (or inside it, when overlapping), so together they cover every word once
    in order and nothing was cut mid-word (the words here are shorter than a chunk)."""
    start, end = 0, 0
    for number, body in enumerate(bodies):
        if number == 0:
            candidates = [0]
        else:
            lowest = end if overlap == 0 else start + 1
            candidates = list(range(end, lowest - 1, -1))
        start = next(i for i in candidates if words[i : i + len(body)] == body)
        end = start + len(body)
    assert end == len(words)
