"""The error tree drawn in ``errors.py``'s docstring is the code's own tree.

Every ``ChatGridError`` subclass, wherever it is defined, must appear in the
drawing under its real parent, so a reader can trust the picture.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import chatgrid
from chatgrid import errors
from chatgrid.errors import ChatGridError

_BRANCH = re.compile(r"^(?P<indent>(?:│   |    )*)(?:├── |└── )(?P<name>\w+)")


def drawn_parents() -> dict[str, str]:
    """Each drawn class name mapped to the name drawn above it one level up."""
    assert errors.__doc__ is not None
    lines = errors.__doc__.splitlines()
    root = next(i for i, line in enumerate(lines) if line.strip() == "ChatGridError")
    column = lines[root].index("ChatGridError")
    parents: dict[str, str] = {}
    path = ["ChatGridError"]
    for line in lines[root + 1 :]:
        match = _BRANCH.match(line[column:])
        if match is None:
            break
        depth = len(match["indent"]) // 4
        del path[depth + 1 :]
        parents[match["name"]] = path[depth]
        path.append(match["name"])
    return parents


def every_error_class() -> dict[str, type[ChatGridError]]:
    for module in pkgutil.walk_packages(chatgrid.__path__, "chatgrid."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: dict[str, type[ChatGridError]] = {}
    pending = [ChatGridError]
    while pending:
        for sub in pending.pop().__subclasses__():
            found[sub.__name__] = sub
            pending.append(sub)
    return found


def test_every_error_type_is_drawn_under_its_parent() -> None:
    drawn = drawn_parents()
    classes = every_error_class()
    missing = sorted(set(classes) - set(drawn))
    assert not missing, f"not drawn in errors.py's docstring: {missing}"
    stale = sorted(set(drawn) - set(classes))
    assert not stale, f"drawn but not in the code: {stale}"
    for name, cls in classes.items():
        parent = next(b for b in cls.__bases__ if issubclass(b, ChatGridError))
        assert drawn[name] == parent.__name__, f"{name} is drawn under {drawn[name]}"
