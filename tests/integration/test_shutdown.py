"""SIGTERM to the server's whole process group (what systemd and Kubernetes send) never hangs.

The server is started as a group leader with the extraction child alive and
reading a large document and streams in flight; the group gets SIGTERM at
once. The server must exit (the test only gives it a generous limit), the
streams must end — finished within the drain deadline, or cut at it with an
error event — each with its ledger entry, the document must not be blamed
for the signal, and no process of the group may be left behind.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import orjson

from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode
from chatgrid.store.migrate import upgrade_to_head
from tests.support.deployment import Deployment, make_settings, settings_env
from tests.support.hostile_corpus import MiB, huge_text
from tests.support.process_groups import (
    extraction_children,
    group_members,
    serving_in_own_group,
    wait_for_exit,
    wait_until_gone,
)
from tests.support.processes import ChatGridInstance, RunningProcess, instance_env
from tests.support.workspace import add_person

DRAIN_SECONDS = 20
EXIT_TIMEOUT = 240.0  # "exits at all": far past drain + grace + the app's own shutdown


class Stream(threading.Thread):
    """One streamed chat call read to its end in a thread; what arrived is kept."""

    def __init__(self, url: str, token: str, prompt: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.prompt = url, token, prompt
        self.first_chunk = threading.Event()
        self.received = b""
        self.error: BaseException | None = None

    def run(self) -> None:
        body = {
            "model": "gpt-4o-mini",
            "stream": True,
            "messages": [{"role": "user", "content": self.prompt}],
        }
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            with (
                httpx.Client(timeout=EXIT_TIMEOUT) as http,
                http.stream("POST", self.url, headers=headers, json=body) as response,
            ):
                for piece in response.iter_raw():
                    self.received += piece
                    self.first_chunk.set()
        except httpx.HTTPError as error:
            self.error = error
        finally:
            self.first_chunk.set()

    def error_code(self) -> str | None:
        for line in self.received.split(b"\n"):
            if line.startswith(b"data: {") and b'"error"' in line:
                return str(orjson.loads(line.removeprefix(b"data: "))["error"]["code"])
        return None


def test_sigterm_to_the_group_drains_streams_ledgers_them_and_leaves_no_process(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = instance_env(settings_env(data_dir, postgres_database))
    env.update(
        CHATGRID_SHUTDOWN_DRAIN_SECONDS=str(DRAIN_SECONDS),
        CHATGRID_DOCUMENT_MAX_BYTES=str(40 * MiB),
    )
    context = AppContext.open(make_settings(data_dir, postgres_database))
    upgrade_to_head(context.engine)
    context.prices.seed_defaults()
    with serving_in_own_group(env, tmp_path) as server:
        group = server.process.pid
        deployment = Deployment(ChatGridInstance(env, data_dir, server), context, simulator)
        org = deployment.new_org(BillingMode.BYOK)
        readers = deployment.new_org(BillingMode.BYOK)
        url = f"{deployment.v1}/chat/completions"
        # Two that end within the drain deadline, one that is still going at it.
        short = [
            Stream(url, org.token, f"short {n} [sim:tokens=4] [sim:slow=2000]") for n in (1, 2)
        ]
        long = Stream(url, org.token, "long [sim:tokens=400] [sim:slow=1000]")
        for stream in [*short, long]:
            stream.start()
        for stream in [*short, long]:
            assert stream.first_chunk.wait(EXIT_TIMEOUT)
            assert stream.error is None, stream.error
        # A large document, so the extraction child is busy when the signal comes.
        collection = context.documents.create_collection(readers.id, "big", None)
        document = context.documents.add_document(
            readers.id,
            collection.id,
            readers.member_id,
            "big.md",
            "text/markdown",
            huge_text(20 * MiB),
        )
        children: list[int] = []
        deadline = time.monotonic() + EXIT_TIMEOUT
        while time.monotonic() < deadline:
            current = context.documents.document(readers.id, document.id)
            children = [c.pid for c in extraction_children({group})]
            if current is not None and current.status == "processing" and children:
                break
            time.sleep(0.05)
        assert children, "the extraction child never started"
        members = {p.pid for p in group_members(group)}

        os.killpg(group, signal.SIGTERM)

        code = wait_for_exit(server.process, EXIT_TIMEOUT)
        assert code is not None, "the server did not exit after SIGTERM"
        for stream in [*short, long]:
            stream.join(EXIT_TIMEOUT)
            assert not stream.is_alive()
        left = wait_until_gone(members | set(children), 30)
        assert not left, f"left running after the server exited: {left}"

    for stream in short:
        assert stream.received.endswith(b"data: [DONE]\n\n"), stream.received[-300:]
    assert long.error_code() == "server_stopping", long.received[-300:]
    assert not long.received.endswith(b"data: [DONE]\n\n")
    entries = [e for e in context.usage.entries(org.id) if e["stream"]]
    assert sorted(e["outcome"] for e in entries) == ["ok", "ok", "server_stopping"]
    cut = next(e for e in entries if e["outcome"] == "server_stopping")
    assert cut["usage_estimated"] and cut["completion_tokens"] > 0
    # The signal was not the document's fault: it is read again later, never failed for it.
    after = context.documents.document(readers.id, document.id)
    assert after is not None and after.status != "failed", after
    assert "Waiting for application shutdown" in server.log_text()
    context.close()


def test_an_answer_whose_reader_left_is_still_ledgered_when_the_group_is_stopped(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> None:
    """A workspace answer relayed apart from its request (the member pressed Stop) keeps the
    server draining: it is cut at the deadline and ledgered, not lost to the ledger's close."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = instance_env(settings_env(data_dir, postgres_database))
    env.update(CHATGRID_SHUTDOWN_DRAIN_SECONDS="5")
    context = AppContext.open(make_settings(data_dir, postgres_database))
    upgrade_to_head(context.engine)
    context.prices.seed_defaults()
    with serving_in_own_group(env, tmp_path) as server:
        deployment = Deployment(ChatGridInstance(env, data_dir, server), context, simulator)
        org = deployment.new_org()
        alice = add_person(deployment, org.id)
        conversation = alice.conversation()
        url = f"/api/orgs/{org.id}/conversations/{conversation}/messages"
        body = {"content": "[sim:slow=1000][sim:tokens=400] long story", "model": "gpt-4o-mini"}
        with alice.client.stream(
            "POST", url, json=body, headers={"X-CSRF-Token": alice.csrf}
        ) as response:
            assert response.status_code == 200
            for piece in response.iter_bytes():
                if b"event: delta" in piece:
                    break  # Stop: the request ends, the relay goes on alone
        alice.client.close()
        os.killpg(server.process.pid, signal.SIGTERM)
        assert wait_for_exit(server.process, EXIT_TIMEOUT) is not None
    chats = [e for e in context.usage.entries(org.id) if e["stream"]]
    assert [e["outcome"] for e in chats] == ["server_stopping"], chats
    context.close()
