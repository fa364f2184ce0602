"""Shared pieces of the command line: settings, the app context, output, audit."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError

from chatgrid.context import AppContext
from chatgrid.errors import ChatGridError
from chatgrid.settings import Settings
from chatgrid.store.migrate import upgrade_to_head
from chatgrid.vault.keyring import KeyringError

OrgArg = Annotated[str, typer.Argument(help="The org's id or unique name.")]


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        fail(f"invalid settings: {exc}")


@contextmanager
def admin_context() -> Iterator[AppContext]:
    """An app context on a migrated database; domain errors become clean exits."""
    try:
        ctx = AppContext.open(load_settings())
    except KeyringError as exc:
        fail(str(exc))
    try:
        upgrade_to_head(ctx.engine)
        ctx.prices.seed_defaults()
        yield ctx
    except ChatGridError as exc:
        fail(exc.message)
    except KeyringError as exc:
        fail(str(exc))
    finally:
        ctx.close()


def emit(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def read_secret(prompt: str = "API key (input hidden): ", *, what: str = "key") -> str:
    """A secret from standard input (hidden prompt on a terminal), never from arguments.

    Keys are stripped of surrounding white space; a password keeps it, losing
    only the line ending a pipe adds.
    """
    raw = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.read()
    secret = raw.strip() if what == "key" else raw.rstrip("\r\n")
    if not secret:
        fail(f"no {what} on standard input (pipe it in: `... < file`)")
    return secret


def run_async(coroutine_factory: Callable[[], Any]) -> Any:
    return asyncio.run(coroutine_factory())
