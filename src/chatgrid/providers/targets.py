"""From a stored upstream and its opened key to a ready target, by upstream kind.

This is the one place that knows every kind: ``base`` defines what a target
is, each kind's module builds one, and this module picks the builder, so the
kinds depend on ``base`` and never the other way round.
"""

from __future__ import annotations

from chatgrid.providers.azure import azure_target
from chatgrid.providers.base import Provider, UpstreamConfig, UpstreamTarget
from chatgrid.providers.openai import openai_target


def build_target(config: UpstreamConfig, key: str, fingerprint: str) -> UpstreamTarget:
    if config.provider is Provider.AZURE:
        return azure_target(config, key, fingerprint)
    return openai_target(config, key, fingerprint)
