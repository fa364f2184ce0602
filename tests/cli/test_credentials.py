"""`chatgrid credential set|show|revoke|prefer` with several keys per org, in-process
(Typer's runner) against the simulator."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chatgrid.cli import app
from tests.support.deployment import settings_env
from tests.support.processes import RunningProcess

Env = dict[str, str | None]


def _run(env: Env, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env, input=input)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def env(tmp_path: Path, postgres_database: str | None) -> Env:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env: Env = {k: None for k in os.environ if k.startswith("CHATGRID_")}
    env.update(settings_env(data_dir, postgres_database))
    assert _run(env, "org", "create", "keys-co", "--mode", "byok")[0] == 0
    return env


def _set(env: Env, sim: str, key: str, *options: str) -> dict[str, Any]:
    code, out, err = _run(
        env, "credential", "set", "keys-co", "--base-url", f"{sim}/v1", *options, input=key
    )
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_an_org_holds_a_key_per_provider_and_per_named_server(
    env: Env, simulator: RunningProcess
) -> None:
    sim = simulator.base_url
    openai_key, local_key, vllm_key = "sk-cli-openai-0001", "sk-cli-local-0002", "sk-cli-vllm-0003"
    first = _set(env, sim, openai_key)  # --provider defaults to openai, as before
    assert (first["provider"], first["name"]) == ("openai", "")
    compat = ("--provider", "openai-compatible")
    _set(env, sim, local_key, *compat, "--name", "local")
    _set(env, sim, vllm_key, *compat, "--name", "vllm")
    rotated = _set(env, sim, "sk-cli-local-0004", *compat, "--name", "local")

    code, out, _ = _run(env, "credential", "show", "keys-co")
    shown = json.loads(out)
    assert code == 0
    assert [(k["provider"], k["name"], k["last4"]) for k in shown["keys"]] == [
        ("openai", "", "0001"),
        ("openai-compatible", "local", "0004"),
        ("openai-compatible", "vllm", "0003"),
    ]
    assert shown["keys"][1]["fingerprint"] == rotated["fingerprint"]
    for key in (openai_key, local_key, vllm_key, "sk-cli-local-0004"):
        assert key not in out

    code, _, err = _run(env, "credential", "revoke", "keys-co")
    assert code == 1 and "several keys" in err
    code, out, _ = _run(
        env, "credential", "revoke", "keys-co", "--provider", "openai-compatible", "--name", "vllm"
    )
    assert code == 0 and json.loads(out)["name"] == "vllm"
    _, out, _ = _run(env, "credential", "show", "keys-co")
    assert [k["name"] for k in json.loads(out)["keys"]] == ["", "local"]


def test_only_openai_compatible_servers_take_a_name(env: Env, simulator: RunningProcess) -> None:
    code, _, err = _run(
        env,
        "credential",
        "set",
        "keys-co",
        "--provider",
        "openai",
        "--name",
        "second",
        "--base-url",
        f"{simulator.base_url}/v1",
        input="sk-cli-named-0005",
    )
    assert code == 1 and "only OpenAI-compatible servers are named" in err


def test_the_preferred_key_for_a_model_is_set_and_shown(
    env: Env, simulator: RunningProcess
) -> None:
    sim = simulator.base_url
    _set(env, sim, "sk-cli-openai-0006")
    _set(env, sim, "sk-cli-local-0007", "--provider", "openai-compatible", "--name", "local")
    code, _, err = _run(env, "credential", "prefer", "keys-co", "gpt-4o", "--provider", "gemini")
    assert code == 1 and "no such key" in err
    code, out, err = _run(
        env,
        "credential",
        "prefer",
        "keys-co",
        "gpt-4o",
        "--provider",
        "openai-compatible",
        "--name",
        "local",
    )
    assert code == 0, err
    assert json.loads(out)["name"] == "local"
    _, out, _ = _run(env, "credential", "show", "keys-co")
    assert json.loads(out)["preferred"] == {
        "gpt-4o": {"provider": "openai-compatible", "name": "local"}
    }


def test_an_anthropic_key_is_checked_against_anthropics_model_list(
    env: Env, simulator: RunningProcess
) -> None:
    code, out, err = _run(
        env,
        "credential",
        "set",
        "keys-co",
        "--provider",
        "anthropic",
        "--base-url",
        simulator.base_url,
        input="sk-ant-cli-0008",
    )
    assert code == 0, err
    connected = json.loads(out)
    assert connected["provider"] == "anthropic"
    assert connected["base_url"] == simulator.base_url
    assert all(m.startswith("claude") for m in connected["models"]) and connected["models"]
