"""How light the console's pages are, and how soon the chat page shows a first token.

Two figures, each against a baseline measured in the same run:

* **Bytes per page**: the JavaScript and CSS each page loads (a fresh browser
  context per page, so nothing comes from the cache), beside the HTML itself.
* **Time to first token as the page shows it**: from pressing Enter in the
  composer to the first answer text painted, in Chromium, against the
  gateway's own time to the first streamed byte for the same request (its
  ``/v1`` path, called directly), and the simulator called directly. What the
  page adds on top of the gateway is the console's request, the turn's own
  work (history, the question written) and the SSE and DOM handling.

    .venv/bin/python bench/page.py [--turns 15]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.browser import CHROMIUM, FLAGS

from _stack import BYOK_ORG, DIRECT_KEY, start_stack
from chatgrid.identity.passwords import hash_password

EMAIL = "a@x.com"
PASSWORD = "bench horse battery staple"
PAGES = [
    "",
    "/chat",
    "/documents",
    "/prompts",
    "/usage",
    "/calls",
    "/members",
    "/key",
    "/limits",
    "/tokens",
    "/audit",
]
QUESTION = "[sim:tokens=4] Say hello"
# Records when the first answer text is painted after ``window.__t0``.
WATCH_FIRST_TOKEN = """() => {
  window.__t1 = null;
  const log = document.querySelector('main') || document.body;
  const seen = new Set(document.querySelectorAll('article.message-assistant'));
  const observer = new MutationObserver(() => {
    for (const a of document.querySelectorAll('article.message-assistant')) {
      if (seen.has(a)) continue;
      const body = a.querySelector('.message-body');
      if (body && body.textContent.trim().length > 0) {
        window.__t1 = performance.now();
        observer.disconnect();
        return;
      }
    }
  });
  observer.observe(log, { subtree: true, childList: true, characterData: true });
}"""


def _set_password(data_dir: Path) -> str:
    """The BYOK org's owner gets a password (the CLI provisions members without one)."""
    with sqlite3.connect(data_dir / "chatgrid.db") as db:
        db.execute(
            "UPDATE users SET password_hash = ? WHERE email = ?", (hash_password(PASSWORD), EMAIL)
        )
        (org_id,) = db.execute("SELECT id FROM orgs WHERE name = ?", (BYOK_ORG,)).fetchone()
    return str(org_id)


def _sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/orgs/**")


def page_bytes(browser: object, base: str, org_id: str) -> list[tuple[str, int, int, int]]:
    """(page, html, js, css) bytes, each page in a fresh context (an empty cache)."""
    rows = []
    for suffix in PAGES:
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        _sign_in(page, base)
        sizes = {"html": 0, "js": 0, "css": 0}

        def count(response: object, sizes: dict[str, int] = sizes) -> None:
            kind = response.headers.get("content-type", "")  # type: ignore[attr-defined]
            try:
                size = len(response.body())  # type: ignore[attr-defined]
            except Exception:  # a redirect has no body
                return
            if "javascript" in kind:
                sizes["js"] += size
            elif "text/css" in kind:
                sizes["css"] += size
            elif "text/html" in kind and response.request.resource_type == "document":  # type: ignore[attr-defined]
                sizes["html"] += size

        page.on("response", count)
        page.goto(f"{base}/orgs/{org_id}{suffix}", wait_until="networkidle")
        rows.append((suffix or "/ (overview)", sizes["html"], sizes["js"], sizes["css"]))
        context.close()
    return rows


def page_first_tokens(browser: object, base: str, org_id: str, turns: int) -> list[float]:
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    _sign_in(page, base)
    page.goto(f"{base}/orgs/{org_id}/chat")
    page.locator("#model option").first.wait_for(state="attached")
    box = page.get_by_label("Message", exact=True)
    times = []
    for _ in range(turns + 2):  # two warm-up turns
        page.evaluate(WATCH_FIRST_TOKEN)
        box.fill(QUESTION)
        page.evaluate("window.__t0 = performance.now()")
        box.press("Enter")
        page.wait_for_function("() => window.__t1 !== null", timeout=30_000)
        times.append(page.evaluate("window.__t1 - window.__t0"))
        page.wait_for_function(
            "() => !document.querySelector('article.message-assistant.is-streaming')",
            timeout=30_000,
        )
    context.close()
    return times[2:]


async def _first_bytes(url: str, key: str, turns: int) -> list[float]:
    body = {
        "model": "gpt-4o-mini",
        "stream": True,
        "messages": [{"role": "user", "content": QUESTION}],
    }
    times = []
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(turns + 2):
            started = time.perf_counter()
            async with client.stream(
                "POST", url, json=body, headers={"Authorization": f"Bearer {key}"}
            ) as response:
                first = True
                async for chunk in response.aiter_bytes():
                    if chunk and first:
                        times.append((time.perf_counter() - started) * 1000)
                        first = False
    return times[2:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=15)
    args = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        services = start_stack(stack, data_dir)
        org_id = _set_password(data_dir)
        base = services.gateway.base_url
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            try:
                sizes = page_bytes(browser, base, org_id)
                shown = page_first_tokens(browser, base, org_id, args.turns)
            finally:
                browser.close()
        gateway = asyncio.run(
            _first_bytes(f"{base}/v1/chat/completions", services.byok_token, args.turns)
        )
        direct = asyncio.run(
            _first_bytes(
                f"{services.simulator.base_url}/v1/chat/completions", DIRECT_KEY, args.turns
            )
        )
    print("Bytes each console page loads (fresh cache), KiB:")
    print(f"  {'page':<16}{'HTML':>8}{'JS':>8}{'CSS':>8}")
    for name, html, js, css in sizes:
        print(f"  {name:<16}{html / 1024:>8.1f}{js / 1024:>8.1f}{css / 1024:>8.1f}")
    heaviest = max(sizes, key=lambda row: row[2] + row[3])
    print(f"  heaviest: {heaviest[0]} ({(heaviest[2] + heaviest[3]) / 1024:.1f} KiB of JS and CSS)")
    print()
    print(f"Time to first token, p50 of {args.turns} turns (ms):")
    page_p50 = statistics.median(shown)
    gateway_p50 = statistics.median(gateway)
    direct_p50 = statistics.median(direct)
    print(f"  simulator called directly        {direct_p50:8.2f}")
    gateway_ratio = gateway_p50 / direct_p50
    page_ratio = page_p50 / gateway_p50
    print(f"  gateway /v1 stream first byte    {gateway_p50:8.2f}   {gateway_ratio:6.2f}x direct")
    print(
        f"  chat page, Enter to first token  {page_p50:8.2f}   {page_ratio:6.2f}x gateway"
        f"  (+{page_p50 - gateway_p50:.2f} ms)"
    )


if __name__ == "__main__":
    main()
