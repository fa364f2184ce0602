"""Backups of a SQLite deployment, taken while it serves, and their restore.

SQLite's online backup API copies the database page by page under its own
locks, so a backup taken while the ledger writer commits is one consistent
moment (WAL included) without stopping the server. The copy is then turned
into one self-contained file (rollback journal, no ``-wal`` beside it) and
marked with a ``chatgrid_backup`` row naming its schema revision, so
``restore`` can refuse a file that is not ours or comes from a newer ChatGrid.

The master key is never copied: a backup holds upstream keys only sealed
under it, so a stolen backup without the key is unreadable by design, and a
restored one without the key is unreadable too. ``key_location`` says where
the key lives so the operator backs it up separately.

PostgreSQL deployments back up with ``pg_dump``; ChatGrid does not wrap it.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory

from chatgrid.errors import Conflict, InvalidRequest
from chatgrid.settings import Settings
from chatgrid.store.migrate import MIGRATIONS_DIR, upgrade_to_head
from chatgrid.vault.keyring import KEY_FILE_NAME

MARKER_TABLE = "chatgrid_backup"

PG_DUMP_ADVICE = (
    "this deployment uses PostgreSQL (CHATGRID_DATABASE_URL): back it up with "
    '`pg_dump --format=custom --file=chatgrid.dump "$CHATGRID_DATABASE_URL"` and restore '
    "with `pg_restore --clean --if-exists --dbname=...`; `chatgrid backup` only copies SQLite"
)


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file says about itself."""

    path: Path
    revision: str
    taken_at: str
    size_bytes: int


def key_location(settings: Settings) -> str:
    """Where the master key this data needs lives (never its value)."""
    if settings.master_key is not None:
        return "the CHATGRID_MASTER_KEY environment variable (or your secret store that sets it)"
    return str(settings.data_dir / KEY_FILE_NAME)


def _revisions() -> set[str]:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return {rev.revision for rev in script.walk_revisions()}


def _refuse_postgres(settings: Settings) -> None:
    if settings.database_url and not settings.database_url.startswith("sqlite"):
        raise InvalidRequest(PG_DUMP_ADVICE, code="backup_needs_pg_dump")


def _revision_of(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return None if row is None else str(row[0])


def take_backup(settings: Settings, target: Path, *, now: datetime | None = None) -> BackupInfo:
    """Copy the live SQLite database to ``target`` (a new file) while it serves."""
    _refuse_postgres(settings)
    source_path = settings.sqlite_path
    if not source_path.exists():
        raise InvalidRequest(f"no database at {source_path} to back up", code="no_database")
    if target.exists():
        raise Conflict(f"{target} exists: choose a new file", code="backup_exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            # One step: in WAL mode the read snapshot blocks no writer, while a
            # copy in several steps would restart whenever the ledger commits.
            source.backup(copy)
            revision = _revision_of(copy)
            if revision is None:
                raise InvalidRequest(
                    f"{source_path} is not a ChatGrid database", code="no_database"
                )
            taken_at = (now or datetime.now(UTC)).isoformat()
            copy.execute("PRAGMA journal_mode=DELETE")
            copy.execute(
                f"CREATE TABLE {MARKER_TABLE} (revision TEXT NOT NULL, taken_at TEXT NOT NULL)"
            )
            copy.execute(f"INSERT INTO {MARKER_TABLE} VALUES (?, ?)", (revision, taken_at))  # noqa: S608
            copy.commit()
        finally:
            copy.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    os.replace(partial, target)
    return BackupInfo(target, revision, taken_at, target.stat().st_size)


def inspect_backup(path: Path) -> BackupInfo:
    """The backup's own description; refuses a file that is not a ChatGrid backup."""
    if not path.is_file():
        raise InvalidRequest(f"no backup file at {path}", code="not_a_backup")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute(f"SELECT revision, taken_at FROM {MARKER_TABLE}").fetchone()  # noqa: S608
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        row = None
    if row is None:
        raise InvalidRequest(
            f"{path} is not a ChatGrid backup (made by `chatgrid backup`)", code="not_a_backup"
        )
    revision, taken_at = str(row[0]), str(row[1])
    if revision not in _revisions():
        raise InvalidRequest(
            f"{path} comes from a newer ChatGrid (schema {revision}): restore it with that "
            "version or later",
            code="backup_too_new",
        )
    return BackupInfo(path, revision, taken_at, path.stat().st_size)


def restore_backup(settings: Settings, source: Path, *, force: bool = False) -> BackupInfo:
    """Put ``source`` in place as the data dir's database, then migrate it to head.

    Refuses to overwrite a database unless ``force`` (the server must be stopped
    then: a running one keeps its open file). The backup itself is not changed.
    """
    _refuse_postgres(settings)
    info = inspect_backup(source)
    target = settings.sqlite_path
    if target.exists() and not force:
        raise Conflict(
            f"{target} already holds a database: restore into a new data dir, or stop the "
            "server and pass --force to replace it",
            code="database_exists",
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        copy = sqlite3.connect(partial)
        try:
            backup.backup(copy)
            copy.execute(f"DROP TABLE {MARKER_TABLE}")
            copy.commit()
        finally:
            copy.close()
            backup.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    for stale in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        stale.unlink(missing_ok=True)
    os.replace(partial, target)
    _migrate(settings)
    return info


def _migrate(settings: Settings) -> None:
    from chatgrid.store.engine import create_db_engine

    engine = create_db_engine(settings)
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()
