"""The real gateway in process, as the workspace drives it: a scenario on its own event loop.

The gateway is the real one on the test's migrated database, calling the
real simulator over HTTP; ``run`` gives a scenario a ``WorkspaceGateway`` and
closes everything after it (queued alerts included).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from chatgrid.context import AppContext
from chatgrid.gateway.app import Gateway
from chatgrid.gateway.workspace import WorkspaceGateway
from chatgrid.providers.network import create_upstream_session

MODEL = "gpt-4o-mini"


@asynccontextmanager
async def workspace_gateway(context: AppContext) -> AsyncIterator[WorkspaceGateway]:
    session = create_upstream_session(context.settings)
    gateway = Gateway(context, session)
    await gateway.start()
    try:
        yield WorkspaceGateway(gateway)
    finally:
        await gateway.close()
        await session.close()


def run(context: AppContext, scenario: Callable[[WorkspaceGateway], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with workspace_gateway(context) as workspace:
            return await scenario(workspace)

    return asyncio.run(main())


def chat(text: str) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}]}
