"""The workspace's long-lived parts, built once per process beside the gateway."""

from __future__ import annotations

from dataclasses import dataclass

from chatgrid.chat.turns import ChatService
from chatgrid.context import AppContext
from chatgrid.documents.ingest import Ingestor
from chatgrid.documents.retrieval import Retriever
from chatgrid.gateway.workspace import WorkspaceGateway


@dataclass
class Workspace:
    gateway: WorkspaceGateway
    retriever: Retriever
    chat: ChatService
    ingestor: Ingestor

    @classmethod
    def build(cls, ctx: AppContext, gateway: WorkspaceGateway) -> Workspace:
        retriever = Retriever(ctx.documents)
        return cls(
            gateway=gateway,
            retriever=retriever,
            chat=ChatService(ctx, gateway, retriever),
            ingestor=Ingestor(ctx, gateway, ctx.settings.ingest_workers),
        )
