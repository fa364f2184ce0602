"""Which sources an answer lists: the ones it names as [n], never the rest."""

from __future__ import annotations

from chatgrid.chat.models import Citation
from chatgrid.chat.prompt import cited


def _given(count: int) -> list[Citation]:
    return [
        Citation(n=n, chunk_id=f"chk{n}", document_id="doc", filename="a.md", heading=None, page=n)
        for n in range(1, count + 1)
    ]


def test_only_the_sources_named_are_listed_in_their_order() -> None:
    assert [c.n for c in cited("See [3] and [1], again [3]; not [9].", _given(4))] == [1, 3]


def test_an_answer_naming_none_lists_none() -> None:
    assert cited("No sources needed here.", _given(6)) == []
