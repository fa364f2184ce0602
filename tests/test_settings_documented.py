"""Every setting is documented (the way Datasette keeps its docs honest)."""

from pathlib import Path

import pytest

from chatgrid.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    variable = f"CHATGRID_{name.upper()}"
    assert variable in DOCS, f"{variable} is not in README.md or docs/"
    assert Settings.model_fields[name].description, f"{name} has no description"
