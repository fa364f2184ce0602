"""Usage analytics: pure aggregation of ledger rows and server-rendered SVG charts."""
