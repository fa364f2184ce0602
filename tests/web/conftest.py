"""Console fixtures: a console app on a fresh database, browsers, and the personas.

alice owns org A, bob is a plain member of A, dave is a member of A that
tests act on, and charlie owns org B. Each persona signs in through the
API, as a browser would, and keeps its cookie and CSRF token.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatgrid.context import AppContext
from tests.support.console import World, build_world, open_context
from tests.support.deployment import DatabaseFactory
from tests.support.mail import Inbox, mail_settings, running_inbox


@pytest.fixture
def world(context: AppContext) -> World:
    """Personas on a fresh database of this test's own."""
    return build_world(context)


@pytest.fixture(scope="module")
def shared_world(
    tmp_path_factory: pytest.TempPathFactory, new_database: DatabaseFactory
) -> Iterator[World]:
    """Personas shared by a module's read-only (refused) requests."""
    ctx = open_context(tmp_path_factory.mktemp("console") / "data", new_database())
    try:
        yield build_world(ctx)
    finally:
        ctx.close()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with running_inbox() as running:
        yield running


@pytest.fixture
def mail_context(
    tmp_path: Path, postgres_database: str | None, inbox: tuple[Inbox, int]
) -> Iterator[AppContext]:
    """An app context that mails through the local SMTP server (links to http://testserver)."""
    ctx = open_context(tmp_path / "data", postgres_database, **mail_settings(inbox[1]))
    try:
        yield ctx
    finally:
        ctx.close()
