"""A real DNS server for tests (dnslib), answering TXT questions on UDP and TCP.

Domain verification asks DNS over the wire like it would in production: the
tests point ``CHATGRID_DNS_RESOLVER`` at this server and publish, change or
withdraw records while it runs. UDP answers over 512 bytes are truncated, as
a classic server does, so a client must retry over TCP to read them.
``held_dns`` is the other kind: a port whose questions are answered only
when the test says so (or never, for timeouts).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dnslib import QTYPE, RCODE, RR, TXT, DNSRecord
from dnslib.server import DNSHandler, DNSLogger, DNSServer


class _QuietLogger(DNSLogger):
    """Nothing printed for each packet; the tests read ``Zone.asked`` instead."""

    def __init__(self) -> None:
        super().__init__(log="-request,-reply,-truncated,-error", prefix=False)


class _ClassicHandler(DNSHandler):
    """UDP answers are at most 512 bytes (no EDNS); a longer one is sent truncated.

    As real servers do, the truncated answer keeps the question and sets TC
    (dnslib's own ``truncate()`` drops the question, which clients ignore).
    """

    def get_reply(self, data: bytes) -> bytes:
        wire: bytes = super().get_reply(data)
        if self.protocol != "udp" or len(wire) <= 512:
            return wire
        truncated = DNSRecord.parse(data).reply()
        truncated.header.tc = 1
        packed: bytes = truncated.pack()
        return packed


@dataclass
class Zone:
    """TXT records by name (each record a list of strings), and which names fail."""

    records: dict[str, list[list[str]]] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)
    asked: list[tuple[str, str, str]] = field(default_factory=list)  # (protocol, name, type)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, name: str, *values: str | list[str]) -> None:
        """Set the TXT records at ``name``; a list is one record of several strings."""
        with self.lock:
            self.records[_key(name)] = [[v] if isinstance(v, str) else list(v) for v in values]

    def withdraw(self, name: str) -> None:
        with self.lock:
            self.records.pop(_key(name), None)

    def fail(self, name: str) -> None:
        """Answer SERVFAIL for ``name`` from now on."""
        with self.lock:
            self.failing.add(_key(name))

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        name = _key(str(request.q.qname))
        qtype = QTYPE[request.q.qtype]
        reply = request.reply()
        with self.lock:
            self.asked.append((handler.protocol, name, qtype))
            if name in self.failing:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            records = self.records.get(name)
            if records is None:
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            if qtype in ("TXT", "ANY"):
                for strings in records:
                    reply.add_answer(
                        RR(name, QTYPE.TXT, rdata=TXT([s.encode() for s in strings]), ttl=60)
                    )
        return reply


def _key(name: str) -> str:
    return name.lower().rstrip(".")


@dataclass
class RunningDns:
    zone: Zone
    port: int
    servers: list[DNSServer]

    @property
    def address(self) -> str:
        """What ``CHATGRID_DNS_RESOLVER`` is set to."""
        return f"127.0.0.1:{self.port}"


def _server(zone: Zone, port: int, *, tcp: bool) -> DNSServer:
    return DNSServer(
        zone,
        address="127.0.0.1",
        port=port,
        tcp=tcp,
        logger=_QuietLogger(),
        handler=_ClassicHandler,
    )


def _servers(zone: Zone) -> tuple[int, list[DNSServer]]:
    """A UDP and a TCP server on the same free port of 127.0.0.1."""
    for _attempt in range(50):
        udp = _server(zone, 0, tcp=False)
        port = int(udp.server.server_address[1])
        try:
            tcp = _server(zone, port, tcp=True)
        except OSError:
            udp.server.server_close()
            continue
        return port, [udp, tcp]
    raise RuntimeError("no port free for both UDP and TCP")


@contextmanager
def dns_server() -> Iterator[RunningDns]:
    zone = Zone()
    port, servers = _servers(zone)
    threads = [
        threading.Thread(
            target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        for server in servers
    ]
    for thread in threads:
        thread.start()
    try:
        yield RunningDns(zone, port, servers)
    finally:
        for server in servers:
            server.server.shutdown()
            server.server.server_close()
        for thread in threads:
            thread.join()


class HeldDns:
    """A resolver address whose questions wait until the test answers them, or forever.

    Left alone it is a server that never answers (a timeout); a test can also
    take the question, check what else the server does meanwhile, then answer.
    """

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def next_question(self, timeout: float = 30.0) -> tuple[DNSRecord, tuple[str, int]]:
        self.sock.settimeout(timeout)
        data, sender = self.sock.recvfrom(4096)
        return DNSRecord.parse(data), sender

    def answer(self, question: DNSRecord, sender: tuple[str, int], *values: str) -> None:
        reply = question.reply()
        for value in values:
            reply.add_answer(RR(question.q.qname, QTYPE.TXT, rdata=TXT(value.encode()), ttl=60))
        self.sock.sendto(reply.pack(), sender)


@contextmanager
def held_dns() -> Iterator[HeldDns]:
    held = HeldDns()
    try:
        yield held
    finally:
        held.sock.close()


def answered_over(zone: Zone, name: str) -> list[str]:
    """The protocols the TXT questions for ``name`` came over, in order."""
    return [proto for proto, asked, qtype in zone.asked if asked == _key(name) and qtype == "TXT"]
