"""The workspace's long-lived parts, built once per process beside the gateway.

``chatgrid/app.py`` builds them (``build_workspace``): only there do the
concrete store and gateway meet the chat and documents services, which
name what they need as shapes (``chat/ports.py``, ``documents/ports.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chatgrid.chat.attachments import ConversationAttachments
from chatgrid.chat.sharing import ConversationSharing
from chatgrid.chat.turns import ChatService
from chatgrid.documents.ingest import Ingestor
from chatgrid.documents.library import DocumentLibrary


class ModelLister(Protocol):
    """The models a member may pick (``gateway.workspace.WorkspaceGateway``)."""

    async def models(self, org_id: str, member_id: str) -> list[str]: ...


@dataclass
class Workspace:
    gateway: ModelLister
    library: DocumentLibrary
    chat: ChatService
    ingestor: Ingestor
    sharing: ConversationSharing
    attachments: ConversationAttachments
