"""How a member's own sessions are shown: a device name from the user agent, a handle.

The device name is a label for a person reading their session list ("Firefox
on Linux"), never a security decision, so a few patterns suffice; anything
unknown is shown as its first characters.

A session is named in pages and URLs by a handle derived from the stored
hash of its id, never by that hash: the hash is what the database looks
sessions up by, and nothing outside it needs to know it.
"""

from __future__ import annotations

import hashlib
import re

_BROWSERS = [  # order matters: Edge and Opera also say Chrome, Chrome also says Safari
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\b(?:OPR|Opera)/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS|Chromium)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/")),
]
_SYSTEMS = [
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b")),
]
_SHOWN_WHEN_UNKNOWN = 40


def device_label(user_agent: str | None) -> str:
    """ "Firefox on Linux", "Chrome on Android", or the agent's start when unknown."""
    if not user_agent:
        return "Unknown device"
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return str(browser or system)
    shown = "".join(ch for ch in user_agent if ch.isprintable())[:_SHOWN_WHEN_UNKNOWN]
    return shown or "Unknown device"


def session_handle(id_hash: str) -> str:
    """A stable public name for one session (``ses_`` + 20 hex characters)."""
    digest = hashlib.sha256(b"chatgrid/session-handle/" + id_hash.encode()).hexdigest()
    return "ses_" + digest[:20]
