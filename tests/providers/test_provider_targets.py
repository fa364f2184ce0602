"""Each provider's target: where calls go and which headers carry the key."""

from __future__ import annotations

import pytest

from chatgrid.errors import InvalidRequest
from chatgrid.providers import Provider, UpstreamConfig, build_target
from chatgrid.providers.gemini import gemini_model_id
from chatgrid.providers.targets import call_url


def test_anthropic_takes_its_key_in_x_api_key_with_a_version() -> None:
    config = UpstreamConfig.create(Provider.ANTHROPIC)
    target = build_target(config, "sk-ant-secret", "fp")
    assert config.base_url == "https://api.anthropic.com"
    assert target.headers == {"x-api-key": "sk-ant-secret", "anthropic-version": "2023-06-01"}
    assert target.models_url == "https://api.anthropic.com/v1/models?limit=1000"
    assert call_url(target, "chat", "claude-sonnet-4-5") == "https://api.anthropic.com/v1/messages"
    assert call_url(target, "embeddings", "claude-sonnet-4-5") is None
    assert "sk-ant-secret" not in repr(target)


def test_gemini_is_called_like_openai_at_its_compatible_endpoint() -> None:
    config = UpstreamConfig.create(Provider.GEMINI)
    target = build_target(config, "gm-secret", "fp")
    base = "https://generativelanguage.googleapis.com/v1beta/openai"
    assert config.base_url == base
    assert target.headers == {"Authorization": "Bearer gm-secret"}
    assert call_url(target, "chat", "gemini-2.0-flash") == f"{base}/chat/completions"
    assert target.models_url == f"{base}/models"
    assert gemini_model_id("models/gemini-2.0-flash") == "gemini-2.0-flash"


def test_a_compatible_server_still_needs_its_url() -> None:
    with pytest.raises(InvalidRequest, match="needs a base URL"):
        UpstreamConfig.create(Provider.OPENAI_COMPATIBLE)
