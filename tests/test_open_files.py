"""``chatgrid serve`` lifts its soft open-files limit, so 1,000 streams fit on one worker.

Run in a child process: the limit is the process's own, and lowering it here
would leak into the rest of the suite.
"""

from __future__ import annotations

import resource
import subprocess
import sys

CHILD = """
import resource
from chatgrid.server import raise_open_files_limit
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
print(raise_open_files_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


def test_the_server_lifts_a_low_soft_limit_up_to_the_hard_one() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    expected = 65_536 if hard == resource.RLIM_INFINITY else min(hard, 65_536)
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=60
    )
    reported, in_force = (int(v) for v in done.stdout.split())
    assert reported == in_force == max(expected, 256)
