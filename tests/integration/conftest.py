"""Integration fixtures: three ``chatgrid serve`` replicas on PostgreSQL + Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import Cluster, running_cluster
from tests.support.processes import RunningProcess


@pytest.fixture
def cluster(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[Cluster]:
    """Three replicas and an admin with data dirs of their own (only Redis links them)."""
    with running_cluster(tmp_path, postgres_database, simulator, count=3) as running:
        yield running
