"""The console's settings are described in code and documented in docs/console.md."""

from __future__ import annotations

from pathlib import Path

from chatgrid.settings import Settings

CONSOLE_DOC = Path(__file__).resolve().parents[2] / "docs" / "console.md"
CONSOLE_SETTINGS = [
    name
    for name in Settings.model_fields
    if name.startswith(("smtp_", "session_", "login_", "invitation_", "signup_", "public_"))
]


def test_every_console_setting_has_a_description_and_a_line_in_the_docs() -> None:
    doc = CONSOLE_DOC.read_text()
    assert len(CONSOLE_SETTINGS) >= 15
    for name in CONSOLE_SETTINGS:
        assert Settings.model_fields[name].description, name
        assert f"CHATGRID_{name.upper()}" in doc, name


def test_the_docs_name_the_first_operator_step() -> None:
    assert "chatgrid operator create" in CONSOLE_DOC.read_text()
