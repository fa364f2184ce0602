"""Admin actions, shared by the CLI now and the web console later.

Each action commits, then bumps the change marker, so running servers drop
their caches before the action returns.
"""
