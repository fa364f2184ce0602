"""Data governance: how long an org's data is kept, and sweeping away what is past it."""
