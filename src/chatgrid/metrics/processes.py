"""Several workers, one ``/metrics``: prometheus-client's multiprocess mode.

Each worker writes its metrics to memory-mapped files of its own in one
directory, and ``/metrics`` on any worker adds up every worker's files, so a
scrape that lands on either worker reports the whole server. The directory
is ``DATA_DIR/metrics``; the supervisor empties it before it starts the
workers (counts restart with the server, as Prometheus expects) and tells
prometheus-client through ``PROMETHEUS_MULTIPROC_DIR``, which the spawned
workers inherit and read when they first import it. When a worker ends, its
live gauges (the ledger queue) are dropped; its counters and histograms stay,
so nothing a dead worker counted is lost.

One process (``--workers 1``) keeps its metrics in memory: nothing to share.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Final

from prometheus_client import multiprocess

ENV: Final = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir(data_dir: Path) -> Path:
    return data_dir / "metrics"


def prepare_multiprocess(data_dir: Path) -> Path:
    """Before the workers start (in the supervisor): an empty directory, named in the
    environment the workers inherit."""
    path = multiprocess_dir(data_dir)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, mode=0o700)
    os.environ[ENV] = str(path)
    return path


def multiprocess_enabled() -> bool:
    """Whether this process writes its metrics to the shared directory (a worker)."""
    return bool(os.environ.get(ENV))


def worker_exited(pid: int) -> None:
    """A worker is gone (it stopped, or died and is replaced): drop its live gauges."""
    path = os.environ.get(ENV)
    if path:
        multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
