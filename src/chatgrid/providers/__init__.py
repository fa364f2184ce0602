"""Upstream kinds (OpenAI, Azure OpenAI, OpenAI-compatible) behind one interface."""

from chatgrid.providers.base import Provider, UpstreamConfig, UpstreamTarget
from chatgrid.providers.targets import build_target

__all__ = ["Provider", "UpstreamConfig", "UpstreamTarget", "build_target"]
