"""Prometheus metrics: recorded as ChatGrid serves (``recorder``), measured at each scrape
(``health``), shared by several workers (``processes``) and served at ``/metrics``
(``endpoint``). The metrics and their labels are listed in ``docs/operations.md``."""
