"""Prefixed random identifiers: ``org_3f9c…`` says what it names."""

import secrets


def new_id(kind: str) -> str:
    return f"{kind}_{secrets.token_hex(10)}"
