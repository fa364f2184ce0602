"""Pooled keys of every provider on the simulator, added as the operator adds them.

The simulator answers OpenAI on ``/v1``, Anthropic's Messages API on its root
(the ``anthropic`` SDK's base URL) and Gemini's OpenAI-compatible endpoint on
``/v1beta/openai``; a pooled key is pointed at the right one by its provider.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai

from chatgrid.admin import keys
from chatgrid.ledger.money import BPS_DENOMINATOR, round_half_up
from chatgrid.providers.base import Provider, UpstreamConfig
from tests.support.deployment import Deployment, OrgHandle
from tests.support.ledger_checks import ledger

CLAUDE = "claude-sonnet-4-5-20250929"
GEMINI = "gemini-2.5-flash"
GPT = "gpt-4o-mini"

#: List prices in micro-dollars per 1M tokens (ledger/default_prices.json):
#: input, cached input, cache write (5 minutes), output.
LIST_PRICES: dict[str, tuple[int, int, int, int]] = {
    CLAUDE: (3_000_000, 300_000, 3_750_000, 15_000_000),
    GEMINI: (300_000, 30_000, 300_000, 2_500_000),
}


@dataclass(frozen=True)
class PooledKey:
    name: str
    provider: Provider
    secret: str
    fingerprint: str


def base_url(deployment: Deployment, provider: Provider) -> str:
    """Where the simulator serves ``provider``'s API."""
    root = deployment.simulator.base_url
    if provider is Provider.ANTHROPIC:
        return root
    if provider is Provider.GEMINI:
        return f"{root}/v1beta/openai"
    return f"{root}/v1"


def add_pooled_key(
    deployment: Deployment,
    name: str,
    provider: Provider,
    *,
    weight: int = 1,
    rpm: int | None = None,
    tpm: int | None = None,
    via_cli: bool = False,
) -> PooledKey:
    """A pooled key for ``provider`` on the simulator: through ``chatgrid pool add`` with
    ``via_cli`` (a process of its own), else through the admin function that command calls."""
    secret = f"sk-{name}-{secrets.token_hex(8)}"  # the simulator takes sk- keys only
    if via_cli:
        args = ["pool", "add", name, "--provider", provider.value]
        args += ["--base-url", base_url(deployment, provider), "--weight", str(weight)]
        args += ["--rpm", str(rpm)] if rpm is not None else []
        args += ["--tpm", str(tpm)] if tpm is not None else []
        result = deployment.instance.cli(*args, input=secret)
        assert result.returncode == 0, result.stderr
        shown = json.loads(result.stdout)
        assert secret not in result.stdout
        assert shown["provider"] == provider.value and shown["weight"] == weight
        return PooledKey(name, provider, secret, shown["fingerprint"])
    config = UpstreamConfig.create(provider, base_url=base_url(deployment, provider))
    stored = asyncio.run(
        keys.add_pool_key(
            deployment.context, name, config, secret, weight=weight, rpm_limit=rpm, tpm_limit=tpm
        )
    )
    return PooledKey(name, provider, secret, stored.sealed.fingerprint)


def openai_client(deployment: Deployment, org: OrgHandle) -> openai.OpenAI:
    return openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)


def anthropic_client(deployment: Deployment, org: OrgHandle) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=deployment.instance.base_url, api_key=org.token, max_retries=0
    )


def ask(deployment: Deployment, org: OrgHandle, model: str, surface: str = "chat") -> str:
    """One call the way a client makes it; the answer's text. ``surface``: ``chat``
    (the openai SDK's chat completions) or ``messages`` (the anthropic SDK's)."""
    if surface == "messages":
        message = anthropic_client(deployment, org).messages.create(
            model=model, max_tokens=64, messages=[{"role": "user", "content": "hi [sim:tokens=6]"}]
        )
        block = message.content[0]
        assert block.type == "text"
        return block.text
    answer = openai_client(deployment, org).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi [sim:tokens=6]"}]
    )
    text = answer.choices[0].message.content
    assert text
    return text


def schedule_fault(deployment: Deployment, status: int, count: int = 1) -> None:
    """The simulator's next ``count`` calls fail with ``status`` (Anthropic's 503 is 529)."""
    response = httpx.post(
        f"{deployment.simulator.base_url}/_sim/faults",
        json={"status": status, "count": count, "retry_after": 1},
    )
    response.raise_for_status()


def revoke_upstream(deployment: Deployment, secret: str) -> None:
    """The provider stops taking the key: 401 from now on."""
    httpx.post(
        f"{deployment.simulator.base_url}/_sim/keys/revoke", json={"key": secret}
    ).raise_for_status()


def served_by(deployment: Deployment, org_id: str) -> Counter[str]:
    """How many calls each key (by fingerprint) answered for the org."""
    return Counter(
        e["credential_fingerprint"] for e in ledger(deployment, org_id) if e["outcome"] == "ok"
    )


def upstream_calls(deployment: Deployment, pooled: list[PooledKey]) -> list[dict[str, Any]]:
    """The simulator's records of calls made with these keys (model lists excluded)."""
    secrets_ = {k.secret for k in pooled}
    return [
        r
        for r in deployment.simulator_records()
        if r["api_key"] in secrets_ and r["method"] == "POST"
    ]


def exact_charge(model: str, usage: dict[str, Any], markup_bps: int) -> tuple[int, int]:
    """List cost and the charge with markup, in micro-dollars, from the simulator's counts
    (rounded once, half up, as the price book rounds)."""
    input_rate, cached_rate, write_rate, output_rate = LIST_PRICES[model]
    cached = int(usage.get("cache_read_input_tokens", usage.get("cached_tokens", 0)))
    written = int(usage.get("cache_creation_input_tokens", 0))
    prompt = int(usage["prompt_tokens"])
    output = int(usage.get("completion_tokens", usage.get("output_tokens", 0)))
    exact = (
        (prompt - cached - written) * input_rate
        + cached * cached_rate
        + written * write_rate
        + output * output_rate
    )
    per_price_unit = 1_000_000  # prices are per 1M tokens
    listed = round_half_up(exact, per_price_unit)
    charged = round_half_up(
        exact * (BPS_DENOMINATOR + markup_bps), per_price_unit * BPS_DENOMINATOR
    )
    return listed, charged
