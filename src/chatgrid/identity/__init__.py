"""Orgs, members, roles and personal API tokens."""
