"""``chatgrid backup`` and ``chatgrid restore``: thin over ``store.backup``.

Both print where the master key lives: a backup never holds it, so without
a separate copy of the key the stored upstream keys cannot be opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chatgrid.cli.common import emit, fail, load_settings
from chatgrid.errors import ChatGridError
from chatgrid.store import backup as backups

_KEY_NOTE = (
    "the backup does not contain the master key; without it the stored upstream keys "
    "cannot be decrypted: back the key up separately (kept apart from the backup)"
)


def backup(
    path: Annotated[Path, typer.Argument(help="A new file to write the backup to.")],
) -> None:
    """Copy the SQLite database while the server runs (PostgreSQL: use pg_dump)."""
    settings = load_settings()
    try:
        info = backups.take_backup(settings, path)
    except ChatGridError as exc:
        fail(exc.message)
    emit(
        {
            "backup": str(info.path),
            "schema_revision": info.revision,
            "taken_at": info.taken_at,
            "size_bytes": info.size_bytes,
            "master_key": backups.key_location(settings),
            "note": _KEY_NOTE,
        }
    )


def restore(
    path: Annotated[Path, typer.Argument(help="A file made by `chatgrid backup`.")],
    force: Annotated[
        bool,
        typer.Option(help="Replace an existing database (stop the server first)."),
    ] = False,
) -> None:
    """Restore a backup into the data dir (empty, or --force), then migrate it."""
    settings = load_settings()
    try:
        info = backups.restore_backup(settings, path, force=force)
    except ChatGridError as exc:
        fail(exc.message)
    emit(
        {
            "restored": str(settings.sqlite_path),
            "from": str(info.path),
            "schema_revision": info.revision,
            "taken_at": info.taken_at,
            "master_key": backups.key_location(settings),
            "note": "put the master key the backup was taken with at that place before "
            "`chatgrid serve`; a new key would be generated otherwise and the stored "
            "upstream keys could not be decrypted",
        }
    )
