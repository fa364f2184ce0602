"""What an upstream is, and a resolved target the gateway can call at once.

``UpstreamConfig`` is the non-secret part an admin enters. ``UpstreamTarget``
adds the opened key and precomputes the URLs and headers, so the hot path
does dictionary look-ups only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from chatgrid.errors import InvalidRequest
from chatgrid.providers.addresses import HostUnusable, normalized_base_url

OPENAI_BASE_URL = "https://api.openai.com/v1"
ANTHROPIC_BASE_URL = "https://api.anthropic.com"
#: Google Gemini's OpenAI-compatible endpoint.
GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai"
DEFAULT_AZURE_API_VERSION = "2024-10-21"


class Provider(StrEnum):
    OPENAI = "openai"
    AZURE = "azure"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"
    OPENAI_COMPATIBLE = "openai-compatible"


#: The order an org's keys are listed in, and tried in for a model two of them
#: serve when the admin chose neither: OpenAI and Azure first.
PROVIDER_ORDER: tuple[Provider, ...] = (
    Provider.OPENAI,
    Provider.AZURE,
    Provider.ANTHROPIC,
    Provider.GEMINI,
    Provider.OPENAI_COMPATIBLE,
)

#: A provider's name as a person reads it.
PROVIDER_LABELS: dict[Provider, str] = {
    Provider.OPENAI: "OpenAI",
    Provider.AZURE: "Azure OpenAI",
    Provider.ANTHROPIC: "Anthropic",
    Provider.GEMINI: "Google Gemini",
    Provider.OPENAI_COMPATIBLE: "OpenAI-compatible server",
}

#: Where a provider is reached when the admin names no URL.
DEFAULT_BASE_URLS: dict[Provider, str] = {
    Provider.OPENAI: OPENAI_BASE_URL,
    Provider.ANTHROPIC: ANTHROPIC_BASE_URL,
    Provider.GEMINI: GEMINI_BASE_URL,
}


@dataclass(frozen=True)
class UpstreamConfig:
    provider: Provider
    base_url: str
    organization: str | None = None
    project: str | None = None
    api_version: str | None = None
    deployments: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        provider: Provider,
        *,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        api_version: str | None = None,
        deployments: dict[str, str] | None = None,
    ) -> UpstreamConfig:
        """Check the combination an admin entered and fill in the defaults."""
        if provider in DEFAULT_BASE_URLS:
            url = base_url or DEFAULT_BASE_URLS[provider]
        elif not base_url:
            what = "endpoint" if provider is Provider.AZURE else "base URL"
            raise InvalidRequest(f"{provider.value} needs a {what}", param="base_url")
        else:
            url = base_url
        if provider is Provider.AZURE:
            if not deployments:
                raise InvalidRequest(
                    "Azure OpenAI needs at least one deployment (MODEL=DEPLOYMENT)",
                    param="deployments",
                )
            api_version = api_version or DEFAULT_AZURE_API_VERSION
        return cls(
            provider=provider,
            base_url=check_base_url(url),
            organization=organization or None,
            project=project or None,
            api_version=api_version,
            deployments=dict(deployments or {}),
        )


def check_base_url(url: str) -> str:
    """The URL as the HTTP client will send it (host IDNA-mapped), so what is stored,
    shown and checked is what is connected to."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidRequest(
            "the upstream URL must be an http(s) URL with a host", param="base_url"
        )
    if parts.username or parts.password:
        raise InvalidRequest("put credentials in the key, not in the URL", param="base_url")
    if parts.query or parts.fragment:
        raise InvalidRequest("the upstream URL takes no query or fragment", param="base_url")
    try:
        normalized = normalized_base_url(url.strip())
    except HostUnusable as exc:
        raise InvalidRequest(str(exc), param="base_url", code="invalid_base_url") from None
    return normalized.rstrip("/")


@dataclass(frozen=True)
class UpstreamTarget:
    """A callable upstream: URLs and headers ready, the key inside the headers only."""

    provider: Provider
    fingerprint: str
    headers: dict[str, str]
    chat_urls: dict[str, str]
    embeddings_urls: dict[str, str]
    default_chat_url: str | None
    default_embeddings_url: str | None
    models_url: str

    def chat_url(self, model: str) -> str | None:
        return self.chat_urls.get(model, self.default_chat_url)

    def embeddings_url(self, model: str) -> str | None:
        return self.embeddings_urls.get(model, self.default_embeddings_url)

    def __repr__(self) -> str:  # never let a key reach a log through repr()
        return f"UpstreamTarget({self.provider.value}, {self.fingerprint})"
