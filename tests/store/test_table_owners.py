"""Every table has one owner: one module of ``src/chatgrid`` writes it.

An insert, update or delete of a table anywhere else is a second owner, and
two owners drift apart (the ``orgs`` row was once written by four
repositories, each with its own idea of what an org is). A repository that
must write another's table inside its own transaction calls the owner's
function with its connection (``store.orgs.insert_org``,
``store.seats.seat_member``...). The owners are listed in
``docs/architecture.md`` ("Storage"), checked here against the code.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sqlalchemy import Table

import chatgrid.store.tables as tables
from chatgrid.store.document_ingest import IngestionQueue
from chatgrid.store.documents import DocumentRepository

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "chatgrid"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
WRITES = {"insert", "update", "delete"}

#: Python name of each table in ``chatgrid.store.tables`` → the table's name.
TABLES = {name: t.name for name, t in vars(tables).items() if isinstance(t, Table)}

#: A repository too long for one module: its part → the module of the repository.
#: ``DocumentRepository`` (documents.py) inherits the ingestion queue's writes.
REPOSITORY_PARTS = {"chatgrid.store.document_ingest": "chatgrid.store.documents"}


def _module(path: Path) -> str:
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return REPOSITORY_PARTS.get(module, module)


def _table_written_by(call: ast.Call) -> str | None:
    """The table a call inserts into, updates or deletes from (``orgs.insert()``,
    ``update(orgs)``, ``postgresql.insert(orgs)``), if it names one."""
    func = call.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr in WRITES
        and isinstance(func.value, ast.Name)
        and func.value.id in TABLES
    ):
        return TABLES[func.value.id]
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name in WRITES and call.args and isinstance(call.args[0], ast.Name):
        return TABLES.get(call.args[0].id)
    return None


def writers() -> dict[str, set[str]]:
    """table → the modules that write it."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # a migration changes the schema's history, not the data's owner
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and (table := _table_written_by(node)):
                found.setdefault(table, set()).add(_module(path))
    return found


def documented_owners() -> dict[str, str]:
    """table → owner module, from docs/architecture.md's list
    (``- `table`, `table` — `store/module.py`: ...``)."""
    owners = {}
    for line in ARCHITECTURE.read_text("utf-8").splitlines():
        if not line.startswith("- `") or " — " not in line:
            continue
        tables_named, _, owner = line.partition(" — ")
        path = re.match(r"`(store/[a-z_/]+)\.py`", owner)
        if path:
            for table in re.findall(r"`([a-z_]+)`", tables_named):
                owners[table] = "chatgrid." + path.group(1).replace("/", ".")
    return owners


def test_the_walk_sees_the_writes_it_looks_for() -> None:
    source = "orgs.insert()\nupdate(users)\npostgresql.insert(ledger_entries)\ndelete(x)\n"
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)]
    assert {_table_written_by(c) for c in calls} == {"orgs", "users", "ledger_entries", None}
    assert {"orgs", "users", "members", "api_tokens"} <= set(TABLES.values())
    assert issubclass(DocumentRepository, IngestionQueue)  # one repository, two modules


def test_every_table_is_written_by_one_module() -> None:
    shared = {table: sorted(mods) for table, mods in writers().items() if len(mods) > 1}
    assert shared == {}, "tables written by more than one module"


def test_the_documented_owner_of_each_table_is_the_module_that_writes_it() -> None:
    documented = documented_owners()
    actual = {table: next(iter(mods)) for table, mods in writers().items() if len(mods) == 1}
    undocumented = sorted(set(actual) - set(documented))
    assert undocumented == [], "add these tables' owners to docs/architecture.md (Storage)"
    wrong = {t: (documented[t], actual[t]) for t in actual if documented[t] != actual[t]}
    assert wrong == {}, "docs/architecture.md names another owner (documented, actual)"
    unknown = sorted(set(documented) - set(TABLES.values()))
    assert unknown == [], "docs/architecture.md names tables that do not exist"
