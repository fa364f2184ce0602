"""A slow streaming client that may hang up mid-stream: the load budget tests put on replicas."""

from __future__ import annotations

import httpx

MODEL = "gpt-5"  # $10 per 1M output tokens: each call here costs about a cent


def body(max_tokens: int, tokens: int, slow_ms: int) -> dict[str, object]:
    return {
        "model": MODEL,
        "stream": True,
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": f"go [sim:tokens={tokens}] [sim:slow={slow_ms}]"}],
    }


async def one_client(http: httpx.AsyncClient, url: str, token: str, hang_up: bool) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.stream("POST", url, json=body(1000, 1000, 2), headers=headers) as response:
        if response.status_code != 200:
            await response.aread()
            return response.status_code
        read = 0
        async for _ in response.aiter_raw():
            read += 1
            if hang_up and read >= 3:
                return 499
    return 200
