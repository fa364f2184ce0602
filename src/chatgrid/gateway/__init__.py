"""The OpenAI-compatible ``/v1`` gateway: a bare ASGI app on the hot path.

Per request it authenticates the token from memory, picks the org's
upstream from memory, relays the call on a keep-alive pool, and commits one
ledger entry before the response's last byte leaves.
"""
