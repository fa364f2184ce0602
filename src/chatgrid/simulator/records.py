"""What the simulator saw: one record per ``/v1`` or Azure request, in arrival order.

Gateway tests assert on what actually reached the upstream (which key, which
headers, which body, how many tokens were delivered before a cut), so every
request is recorded. Recording sits on the hot path of a benchmark that fills
the log, so a record is a slotted object holding the body and the headers as
two flat ``bytes`` (cheap to keep, invisible to the garbage collector, whose
full passes otherwise grow with every nested dict kept); they only become JSON
on ``GET /_sim/requests``. The log keeps the newest 200,000 records.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Final

import orjson

MAX_RECORDS: Final = 200_000
_FREEZE_EVERY: Final = 5_000

RawHeaders = list[tuple[bytes, bytes]]

_HIDDEN_HEADERS: Final = frozenset({b"authorization", b"api-key", b"x-api-key"})


class Usage:
    __slots__ = ("cached_tokens", "completion_tokens", "prompt_tokens")

    def __init__(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.cached_tokens = cached_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cached_tokens": self.cached_tokens,
            "total_tokens": self.total_tokens,
        }


class AnthropicUsage(Usage):
    """An Anthropic call's usage, under OpenAI's names too, so ledger tests read both alike:
    ``prompt_tokens`` is all input (uncached + cache writes + cache reads, as OpenAI's
    includes its cached tokens), ``cached_tokens`` the cache reads."""

    __slots__ = ("cache_creation_tokens", "input_tokens")

    def __init__(
        self, input_tokens: int, output_tokens: int, cache_creation: int, cache_read: int
    ) -> None:
        super().__init__(input_tokens + cache_creation + cache_read, output_tokens, cache_read)
        self.input_tokens = input_tokens
        self.cache_creation_tokens = cache_creation

    def as_dict(self) -> dict[str, int]:
        shown = super().as_dict()
        shown["input_tokens"] = self.input_tokens
        shown["output_tokens"] = self.completion_tokens
        shown["cache_creation_input_tokens"] = self.cache_creation_tokens
        shown["cache_read_input_tokens"] = self.cached_tokens
        return shown


class RequestRecord:
    """One request as received and as answered; filled in while it is served."""

    __slots__ = (
        "api_key",
        "at",
        "body",
        "body_valid",
        "client_disconnected",
        "completion_tokens_sent",
        "cut",
        "headers",
        "id",
        "method",
        "path",
        "query",
        "status",
        "stream",
        "units",
        "usage",
    )

    def __init__(
        self,
        request_id: str,
        method: str,
        path: str,
        query: bytes,
        raw_headers: RawHeaders,
        at: float = 0.0,
    ) -> None:
        self.id = request_id
        #: When it arrived (UNIX seconds): the Usage API's buckets are days of these.
        self.at = at
        self.method = method
        self.path = path
        self.query = query
        #: ``name:value`` lines joined by newlines (neither may contain one in HTTP/1.1).
        self.headers = b"\n".join([name + b":" + value for name, value in raw_headers])
        self.api_key: str | None = None
        #: The raw body; shown parsed, or null when it was not JSON (``body_valid``).
        self.body = b""
        self.body_valid = False
        self.status: int | None = None
        self.stream = False
        self.usage: Usage | None = None
        #: What a non-token call used (images, audio seconds, characters...), for ledger tests.
        self.units: dict[str, object] | None = None
        self.completion_tokens_sent = 0
        self.cut = False
        self.client_disconnected = False

    def as_dict(self) -> dict[str, object]:
        headers: dict[str, str] = {}
        for line in self.headers.split(b"\n") if self.headers else ():
            raw_name, _, raw_value = line.partition(b":")
            if raw_name.lower() in _HIDDEN_HEADERS:
                continue
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "query": self.query.decode("latin-1"),
            "api_key": self.api_key,
            "headers": headers,
            "body": orjson.loads(self.body) if self.body_valid else None,
            "status": self.status,
            "stream": self.stream,
            "usage": self.usage.as_dict() if self.usage is not None else None,
            "units": self.units,
            "completion_tokens_sent": self.completion_tokens_sent,
            "cut": self.cut,
            "client_disconnected": self.client_disconnected,
        }


class RequestLog:
    def __init__(self, limit: int = MAX_RECORDS, clock: Callable[[], float] = time.time) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=limit)
        self._since_freeze = 0
        #: When a request arrives; tests fix it, so a day's buckets do not depend on today.
        self.clock = clock

    def __len__(self) -> int:
        return len(self._records)

    def open(
        self, request_id: str, method: str, path: str, query: bytes, raw_headers: RawHeaders
    ) -> RequestRecord:
        """Record a request on arrival, so the log keeps arrival order."""
        record = RequestRecord(request_id, method, path, query, raw_headers, self.clock())
        self._records.append(record)
        self._since_freeze += 1
        if self._since_freeze >= _FREEZE_EVERY:
            # Records live until the log is cleared; without this every full
            # collection walks all of them (tens of ms with 200,000 records),
            # which showed up as the baseline's tail latency in bench/.
            self._since_freeze = 0
            gc.freeze()
        return record

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self._records)

    def render_dicts(self) -> list[dict[str, object]]:
        """The records as ``GET /_sim/requests`` shows them, oldest first."""
        return [record.as_dict() for record in self._records]

    def render(self) -> bytes:
        return orjson.dumps({"data": self.render_dicts()})

    def clear(self) -> None:
        self._records.clear()
