"""What the README and ``docs/`` name exists: every module path, every command and option.

Docs drift silently; these tests make a renamed module or command fail CI
until the prose that names it is fixed too.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
import typer.main

from chatgrid.cli import app

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "chatgrid"
DOCS = sorted([ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "bench" / "README.md"])
DOCS += sorted((ROOT / "docs").glob("*.md"))

_CODE = re.compile(r"`([^`\n]+)`")
_PATH = re.compile(r"^[\w./-]+\.(?:py|md|json|html|js|css|toml|txt)$")
_DOTTED = re.compile(r"^(?P<module>[a-z_]+(?:\.[a-z_]+)*)\.(?P<attr>[A-Z]\w*)(?:\.\w+)*(?:\(\))?$")


def spans(kind: re.Pattern[str]) -> list[tuple[str, str]]:
    """Every backticked span of the docs that matches ``kind``, with the doc naming it."""
    found = []
    for doc in DOCS:
        for code in _CODE.findall(doc.read_text()):
            if kind.match(code.strip()):
                found.append((doc.name, code.strip()))
    return found


def path_exists(path: str) -> bool:
    """A path counts relative to the repo, to the package, or (a bare name) anywhere in it."""
    if path.startswith("/") or path.startswith("bench/results/"):
        return True  # a URL path, or a file a bench run writes
    if (ROOT / path).exists() or (PACKAGE / path).exists():
        return True
    return any(ROOT.glob(f"src/**/{path}")) or any(ROOT.glob(f"bench/**/{path}"))


@pytest.mark.parametrize(("doc", "path"), spans(_PATH))
def test_every_named_file_exists(doc: str, path: str) -> None:
    assert path_exists(path), f"{doc} names {path}, which does not exist"


def resolve_dotted(name: str) -> bool:
    """``package.Class.attr``: the class in the package or one of its modules, with that attr."""
    module_path, _, rest = name.removesuffix("()").partition(".")
    parts = [module_path, *rest.split(".")]
    split = next(i for i, part in enumerate(parts) if part[:1].isupper())
    package = importlib.import_module("chatgrid." + ".".join(parts[:split]))
    holders = [package]
    if hasattr(package, "__path__"):
        holders += [
            importlib.import_module(f"{package.__name__}.{info.name}")
            for info in pkgutil.iter_modules(package.__path__)
        ]
    for holder in holders:
        target: object = holder
        for attr in parts[split:]:
            target = getattr(target, attr, None)
        if target is not None:
            return True
    return False


@pytest.mark.parametrize(
    ("doc", "name"),
    [(doc, code) for doc, code in spans(_DOTTED) if not code.startswith(("e.g", "i.e"))],
)
def test_every_named_class_exists(doc: str, name: str) -> None:
    if path_exists(name):
        return  # a file such as common_passwords.LICENSE
    try:
        found = resolve_dotted(name)
    except ImportError:
        found = False
    assert found, f"{doc} names {name}, which is not there"


def commands() -> list[tuple[str, str]]:
    return [(doc, code) for doc, code in spans(re.compile(r"^chatgrid \S"))]


def resolve_command(words: list[str]) -> tuple[Any, bool]:
    """The command the words name, and whether it is a group (typer bundles its own click)."""
    command: Any = typer.main.get_command(app)
    for word in words:
        if word not in getattr(command, "commands", {}):
            break
        command = command.commands[word]
    return command, hasattr(command, "commands")


@pytest.mark.parametrize(("doc", "line"), commands())
def test_every_named_command_and_option_exists(doc: str, line: str) -> None:
    words = [w for w in re.split(r"[\s\[\]|\\]+", line)[1:] if w]
    if words and words[0] == "…":
        return
    command, is_group = resolve_command(words)
    assert not is_group or "|" in line, f"{doc}: `{line}` names no command"
    options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for word in words:
        flag = word.split("=", 1)[0]
        if flag.startswith("--"):
            assert flag in options, f"{doc}: `{line}` names {flag}, which {command.name} lacks"
