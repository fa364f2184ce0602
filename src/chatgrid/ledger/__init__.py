"""Usage entries, the price book and exact money arithmetic."""
