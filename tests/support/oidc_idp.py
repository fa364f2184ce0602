"""A real OpenID Connect provider for the tests (node's ``oidc-provider``, ``oidc_idp.mjs``),
and a person signing in at it without a browser.

The provider runs on 127.0.0.1 with two registered clients: ChatGrid's, and
another application's (a token issued to it is what a wrong audience looks
like). Its dev login form takes any login with any password; a test says which
claims a login has (``set_user``). The fixtures that start it live in the
conftest of the tests that use it.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from tests.support.processes import RunningProcess, free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oidc_idp.mjs")
CLIENT_ID = "chatgrid-web"
OTHER_CLIENT_ID = "another-app"


@dataclass
class OidcIdp:
    server: RunningProcess
    client_secret: str
    client_id: str = CLIENT_ID

    @property
    def issuer(self) -> str:
        return self.server.base_url

    def set_user(self, login: str, **claims: Any) -> None:
        """The claims of ``login`` from now on (``email_verified`` etc.)."""
        response = httpx.post(f"{self.issuer}/_test/users", json={login: claims}, timeout=10)
        response.raise_for_status()

    def issue_next_token_to(self, client_id: str) -> None:
        """The next ID token goes to another registered client (a wrong audience)."""
        response = httpx.post(
            f"{self.issuer}/_test/next-id-token", json={"audience": client_id}, timeout=10
        )
        response.raise_for_status()


def serve_idp(log_dir: Path, redirect_uris: list[str]) -> Iterator[OidcIdp]:
    """``start_idp`` for a fixture: the provider runs until the fixture ends."""
    provider = start_idp(log_dir, redirect_uris)
    try:
        yield provider
    finally:
        provider.server.stop()


def start_idp(log_dir: Path, redirect_uris: list[str]) -> OidcIdp:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").exists():
        raise RuntimeError("the OIDC tests need node and `npm ci` (oidc-provider)")
    port = free_port()
    secret = f"idp-secret-{secrets.token_hex(16)}"
    clients = [
        {"client_id": CLIENT_ID, "client_secret": secret, "redirect_uris": redirect_uris},
        {
            "client_id": OTHER_CLIENT_ID,
            "client_secret": f"other-{secrets.token_hex(8)}",
            "redirect_uris": redirect_uris,
        },
    ]
    log_path = log_dir / f"oidc-idp-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [node, str(SCRIPT), str(port), json.dumps(clients)], cwd=ROOT, stdout=log, stderr=log
        )
    issuer = f"http://127.0.0.1:{port}"
    wait_until_up(f"{issuer}/_test/health", process)
    return OidcIdp(RunningProcess(process, issuer, log_path), secret)


_FORM = re.compile(r'<form[^>]*action="([^"]+)"', re.IGNORECASE)


def sign_in_at_idp(authorize_url: str, login: str, *, stop_at: str) -> str:
    """Follow the provider's pages as a person would (its dev login form, any password)
    until it sends the browser to a URL starting with ``stop_at``; that URL."""
    with httpx.Client(timeout=15, follow_redirects=False) as browser:
        url = authorize_url
        for _ in range(12):
            if url.startswith(stop_at):
                return url
            response = browser.get(url)
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["location"])
                continue
            form = _FORM.search(response.text)
            assert response.status_code == 200 and form, response.text[:500]
            data = {"prompt": "login", "login": login, "password": "any password"}
            if 'name="login"' not in response.text:
                data = {"prompt": "consent"}
            posted = browser.post(urljoin(url, unescape(form.group(1))), data=data)
            assert posted.status_code in (302, 303), posted.text[:500]
            url = urljoin(url, posted.headers["location"])
    raise AssertionError("the provider never sent the browser back")
