"""The suite's own layout holds: test modules do not import each other.

A helper that one test module imports from another (or from a
``conftest.py``) ties the two together: moving, renaming or deleting the
test that happens to hold it breaks tests that have nothing to do with it,
and pytest may import the same file twice under two names. Shared helpers
live in ``tests/support/`` (plain modules that import no test module and no
conftest); ``conftest.py`` files keep only fixtures and hooks.

Every ``import`` and ``from ... import`` counts, wherever it is written (at
the top or inside a function), and relative imports are resolved first.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ALLOWED = "tests.support"


def module_name(path: Path) -> tuple[str, bool]:
    """The dotted name of a file under ``tests/``, and whether it is a package."""
    parts = list(path.relative_to(TESTS.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def imported(source: str, module: str, is_package: bool) -> set[str]:
    """Every dotted name the source imports (``from a import b`` counts as ``a.b``)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def is_forbidden(name: str) -> bool:
    """A name in ``tests`` outside ``tests.support`` (a test module, a conftest, a folder)."""
    if name != "tests" and not name.startswith("tests."):
        return False
    return not (name == ALLOWED or name.startswith(f"{ALLOWED}."))


def checked_files() -> list[Path]:
    """Test modules, conftest files and the support modules (which must stay conftest-free)."""
    files = {*TESTS.rglob("test_*.py"), *TESTS.rglob("conftest.py")}
    files.update((TESTS / "support").rglob("*.py"))
    return sorted(files)


def offences(path: Path) -> list[str]:
    module, is_package = module_name(path)
    names = imported(path.read_text(encoding="utf-8"), module, is_package)
    return sorted(f"{module} imports {name}" for name in names if is_forbidden(name))


def test_the_walk_sees_every_kind_of_import() -> None:
    """The checker itself: absolute, relative, ``from tests import`` and nested imports."""
    source = (
        "import tests.web.test_routes\n"
        "from tests.conftest import Deployment\n"
        "from tests import web\n"
        "from . import conftest\n"
        "from .test_pool import add_pool_keys\n"
        "from tests.support.console import World\n"
        "from tests import support\n"
        "def f():\n"
        "    from tests.integration.test_replicas import Cluster\n"
    )
    names = imported(source, "tests.integration.test_limits", is_package=False)
    assert sorted(name for name in names if is_forbidden(name)) == [
        "tests.conftest.Deployment",
        "tests.integration.conftest",
        "tests.integration.test_pool.add_pool_keys",
        "tests.integration.test_replicas.Cluster",
        "tests.web",
        "tests.web.test_routes",
    ]


def test_the_walk_covers_the_suite() -> None:
    files = checked_files()
    assert TESTS / "conftest.py" in files
    assert Path(__file__).resolve() in files
    assert TESTS / "support" / "deployment.py" in files


def test_no_test_module_or_conftest_imports_another_test_module_or_a_conftest() -> None:
    found = [offence for path in checked_files() for offence in offences(path)]
    assert not found, "move what they share into tests/support/:\n" + "\n".join(found)


def test_only_the_new_database_fixture_makes_postgresql_databases() -> None:
    """The PostgreSQL pass runs just the tests with ``new_database`` among their fixtures
    (``tests/conftest.py``); that is only sound while nothing else can reach PostgreSQL."""
    makers = {
        path.relative_to(TESTS).as_posix()
        for path in TESTS.rglob("*.py")
        if "DatabaseFactory()" in path.read_text() or "PG_ADMIN_URL" in path.read_text()
    }
    assert makers == {"conftest.py", "support/deployment.py", "test_test_layout.py"}
