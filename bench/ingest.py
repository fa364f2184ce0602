"""Document ingestion speed: pages per second, end to end, against extraction alone.

Starts the simulator and a ``chatgrid serve`` on a fresh SQLite database
(the gateway bench's stack), signs an org owner in over HTTP, and uploads
generated PDFs of ``--pages`` pages (~250 words a page) to a shared
collection. The clock runs from the upload to the document reading
``ready``: extraction, chunking, embedding every chunk through the gateway
(ledgered like any call) and indexing. The baseline, in the same run and
process as the bench, is what the PDF library alone does with the same file
(``pypdf`` text extraction of every page), so the ratio says how much the
rest of the pipeline costs on top of reading the PDF.

    .venv/bin/python bench/ingest.py [--pages 100] [--documents 3]
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from fpdf import FPDF
from pypdf import PdfReader

from _stack import BYOK_ORG, start_stack
from chatgrid.context import AppContext
from chatgrid.identity.passwords import hash_password
from chatgrid.settings import Settings

PASSWORD = "bench password 0123"
OWNER = "a@x.com"
WORDS = (  # noqa: SIM905 (a sentence reads better than 30 lines)
    "invoice policy travel expense report quarterly revenue customer contract vendor "
    "shipment warehouse payroll benefit onboarding security access review audit budget "
    "forecast launch product roadmap meeting agenda decision owner deadline approval"
).split()


def make_pdf(pages: int, seed: int) -> bytes:
    rng = random.Random(seed)
    pdf = FPDF()
    pdf.set_auto_page_break(auto=False)
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("Helvetica", size=10)
        pdf.start_section(f"Section {page + 1}")
        text = " ".join(rng.choice(WORDS) for _ in range(250)) + "."
        pdf.multi_cell(0, 5, text)
    return bytes(pdf.output())


def extract_only(data: bytes) -> float:
    """Seconds for pypdf to read every page's text: the baseline."""
    started = time.perf_counter()
    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages:
        page.extract_text()
    return time.perf_counter() - started


def sign_in(base_url: str, data_dir: Path) -> tuple[httpx.Client, str, str]:
    ctx = AppContext.open(Settings(data_dir=data_dir))
    try:
        org = ctx.orgs.get(BYOK_ORG)
        member = ctx.members.find_by_email(org.id, OWNER)
        ctx.accounts.set_password(member.user_id, hash_password(PASSWORD))
    finally:
        ctx.close()
    client = httpx.Client(base_url=base_url, timeout=120)
    csrf = client.get("/api/csrf").json()["csrf_token"]
    session = client.post(
        "/api/session", json={"email": OWNER, "password": PASSWORD}, headers={"X-CSRF-Token": csrf}
    )
    session.raise_for_status()
    return client, session.json()["csrf_token"], org.id


def ingest(client: httpx.Client, csrf: str, org_id: str, collection: str, data: bytes) -> float:
    """Seconds from upload to ``ready``."""
    started = time.perf_counter()
    response = client.post(
        f"/api/orgs/{org_id}/collections/{collection}/documents",
        files={"file": ("bench.pdf", data, "application/pdf")},
        headers={"X-CSRF-Token": csrf},
    )
    response.raise_for_status()
    document_id = response.json()["id"]
    while True:
        state = client.get(f"/api/orgs/{org_id}/documents/{document_id}").json()
        if state["status"] == "ready":
            return time.perf_counter() - started
        if state["status"] == "failed":
            raise SystemExit(f"ingestion failed: {state['error']}")
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=100, help="pages per document")
    parser.add_argument("--documents", type=int, default=3, help="documents, one after another")
    args = parser.parse_args(argv)
    pdfs = [make_pdf(args.pages, seed) for seed in range(args.documents)]
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="chatgrid-ingest-") as tmp:
        data_dir = Path(tmp)
        running = start_stack(stack, data_dir)
        client, csrf, org_id = sign_in(running.gateway.base_url, data_dir)
        created = client.post(
            f"/api/orgs/{org_id}/collections",
            json={"name": "bench", "scope": "org"},
            headers={"X-CSRF-Token": csrf},
        )
        created.raise_for_status()
        collection = created.json()["id"]
        pipeline, baseline = [], []
        for data in pdfs:
            baseline.append(extract_only(data))
            pipeline.append(ingest(client, csrf, org_id, collection, data))
    end_to_end = args.pages / statistics.median(pipeline)
    reading = args.pages / statistics.median(baseline)
    print(f"ingestion of {args.documents} PDFs x {args.pages} pages (~250 words a page), SQLite")
    print(f"  end to end (upload to ready, embedded via the gateway): {end_to_end:8.1f} pages/s")
    print(f"  baseline: pypdf text extraction alone, same files:      {reading:8.1f} pages/s")
    print(f"  end to end / baseline: {end_to_end / reading:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
