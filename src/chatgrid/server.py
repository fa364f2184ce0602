"""Run the ASGI app under uvicorn (uvloop, httptools): one process, or N workers on one port.

**Stopping.** systemd and Kubernetes send SIGTERM to every process of the
group at once: the supervisor, each worker and each worker's extraction
child (which ignores it: its worker ends it, ``documents/sandbox.py``). A
worker then stops accepting, lets the requests and streams in flight
finish for up to ``CHATGRID_SHUTDOWN_DRAIN_SECONDS``, cuts the streams still
open at that deadline (each is ledgered with what it used so far, like a
revoked key's stream), waits a few seconds more for those entries, and only
then cancels what is left and runs the app's shutdown (ingestion and its
child stopped, the ledger flushed). The supervisor waits for its workers for
that long plus a margin, then kills any that did not exit, and a timer in
each server process ends it if anything at all still hangs (a thread that
never returns): nothing waits on anything without a deadline.

**Workers.** ``--workers N`` binds the port once and starts N processes
(``spawn``) that accept on the same socket. They share what separate
replicas share: the database and the change marker in the data dir (a
revocation reaches every worker before the command returns), and Redis for
rate limits, budgets and the sign-in throttle, which is why more than one
worker needs ``CHATGRID_REDIS_URL``. A worker that dies is replaced; a
worker that could not start stops the whole server.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import resource
import signal
import socket
import sys
import threading
import time
from types import FrameType
from typing import Final

import uvicorn

from chatgrid.app import ChatGridApp, create_app
from chatgrid.logs import configure_logging
from chatgrid.metrics.processes import prepare_multiprocess, worker_exited
from chatgrid.settings import Settings

log = logging.getLogger(__name__)

CUT_GRACE_SECONDS: Final = 5.0
"""After cutting the streams still open: time for their ledger entries to commit."""
STOP_MARGIN_SECONDS: Final = 15.0
"""The supervisor's allowance, past drain and grace, for a worker's own shutdown."""
_STARTUP_FAILED: Final = 3
#: How long an idle client connection is kept (see ``_config``); nginx's default.
KEEP_ALIVE_SECONDS: Final = 75
_GAVE_UP: Final = 70
_SUPERVISOR_POLL_SECONDS: Final = 0.5


class DrainingServer(uvicorn.Server):
    """uvicorn's server with a shutdown that drains to a deadline, then cuts, then ends."""

    def __init__(self, config: uvicorn.Config, app: ChatGridApp, drain_seconds: float) -> None:
        super().__init__(config)
        self.app = app
        self.drain_seconds = drain_seconds

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        log.info("stopping: no new connections; draining for up to %ss", self.drain_seconds)
        # The last resort, whatever hangs below or at interpreter exit (a thread that
        # never returns): the process ends anyway once every allowance has passed.
        allowance = self.drain_seconds + CUT_GRACE_SECONDS + STOP_MARGIN_SECONDS
        backstop = threading.Timer(allowance, _give_up, args=(allowance,))
        backstop.daemon = True
        backstop.start()
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle ones close now, busy ones after their response
        await asyncio.sleep(0.1)
        if not await self._finished_within(self.drain_seconds):
            cut = self.app.cut_streams()
            log.warning("drain deadline passed: %d stream(s) cut short", cut)
            if not await self._finished_within(CUT_GRACE_SECONDS):
                log.error("cancelling %d request(s) still running", len(self.server_state.tasks))
                for task in self.server_state.tasks:
                    task.cancel(msg="the server is stopping")
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _finished_within(self, seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                await self._wait_tasks_to_complete()
                # Relays no request waits on any more (a workspace reader who left)
                # still end and ledger before the app's shutdown closes the ledger.
                while True:  # polled, as uvicorn polls its own connections
                    if not self.app.streams_in_flight():
                        break
                    await asyncio.sleep(0.1)
        except TimeoutError:
            return False
        return True


def _give_up(allowance: float) -> None:
    log.error("still not stopped %.0fs after the signal; exiting now", allowance)
    logging.shutdown()
    os._exit(_GAVE_UP)


def _config(app: ChatGridApp, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,  # the peer; CHATGRID_TRUSTED_PROXIES is read by app.py instead
        # Longer than any client's or load balancer's idle time (httpx and the OpenAI SDKs
        # keep a connection 5 s, uvicorn's own default): with equal times a client reuses a
        # connection just as the server closes it, and a call fails with a reset.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


#: Enough for tens of thousands of open streams; more is the operator's choice (``ulimit``).
_MAX_OPEN_FILES: Final = 65_536


def worker_count(text: str) -> int:
    """``--workers``: a whole number from 1, or ``auto`` for the cores this process may use."""
    if text == "auto":
        return max(1, len(os.sched_getaffinity(0)))
    count = int(text)  # ValueError: not a number
    if count < 1:
        raise ValueError("--workers must be at least 1")
    return count


def workers_refusal(settings: Settings, workers: int) -> str | None:
    """Why ``workers`` processes could not keep today's promises here (None: they can)."""
    if workers > 1 and not settings.redis_url:
        return (
            "--workers above 1 needs CHATGRID_REDIS_URL: rate limits, spending caps and "
            "sign-in throttling are counted in Redis when several processes serve"
        )
    return None


def raise_open_files_limit() -> int:
    """Lift the soft limit on open files to the hard one (workers inherit it).

    Each open stream holds two descriptors (client and upstream); Debian's
    default soft limit of 1,024 would refuse connections near 500 streams.
    Returns the soft limit now in force.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = _MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, _MAX_OPEN_FILES)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):  # a sandbox that refuses: keep what we have
            return soft
        return wanted
    return soft


def run_server(settings: Settings, *, host: str, port: int, workers: int = 1) -> None:
    configure_logging(settings.log_level)
    log.info("open files limit: %d", raise_open_files_limit())
    if workers <= 1:
        app = create_app(settings)
        DrainingServer(_config(app, host, port), app, settings.shutdown_drain_seconds).run()
        return
    sock = uvicorn.Config(app="chatgrid.app:create_app", host=host, port=port).bind_socket()
    prepare_multiprocess(settings.data_dir)  # /metrics on any worker counts every worker
    code = Supervisor(settings, sock, workers).run()
    sock.close()
    if code:
        sys.exit(code)


def _serve_worker(settings: Settings, sock: socket.socket) -> None:
    """One worker process: the whole app, accepting on the supervisor's socket."""
    configure_logging(settings.log_level)
    host, port = sock.getsockname()[:2]
    app = create_app(settings)
    server = DrainingServer(_config(app, host, port), app, settings.shutdown_drain_seconds)
    parent = os.getppid()

    def stop_when_orphaned() -> None:
        while os.getppid() == parent and not server.should_exit:
            time.sleep(_SUPERVISOR_POLL_SECONDS)
        server.should_exit = True  # the supervisor died (SIGKILL): drain and leave

    threading.Thread(target=stop_when_orphaned, name="orphan-watch", daemon=True).start()
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(_STARTUP_FAILED)


class Supervisor:
    """Starts the workers, replaces one that dies, and stops them all within a deadline."""

    def __init__(self, settings: Settings, sock: socket.socket, count: int) -> None:
        self.settings = settings
        self.sock = sock
        self.count = count
        self._stop = threading.Event()
        self._context = multiprocessing.get_context("spawn")

    def _start(self) -> multiprocessing.process.BaseProcess:
        process = self._context.Process(
            target=_serve_worker, args=(self.settings, self.sock), name="chatgrid-worker"
        )
        process.start()
        return process

    def _signalled(self, number: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping the workers", number)
        self._stop.set()

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; the exit code (non-zero: a worker could not start)."""
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._signalled)
        workers = [self._start() for _ in range(self.count)]
        log.info("serving with %d workers: %s", self.count, [w.pid for w in workers])
        code = 0
        while not self._stop.wait(_SUPERVISOR_POLL_SECONDS):
            for index, worker in enumerate(workers):
                if worker.is_alive():
                    continue
                if worker.exitcode == _STARTUP_FAILED:
                    log.error("a worker could not start; stopping")
                    self._stop.set()
                    code = 1
                    break
                log.warning(
                    "worker %s died (exit code %s); replacing it", worker.pid, worker.exitcode
                )
                if worker.pid is not None:
                    worker_exited(worker.pid)
                workers[index] = self._start()
        self._stop_all(workers)
        return code

    def _stop_all(self, workers: list[multiprocessing.process.BaseProcess]) -> None:
        for worker in workers:
            if worker.is_alive() and worker.pid is not None:
                os.kill(worker.pid, signal.SIGTERM)  # again if the group's reached it: harmless
        # Past a worker's own backstop (DrainingServer.shutdown), so a worker's kill is rare.
        allowance = (
            self.settings.shutdown_drain_seconds + CUT_GRACE_SECONDS + 2 * STOP_MARGIN_SECONDS
        )
        deadline = time.monotonic() + allowance
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:
            if worker.is_alive():
                log.error("worker %s did not stop in time; killing it", worker.pid)
                worker.kill()
                worker.join()
            if worker.pid is not None:
                worker_exited(worker.pid)
