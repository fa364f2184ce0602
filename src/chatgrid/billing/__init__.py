"""Shared-credit budgets: worst-case reservations, settlement, and what is left."""
