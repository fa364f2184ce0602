"""Whether the retention sweep leaves ``/v1`` alone while it deletes a large backlog.

Issue 16 promises that the sweep deletes what is past its time "in batches
that never block /v1". This measures it. It starts the simulator and
``chatgrid serve`` on a fresh SQLite database (the default deployment),
provisions the BYOK org ``acme`` through the CLI, then writes a backlog
straight into the database (big batches through the schema's tables, not the
app's path): by default 20,000 conversations of 4 messages each (every 5th
shared, every 10th with an attached document), and 2,000 documents of 4
chunks each with 1,536-dimension vectors and keyword rows, all 90 days old;
the org keeps conversations and documents for 30 days. It then measures
non-streaming ``/v1/chat/completions`` with wrk, c=32, for the same fixed
time three times:

1. **before**: the backlog in the database, no sweep running (the baseline);
2. **sweep**: started the moment a sweep takes its lease, while it deletes
   the backlog;
3. **after**: the backlog gone, no sweep running (brackets the machine's drift).

Which sweep: by default the server's own (``--sweeper server``), the one every
deployment runs: ``RetentionWorker`` sweeps in a thread of the server process
30 seconds after start and then every 5 minutes, so the baseline is measured
in those first 30 seconds. ``--sweeper cli`` instead runs ``chatgrid retention
sweep`` as a separate process against the same database, as an operator may
(the periods are then set after the server's first, empty sweep). The sweep's
start and end are read from its lease (``job_leases``), polled every 25 ms;
the output says how many rows it deleted, how long it took and how much of
the measured window it covered.

Goals (informational: exit 0 either way; exit 1 only when the run itself
failed: a server did not start, the baseline saw a non-2xx, the sweep never
came):

* p50 during the sweep within 1.2x the baseline's: the promise is that the
  sweep never blocks ``/v1``; most calls should not notice it at all, and
  1.2x is about the run-to-run spread of the gateway's p50 on this machine;
* p99 within 1.5x: each batch is one short write transaction that the
  ledger's commit may wait on, so some calls wait a few milliseconds; a tail
  more than half again as long means calls wait on whole batches;
* requests/s at least 0.8x: on 2 cores the sweep's own CPU (in the server's
  process, or beside it) is taken from somewhere; more than a fifth of the
  gateway's throughput would be more than a background job should cost;
* no non-2xx answer during the sweep (a ledger write that waited past
  SQLite's ``busy_timeout`` would be a 503).

    .venv/bin/python bench/retention.py [--duration 10] [--sweeper server|cli]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, event, insert, select

from _procs import (
    BenchError,
    Service,
    free_port,
    machine_busy_seconds,
    run_cli,
    start_service,
    venv_bin,
    wait_healthy,
)
from _report import NOISY_CPUS, Target, write_json
from _stack import BYOK_ORG, _env, _provision
from _wrk import WrkResult, run_wrk
from chatgrid.store.ids import new_id
from chatgrid.store.tables import (
    chat_messages,
    chunks,
    collections,
    conversation_collections,
    conversation_shares,
    conversations,
    document_files,
    documents,
    members,
    orgs,
)

RESULTS = Path(__file__).resolve().parent / "results" / "retention.json"
CHAT_BODY = (
    b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello [sim:tokens=16]"}]}'
)
PERIOD_DAYS = 30
#: The server's first sweep, 30 s after it starts (``admin/retention_worker.py``).
FIRST_SWEEP_AFTER = 30.0
SEED_BATCH = 5_000
VECTOR_DIMS = 1536

GOAL_P50_RATIO = 1.2
GOAL_P99_RATIO = 1.5
GOAL_RPS_RATIO = 0.8

#: The tables the backlog is written to, for the before/after counts.
COUNTED = (
    "conversations",
    "chat_messages",
    "conversation_shares",
    "conversation_collections",
    "collections",
    "documents",
    "document_files",
    "chunks",
)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up before before/after")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--sweeper",
        choices=("server", "cli"),
        default="server",
        help="the server's own worker (default) or `chatgrid retention sweep` beside it",
    )
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=4, help="per conversation")
    parser.add_argument("--documents", type=int, default=2_000)
    parser.add_argument("--chunks", type=int, default=4, help="per document")
    parser.add_argument("--age-days", type=int, default=90)
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument("--keep-data", action="store_true", help="keep the temp dir and logs")
    args = parser.parse_args(argv)
    if args.sweeper == "server" and args.warmup + args.duration > FIRST_SWEEP_AFTER - 8:
        parser.error("with --sweeper server, warm-up + duration must end before the first sweep")
    return args


# --- the backlog ------------------------------------------------------------------------


def _engine(db: Path) -> Engine:
    engine = create_engine(f"sqlite:///{db}")

    @event.listens_for(engine, "connect")
    def _tune(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    return engine


def _insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), SEED_BATCH):
        conn.execute(insert(table), rows[start : start + SEED_BATCH])


def seed(db: Path, args: argparse.Namespace) -> dict[str, int]:
    """Write the backlog for ``acme``, aged ``--age-days``; the rows per table written."""
    engine = _engine(db)
    rng = np.random.default_rng(16)
    old = datetime.now(UTC) - timedelta(days=args.age_days)
    filler = "The quarterly numbers are in and the merger closes on friday. " * 6  # ~400 B
    with engine.begin() as conn:
        org_id = conn.execute(select(orgs.c.id).where(orgs.c.name == BYOK_ORG)).scalar_one()
        member_id = conn.execute(select(members.c.id).where(members.c.org_id == org_id)).scalar()
        assert member_id is not None

        def document(collection_id: str, n_chunks: int, moment: datetime) -> str:
            doc_id = new_id("doc")
            body = (filler * 4).encode()
            docs.append(
                {
                    "id": doc_id,
                    "org_id": org_id,
                    "collection_id": collection_id,
                    "uploaded_by": member_id,
                    "filename": "notes.md",
                    "content_type": "text/markdown",
                    "size_bytes": len(body),
                    "sha256": "0" * 64,
                    "status": "ready",
                    "pages": 1,
                    "chunks_total": n_chunks,
                    "chunks_done": n_chunks,
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
            files.append({"document_id": doc_id, "data": body, "sealed": False})
            for ordinal in range(n_chunks):
                vector = rng.standard_normal(VECTOR_DIMS).astype(np.float32).tobytes()
                text = f"{ordinal} {filler}{filler}"
                pieces.append(
                    {
                        "id": new_id("chk"),
                        "org_id": org_id,
                        "collection_id": collection_id,
                        "document_id": doc_id,
                        "ordinal": ordinal,
                        "heading": None,
                        "page": 1,
                        "text": text,
                        "sealed": None,
                        "keywords": text,
                        "embedding": vector,
                    }
                )
            return doc_id

        convs: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        shares: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        cols: list[dict[str, Any]] = []
        docs: list[dict[str, Any]] = []
        files: list[dict[str, Any]] = []
        pieces: list[dict[str, Any]] = []
        for n in range(args.conversations):
            moment = old - timedelta(seconds=n)
            conv_id = new_id("conv")
            convs.append(
                {
                    "id": conv_id,
                    "org_id": org_id,
                    "member_id": member_id,
                    "title": f"Plans {n}",
                    "model": "gpt-4o-mini",
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
            for position in range(args.messages):
                role = "user" if position % 2 == 0 else "assistant"
                messages.append(
                    {
                        "id": new_id("msg"),
                        "conversation_id": conv_id,
                        "org_id": org_id,
                        "position": position,
                        "role": role,
                        "content": filler,
                        "model": None if role == "user" else "gpt-4o-mini",
                        "status": "complete",
                        "created_at": moment,
                    }
                )
            if n % 5 == 0:
                shares.append(
                    {
                        "id": new_id("share"),
                        "org_id": org_id,
                        "conversation_id": conv_id,
                        "member_id": member_id,
                        "created_at": moment,
                    }
                )
            if n % 10 == 0:
                col_id = new_id("col")
                cols.append(
                    {
                        "id": col_id,
                        "org_id": org_id,
                        "owner_member_id": member_id,
                        "name": "Attached",
                        "created_at": moment,
                    }
                )
                links.append(
                    {
                        "conversation_id": conv_id,
                        "org_id": org_id,
                        "collection_id": col_id,
                        "created_at": moment,
                    }
                )
                document(col_id, 1, moment)
        handbook = new_id("col")
        cols.append(
            {
                "id": handbook,
                "org_id": org_id,
                "owner_member_id": None,
                "name": "Handbook",
                "created_at": old,
            }
        )
        for n in range(args.documents):
            document(handbook, args.chunks, old - timedelta(seconds=n))
        for table, rows in (
            (collections, cols),
            (conversations, convs),
            (chat_messages, messages),
            (conversation_shares, shares),
            (conversation_collections, links),
            (documents, docs),
            (document_files, files),
            (chunks, pieces),
        ):
            _insert(conn, table, rows)
    engine.dispose()
    return table_counts(db)


def table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return {
            name: connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # noqa: S608
            for name in COUNTED
        }


def receipts(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT details FROM audit_log WHERE action = 'retention.deleted' ORDER BY id"
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


# --- the sweep, watched through its lease --------------------------------------------------


class SweepWatch:
    """Polls ``job_leases`` (read-only) and notes when a sweep takes and gives back the lease.

    A sweep holds the job while ``lease_until`` is later than ``finished_at`` (a release
    sets both to the same moment; a claim moves only ``lease_until``).
    """

    POLL = 0.025

    def __init__(self, db: Path) -> None:
        self.db = db
        self.started: float | None = None
        self.finished: float | None = None
        self.sweeps = 0  # how many sweeps ended while watched
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        connection = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        query = "SELECT lease_until, finished_at FROM job_leases WHERE name = 'retention'"
        try:
            was, last_finished = False, None
            while not self._stop.is_set():
                try:
                    row = connection.execute(query).fetchone()
                except sqlite3.OperationalError:
                    row = None  # busy: look again
                moment = time.monotonic()
                if row is not None:
                    lease_until, finished_at = row
                    sweeping = finished_at is None or lease_until > finished_at
                    if sweeping and not was:
                        self.started, self.finished = moment, None
                    if finished_at is not None and finished_at != last_finished:
                        # A release: counted even if the whole sweep fell between two polls.
                        last_finished = finished_at
                        self.finished = moment
                        self.sweeps += 1
                    was = sweeping
                time.sleep(self.POLL)
        finally:
            connection.close()

    def wait_start(self, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while self.started is None or self.finished is not None:
            if time.monotonic() > deadline:
                raise BenchError(f"no sweep took the lease within {timeout:.0f} s")
            time.sleep(0.005)
        return self.started

    def wait_sweeps(self, count: int, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while self.sweeps < count:
            if time.monotonic() > deadline:
                raise BenchError(f"the sweep did not finish within {timeout:.0f} s")
            time.sleep(0.01)
        assert self.finished is not None
        return self.finished

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


# --- load -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    name: str
    wrk: WrkResult
    started: float  # monotonic
    ended: float
    gateway_cpu_s: float
    other_load_cpus: float


def measure(
    name: str,
    gateway: Service,
    simulator: Service,
    token: str,
    args: argparse.Namespace,
    script: Path,
    *,
    warmup: float,
    strict: bool = True,
    sweeper_cpu_s: Callable[[], float] | None = None,
) -> Run:
    url = gateway.base_url + "/v1/chat/completions"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    print(f"  {name:<8} c={args.connections:<3} ...", end="", flush=True)

    def load(seconds: float) -> WrkResult:
        return run_wrk(
            url,
            CHAT_BODY,
            headers,
            connections=args.connections,
            duration_s=seconds,
            script_path=script,
        )

    if warmup > 0:
        load(warmup).check(f"{name} (warm-up)")
    cpu_before, sim_before = gateway.cpu_seconds(), simulator.cpu_seconds()
    busy_before = machine_busy_seconds()
    started = time.monotonic()
    result = load(args.duration)
    ended = time.monotonic()
    gateway_cpu = gateway.cpu_seconds() - cpu_before
    sim_cpu = simulator.cpu_seconds() - sim_before
    busy = machine_busy_seconds() - busy_before
    gateway.check_alive()
    if strict:
        result.check(name)
    # A sweep run as its own process (--sweeper cli) is part of what is measured, not noise.
    sweeper_cpu = sweeper_cpu_s() if sweeper_cpu_s is not None else 0.0
    outside = busy - gateway_cpu - sim_cpu - result.wrk_cpu_s - sweeper_cpu
    other = max(0.0, outside / result.duration_s)
    errors = f"  {result.non_2xx} non-2xx, {result.socket_errors} socket errors" * bool(
        result.non_2xx or result.socket_errors
    )
    print(
        f" {result.requests_per_s:>8,.0f} req/s  p50 {result.p50_ms:.2f} ms  p99 "
        f"{result.p99_ms:.2f} ms  max {result.max_ms:.1f} ms  (other load: {other:.2f} CPUs)"
        + errors
    )
    return Run(name, result, started, ended, gateway_cpu, other)


def _process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a child (still readable once it exited, until reaped)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _serve(env: dict[str, str], workdir: Path, cleanup: ExitStack) -> Service:
    port = free_port()
    argv = [venv_bin("chatgrid"), "serve", "--port", str(port)]
    gateway = start_service("gateway", argv, env, port, workdir)
    cleanup.callback(gateway.stop)
    wait_healthy(gateway, "/healthz", timeout=60)
    return gateway


def _set_periods(env: dict[str, str]) -> None:
    days = str(PERIOD_DAYS)
    run_cli(["retention", "set", BYOK_ORG, "--conversations", days, "--documents", days], env)


def run(args: argparse.Namespace, cleanup: ExitStack) -> None:
    started_at = datetime.now(UTC)
    workdir = (
        Path(tempfile.mkdtemp(prefix="chatgrid-bench-retention-"))
        if args.keep_data
        else Path(
            cleanup.enter_context(tempfile.TemporaryDirectory(prefix="chatgrid-bench-retention-"))
        )
    )
    db, script = workdir / "chatgrid.db", workdir / "request.lua"
    env = _env(workdir)
    print(f"Starting the simulator (data in {workdir}) ...", flush=True)
    sim_port = free_port()
    simulator = start_service(
        "simulator",
        [venv_bin("chatgrid"), "simulator", "--port", str(sim_port)],
        env,
        sim_port,
        workdir,
    )
    cleanup.callback(simulator.stop)
    wait_healthy(simulator, "/_sim/health")
    token, _ = _provision(env, simulator.base_url + "/v1")

    t = time.monotonic()
    print(
        f"Seeding {args.conversations:,} conversations x {args.messages} messages and "
        f"{args.documents:,} documents x {args.chunks} chunks, {args.age_days} days old ...",
        end="",
        flush=True,
    )
    before_counts = seed(db, args)
    print(f" {time.monotonic() - t:.1f} s, {db.stat().st_size / 2**20:,.0f} MB")
    print("  " + ", ".join(f"{k} {v:,}" for k, v in before_counts.items()))
    if args.sweeper == "server":
        _set_periods(env)  # the server's first sweep, 30 s after it starts, finds the backlog
    watch = SweepWatch(db)
    cleanup.callback(watch.close)
    gateway = _serve(env, workdir, cleanup)
    up = time.monotonic()
    print(f"ChatGrid is up; sweeper: {args.sweeper}. Measuring /v1/chat/completions:")

    before = measure("before", gateway, simulator, token, args, script, warmup=args.warmup)
    if watch.started is not None:
        raise BenchError("a sweep started during the baseline; shorten --duration/--warmup")

    sweep_proc: subprocess.Popen[str] | None = None
    if args.sweeper == "server":
        sweep_start = watch.wait_start(timeout=FIRST_SWEEP_AFTER + 30)
        print(f"  (the server's sweep took the lease {sweep_start - up:.1f} s after start-up)")
    else:
        # The server's own first sweep finds nothing to delete (no periods yet): let it pass.
        watch.wait_sweeps(1, timeout=FIRST_SWEEP_AFTER + 30)
        _set_periods(env)
        sweep_proc = subprocess.Popen(
            [venv_bin("chatgrid"), "retention", "sweep"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        cleanup.callback(lambda: sweep_proc.poll() is None and sweep_proc.kill())
        sweep_start = watch.wait_start(timeout=30)
    sweeper_cpu = None
    if sweep_proc is not None:
        pid = sweep_proc.pid
        start_cpu = _process_cpu_s(pid)
        sweeper_cpu = lambda: _process_cpu_s(pid) - start_cpu  # noqa: E731 (not reaped yet)
    during = measure(
        "sweep",
        gateway,
        simulator,
        token,
        args,
        script,
        warmup=0,
        strict=False,
        sweeper_cpu_s=sweeper_cpu,
    )
    sweep_end = watch.wait_sweeps(1 if args.sweeper == "server" else 2, timeout=300)
    if sweep_proc is not None:
        output, _ = sweep_proc.communicate(timeout=60)
        if sweep_proc.returncode != 0:
            raise BenchError(f"chatgrid retention sweep failed:\n{output}")
    after = measure("after", gateway, simulator, token, args, script, warmup=args.warmup)

    after_counts = table_counts(db)
    deleted = {k: before_counts[k] - after_counts[k] for k in COUNTED}
    found = receipts(db)
    sweep_s = sweep_end - sweep_start
    overlap = max(0.0, min(during.ended, sweep_end) - max(during.started, sweep_start))
    window = during.ended - during.started
    coverage = overlap / window if window else 0.0

    summary = report(args, before, during, after, deleted, found, sweep_s, coverage, after_counts)
    data = {
        "meta": {
            "started_at": started_at.isoformat(timespec="seconds"),
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sweeper": args.sweeper,
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "backlog": {
                "conversations": args.conversations,
                "messages_per_conversation": args.messages,
                "documents": args.documents,
                "chunks_per_document": args.chunks,
                "age_days": args.age_days,
                "period_days": PERIOD_DAYS,
            },
        },
        "runs": {run.name: asdict(run) for run in (before, during, after)},
        "sweep": {
            "seconds": sweep_s,
            "window_coverage": coverage,
            "rows_deleted": deleted,
            "rows_left": after_counts,
            "receipts": [{k: r[k] for k in ("kind", "rows")} for r in found],
        },
        **summary,
    }
    write_json(args.output, data)
    print(f"Wrote {args.output}")


def report(
    args: argparse.Namespace,
    before: Run,
    during: Run,
    after: Run,
    deleted: dict[str, int],
    found: list[dict[str, Any]],
    sweep_s: float,
    coverage: float,
    left: dict[str, int],
) -> dict[str, Any]:
    b, d, a = before.wrk, during.wrk, after.wrk
    total = sum(deleted.values())
    kinds = ", ".join(f"{r['kind']} {r['rows']:,}" for r in found) or "none"
    who = (
        "the server's own worker (a thread of the serving process)"
        if args.sweeper == "server"
        else "`chatgrid retention sweep`, a separate process"
    )
    print(
        f"\nThe sweep ({who}): {total:,} rows deleted in {sweep_s:.1f} s "
        f"({total / sweep_s:,.0f} rows/s); receipts: {kinds}"
    )
    print("  " + ", ".join(f"{k} {v:,}" for k, v in deleted.items()))
    if any(left[k] for k in ("conversations", "chat_messages", "chunks")):
        print(f"  WARNING: rows left after the sweep: {left}")
    print(
        f"  it covered {coverage:.0%} of the {during.wrk.duration_s:.1f} s measured window"
        + ("" if coverage >= 0.99 else "  (less than all of it: read the ratios with that)")
    )
    header = f"  {'':<22} {'before':>9} {'sweep':>9} {'after':>9} {'sweep/before':>13}"
    rows = [
        ("p50 (ms)", b.p50_ms, d.p50_ms, a.p50_ms),
        ("p90 (ms)", b.p90_ms, d.p90_ms, a.p90_ms),
        ("p99 (ms)", b.p99_ms, d.p99_ms, a.p99_ms),
        ("p99.9 (ms)", b.p999_ms, d.p999_ms, a.p999_ms),
        ("max (ms)", b.max_ms, d.max_ms, a.max_ms),
        ("requests/s", b.requests_per_s, d.requests_per_s, a.requests_per_s),
        (
            "gateway CPU/request (µs)",
            before.gateway_cpu_s * 1e6 / b.requests,
            during.gateway_cpu_s * 1e6 / d.requests,
            after.gateway_cpu_s * 1e6 / a.requests,
        ),
    ]
    print(
        f"\n/v1/chat/completions, c={args.connections}, {args.duration:g} s per run "
        f"({os.cpu_count()} CPUs)\n\n{header}"
    )
    for label, x, y, z in rows:
        print(f"  {label:<22} {x:>9,.2f} {y:>9,.2f} {z:>9,.2f} {y / x:>12.2f}x")
    if d.non_2xx or d.socket_errors:
        print(f"  during the sweep: {d.non_2xx} non-2xx, {d.socket_errors} socket errors")
    noisy = [r.name for r in (before, during, after) if r.other_load_cpus > NOISY_CPUS]
    if noisy:
        print(
            f"\n  WARNING: other processes used more than {NOISY_CPUS} CPUs during: "
            + ", ".join(noisy)
            + " (treat those numbers as disturbed and re-run)"
        )
    goals = [
        Target("p50 sweep / before", d.p50_ms / b.p50_ms, GOAL_P50_RATIO, "x", False),
        Target("p99 sweep / before", d.p99_ms / b.p99_ms, GOAL_P99_RATIO, "x", False),
        Target(
            "requests/s sweep / before",
            d.requests_per_s / b.requests_per_s,
            GOAL_RPS_RATIO,
            "x",
            True,
        ),
        Target("errors during the sweep", d.non_2xx + d.socket_errors, 0, "", False),
    ]
    print("\nGoals (informational):", *(goal.line() for goal in goals), sep="\n")
    print(
        "  (against the after-sweep run: p50 "
        f"{d.p50_ms / a.p50_ms:.2f}x, p99 {d.p99_ms / a.p99_ms:.2f}x, "
        f"requests/s {d.requests_per_s / a.requests_per_s:.2f}x)\n"
    )
    return {
        "ratios": {
            "p50": d.p50_ms / b.p50_ms,
            "p99": d.p99_ms / b.p99_ms,
            "requests_per_s": d.requests_per_s / b.requests_per_s,
            "p50_vs_after": d.p50_ms / a.p50_ms,
            "p99_vs_after": d.p99_ms / a.p99_ms,
            "requests_per_s_vs_after": d.requests_per_s / a.requests_per_s,
        },
        "goals": [{**asdict(goal), "met": goal.met} for goal in goals],
    }


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    cleanup = ExitStack()
    try:
        run(args, cleanup)
    except BenchError as error:
        print(f"\nbenchmark failed: {error}", file=sys.stderr)
        if not args.keep_data:
            print("(run again with --keep-data to keep the servers' logs)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the servers", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cleanup.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
