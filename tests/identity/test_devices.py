"""How a session's device is named on the account page, and its public handle."""

from __future__ import annotations

import pytest

from chatgrid.identity.devices import device_label, session_handle
from chatgrid.identity.sessions import hash_session_id

AGENTS = {
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0": "Firefox on Linux",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36": "Chrome on Windows",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0": "Edge on Windows",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15": "Safari on macOS",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1": "Safari on iPhone",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36": "Chrome on Android",
    "python-httpx/0.28.1": "python-httpx/0.28.1",
    None: "Unknown device",
    "": "Unknown device",
}


@pytest.mark.parametrize(("agent", "label"), AGENTS.items())
def test_a_device_is_named_for_a_person(agent: str | None, label: str) -> None:
    assert device_label(agent) == label


def test_an_unknown_agent_is_cut_short_and_printable() -> None:
    assert device_label("x" * 300 + "\x00") == "x" * 40
    assert device_label("\x00\x01") == "Unknown device"


def test_the_handle_is_stable_and_not_the_stored_hash() -> None:
    stored = hash_session_id("a session id")
    handle = session_handle(stored)
    assert handle == session_handle(stored) and handle.startswith("ses_") and len(handle) == 24
    assert handle[4:] not in stored
