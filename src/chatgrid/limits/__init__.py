"""Rate limits and model rules an org admin sets, and their enforcement on ``/v1``."""
