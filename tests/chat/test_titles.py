"""Titles as people read them: the first line without directives or Markdown, or a model's."""

from __future__ import annotations

from chatgrid.chat.titles import (
    TITLE_CHARS,
    clean_first_line,
    generated_title,
    is_placeholder,
    title_request,
    titles_by_default,
)


def test_the_first_line_loses_simulator_directives_and_markdown() -> None:
    assert clean_first_line("[sim:slow=5][sim:tokens=12] Tell me about **tables**") == (
        "Tell me about tables"
    )
    assert clean_first_line("## Plan the *offsite*\nsecond line") == "Plan the offsite"
    assert clean_first_line("> quoted `code` and [a link](https://x.example)") == (
        "quoted code and a link"
    )
    assert clean_first_line("```python\nprint('hi')\n```") == "print('hi')"
    assert clean_first_line("- 1. item") == "item"
    assert clean_first_line("snake_case_name stays") == "snake_case_name stays"


def test_a_blank_or_directive_only_question_is_a_new_chat() -> None:
    assert clean_first_line("   \n\t") == "New chat"
    assert clean_first_line("[sim:echo]") == "New chat"


def test_a_long_first_line_is_cut_with_an_ellipsis() -> None:
    title = clean_first_line("word " * 40)
    assert len(title) <= TITLE_CHARS
    assert title.endswith("…")


def test_a_models_reply_becomes_one_clean_line() -> None:
    assert generated_title('Title: "Quarterly budget review."\nMore text') == (
        "Quarterly budget review"
    )
    assert generated_title("**Offsite in Lisbon**") == "Offsite in Lisbon"
    assert generated_title("  \n") is None


def test_generated_titles_are_on_by_default_only_where_the_operator_bills() -> None:
    assert titles_by_default(shared_credits=True) is True
    assert titles_by_default(shared_credits=False) is False


def test_the_title_call_is_small_and_sees_only_the_question() -> None:
    body = title_request("gpt-4o-mini", "x" * 5_000)
    assert body["model"] == "gpt-4o-mini"
    assert body["max_tokens"] <= 32
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert len(body["messages"][1]["content"]) == 2_000


def test_a_title_that_is_only_the_start_of_the_first_question_gives_way() -> None:
    question = "[sim:echo]## Plan the **Lisbon** offsite\nwith details"
    assert is_placeholder("New chat", question)
    assert is_placeholder("[sim:echo]## Plan the **Lisbon** offsite", question)  # the page's
    assert is_placeholder("[sim:echo]## Plan the **Lis…", question)
    assert not is_placeholder("Lisbon trip", question)  # chosen apart: kept
    assert not is_placeholder("", question)
