"""Persistence: SQLAlchemy tables, the engine, repositories and migrations.

The rest of ChatGrid talks to the database only through the repository
classes here; every query that touches an org's data takes the org id.
"""
