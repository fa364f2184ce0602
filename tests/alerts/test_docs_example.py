"""The verification example in docs/alerts.md is run as written, against real signatures."""

from __future__ import annotations

import re
import runpy
import time
from pathlib import Path
from typing import Any

from chatgrid.alerts import AlertEvent, sign_body, webhook_body

DOC = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"


def documented_verify(folder: Path) -> Any:
    """The doc's example, written to a file and run as a receiver would run it."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    [example] = [b for b in blocks if "def verify(" in b]
    assert len([line for line in example.splitlines() if line.strip()]) <= 10
    script = folder / "receiver_check.py"
    script.write_text(example)
    return runpy.run_path(str(script))["verify"]


def test_the_documented_verification_accepts_a_signed_delivery_and_refuses_tampering(
    tmp_path: Path,
) -> None:
    verify = documented_verify(tmp_path)
    body = webhook_body(AlertEvent("test", None, "k", "subject", "text"), "dlv_1")
    now = int(time.time())
    header = sign_body("whsec_doc", body, now)
    assert verify("whsec_doc", body, header)
    assert not verify("whsec_other", body, header)
    assert not verify("whsec_doc", body + b"x", header)
    assert not verify("whsec_doc", body, sign_body("whsec_doc", body, now - 3600))
    assert not verify("whsec_doc", body, "garbage")
