"""Saved prompts on the configured backend: names unique per shelf, shelves counted, org-scoped."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chatgrid.context import AppContext
from chatgrid.errors import Conflict
from chatgrid.identity.models import BillingMode
from chatgrid.store.prompts import PromptRepository
from chatgrid.store.tables import metadata


def test_the_migration_builds_the_table_the_code_describes(context: AppContext) -> None:
    with context.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if "prompts" in repr(d)] == []


def test_a_name_is_unique_on_its_shelf_and_a_full_shelf_takes_no_more(
    context: AppContext,
) -> None:
    org = context.orgs.create("prompts-a", BillingMode.BYOK).id
    other = context.orgs.create("prompts-b", BillingMode.BYOK).id
    store = PromptRepository(context.engine)
    shared = store.add_prompt(org, None, "summarize", "shared text", 2)
    assert shared is not None and shared.is_shared
    with pytest.raises(Conflict) as taken:
        store.add_prompt(org, None, "summarize", "again", 2)
    assert taken.value.code == "prompt_name_taken"
    # Another org's shared shelf is its own.
    assert store.add_prompt(other, None, "summarize", "theirs", 2) is not None
    assert store.add_prompt(org, None, "tldr", "short", 2) is not None
    assert store.add_prompt(org, None, "third", "one too many", 2) is None
    assert [p.name for p in store.prompts_visible(org, "mem_nobody")] == ["summarize", "tldr"]
    # Ids from another org find nothing, change nothing.
    assert store.prompt(other, shared.id) is None
    assert store.update_prompt(other, shared.id, "x", "y") is None
    assert store.delete_prompt(other, shared.id) is False
    assert store.prompt(org, shared.id) == shared


def test_saves_racing_for_the_last_place_do_not_both_get_it(context: AppContext) -> None:
    org = context.orgs.create("prompts-race", BillingMode.BYOK).id
    store = PromptRepository(context.engine)
    assert store.add_prompt(org, None, "first", "text", 2) is not None
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def save(n: int) -> None:
        start.wait()
        added = store.add_prompt(org, None, f"p{n}", "text", 2)
        outcomes.append("saved" if added else "full")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["full", "full", "full", "saved"]
    assert len(store.prompts_visible(org, "mem_nobody")) == 2
