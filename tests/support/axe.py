"""axe-core in a real page: the accessibility check every browser test shares.

axe-core comes from npm (``package.json``; ``npm ci`` installs it). Its source
is evaluated through the DevTools protocol rather than added as a ``<script>``,
so the page's strict CSP stays on while it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = frozenset({"serious", "critical"})

Violation = dict[str, Any]


def run_axe(page: Page, exclude: tuple[str, ...] = ()) -> list[Violation]:
    """Every rule the page breaks, whatever its impact (outside ``exclude``: another
    party's widget, such as Stripe's card field)."""
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `npm ci` at the repository root")
    page.evaluate("() => {" + AXE.read_text() + "\n}")
    result: dict[str, Any] = page.evaluate(
        """async (exclude) => await window.axe.run(
            exclude.length ? {include: [["html"]], exclude: exclude.map((s) => [s])} : document,
            {resultTypes: ['violations']})""",
        list(exclude),
    )
    violations: list[Violation] = result["violations"]
    return violations


def serious(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.get("impact") in SERIOUS]


def axe_violations(page: Page) -> list[Violation]:
    """The serious and critical violations: the ones a test refuses."""
    return serious(run_axe(page))


def describe(violations: list[Violation]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in violations
    )
