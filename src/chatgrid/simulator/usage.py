"""``GET /v1/organization/usage/completions``: what the simulator itself answered, as OpenAI's
Usage API reports it.

Every chat completion and response the simulator answered with usage counts,
whoever sent it (through ChatGrid or straight to the simulator), in daily
buckets (UTC): requests, input tokens (cached ones included), cached input
tokens and output tokens, grouped by ``model`` and/or ``api_key_id`` when
asked and filtered by ``api_key_ids`` and ``models``. An API key's id is
``key_`` and the first 16 hex digits of the SHA-256 of the key (OpenAI's own
ids cannot be derived; these are stable and name no secret). Like OpenAI's,
the endpoint takes an admin key (``sk-admin-…``) only. Only ``1d`` buckets
are served; pages follow ``next_page`` as OpenAI's do.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs

import orjson

from chatgrid.simulator import errors
from chatgrid.simulator.records import RequestRecord

DAY = 86_400
DEFAULT_LIMIT = 7
MAX_LIMIT = 31
ADMIN_KEY_PREFIX = "sk-admin-"
_COUNTED_PATHS = frozenset({"/v1/chat/completions", "/v1/responses"})
_GROUPS = ("model", "api_key_id")


def api_key_id(key: str) -> str:
    return "key_" + hashlib.sha256(key.encode()).hexdigest()[:16]


def require_admin_key(key: str | None) -> None:
    if not key or not key.startswith(ADMIN_KEY_PREFIX):
        raise errors.ApiError(
            401,
            "The Usage API requires an admin key (sk-admin-...); a project or user key "
            "cannot read it.",
            code="invalid_api_key",
        )


@dataclass(frozen=True)
class PageWindow:
    """What one usage or costs page covers: its days, its grouping and its key filter."""

    params: dict[str, list[str]]
    first: int  # the first bucket's start (a UNIX time, midnight UTC)
    stop: int  # the end of the last bucket this page holds
    last: int  # where the next page starts
    until: int  # the end of everything asked for
    groups: list[str]
    key_ids: set[str]

    def holds(self, day: int, key_id: str) -> bool:
        return self.first <= day < self.stop and (not self.key_ids or key_id in self.key_ids)

    def page(self, results_of: Callable[[int], list[dict[str, object]]]) -> bytes:
        """The page's JSON, one bucket a day with ``results_of(day)``, paged as OpenAI's."""
        buckets = [
            {
                "object": "bucket",
                "start_time": day,
                "end_time": day + DAY,
                "results": results_of(day),
            }
            for day in range(self.first, self.stop, DAY)
        ]
        more = self.last < self.until
        return orjson.dumps(
            {
                "object": "page",
                "data": buckets,
                "has_more": more,
                "next_page": str(self.last) if more else None,
            }
        )


def page_window(query: bytes, now: float, groups: tuple[str, ...], max_limit: int) -> PageWindow:
    """The page asked for by ``start_time`` (a UNIX time in seconds), ``end_time`` (default:
    the end of today), ``bucket_width`` (``1d`` only), ``limit``, ``group_by``,
    ``api_key_ids`` and ``page``; a clear 400 for anything else."""
    params = parse_qs(query.decode("latin-1"))
    start = _integer(params, "start_time")
    if start is None:
        raise errors.missing_parameter("start_time")
    end = _integer(params, "end_time")
    width = params.get("bucket_width", ["1d"])[-1]
    if width != "1d":
        raise errors.invalid_value("bucket_width", width, ("1d",))
    limit = _integer(params, "limit") or DEFAULT_LIMIT
    if not 1 <= limit <= max_limit:
        raise errors.above_maximum("limit", max_limit, limit)
    grouped = _listed(params, "group_by")
    for group in grouped:
        if group not in groups:
            raise errors.invalid_value("group_by", group, groups)
    first = _integer(params, "page")  # a page token is the start of its first bucket
    first = (start // DAY) * DAY if first is None else first
    until = end if end is not None else (int(now) // DAY + 1) * DAY
    last = first + limit * DAY
    return PageWindow(
        params=params,
        first=first,
        stop=min(last, until),
        last=last,
        until=until,
        groups=grouped,
        key_ids=set(_listed(params, "api_key_ids")),
    )


def completions_page(records: Iterable[RequestRecord], query: bytes, now: float) -> bytes:
    """One page of daily buckets of requests and tokens."""
    window = page_window(query, now, _GROUPS, MAX_LIMIT)
    models = set(_listed(window.params, "models"))
    totals: dict[tuple[int, str | None, str | None], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for record in records:
        counted = _counted(record)
        if counted is None:
            continue
        day, model, key_id = counted
        if not window.holds(day, key_id) or (models and model not in models):
            continue
        usage = record.usage
        assert usage is not None
        bucket = totals[
            (
                day,
                model if "model" in window.groups else None,
                key_id if "api_key_id" in window.groups else None,
            )
        ]
        bucket[0] += 1
        bucket[1] += usage.prompt_tokens
        bucket[2] += usage.cached_tokens
        bucket[3] += usage.completion_tokens
    ordered = sorted(totals.items(), key=_order)
    return window.page(
        lambda day: [_result(m, k, counts) for (at, m, k), counts in ordered if at == day]
    )


def _counted(record: RequestRecord) -> tuple[int, str | None, str] | None:
    """(day, model, key id) of a call that counts, or None."""
    if record.status != 200 or record.usage is None or record.api_key is None:
        return None
    if record.path not in _COUNTED_PATHS or not record.body_valid:
        return None
    body = orjson.loads(record.body)
    model = body.get("model") if isinstance(body, dict) else None
    day = (int(record.at) // DAY) * DAY
    return day, model if isinstance(model, str) else None, api_key_id(record.api_key)


def _order(item: tuple[tuple[int, str | None, str | None], list[int]]) -> tuple[int, str, str]:
    (day, model, key_id), _ = item
    return day, model or "", key_id or ""


def _result(model: str | None, key_id: str | None, counts: list[int]) -> dict[str, object]:
    requests, input_tokens, cached, output_tokens = counts
    return {
        "object": "organization.usage.completions.result",
        "input_tokens": input_tokens,
        "input_cached_tokens": cached,
        "output_tokens": output_tokens,
        "input_audio_tokens": 0,
        "output_audio_tokens": 0,
        "num_model_requests": requests,
        "project_id": None,
        "user_id": None,
        "api_key_id": key_id,
        "model": model,
        "batch": None,
        "service_tier": None,
    }


def _integer(params: dict[str, list[str]], name: str) -> int | None:
    values = params.get(name)
    if not values:
        return None
    text = values[-1]
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 12:
        raise errors.invalid_type(name, "integer", text)
    return int(text)


def _listed(params: dict[str, list[str]], name: str) -> list[str]:
    """``name=a&name=b``, ``name[]=a`` or ``name=a,b``: every value given."""
    found = params.get(name, []) + params.get(f"{name}[]", [])
    return [part for value in found for part in value.split(",") if part]
