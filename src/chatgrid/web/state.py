"""What the console's handlers share: the app context, the login throttle, mail, templates."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from chatgrid.context import AppContext
from chatgrid.documents.library import DocumentLibrary
from chatgrid.documents.retrieval import Retriever
from chatgrid.documents.upload_limit import UploadLimit
from chatgrid.errors import ChatGridError
from chatgrid.identity.oidc_http import ProviderDirectory
from chatgrid.identity.throttle import FailureCounter, LoginThrottle
from chatgrid.limits.local import LocalCounters
from chatgrid.mail import Mailer
from chatgrid.store.types import utcnow
from chatgrid.web.templating import Templates

if TYPE_CHECKING:
    from chatgrid.chat.workspace import Workspace


class _NoGateway:
    """Search without a gateway in this process: say so, as ``/v1`` would when starting."""

    async def embed(
        self, org_id: str, member_id: str, texts: list[str], model: str, dimensions: int
    ) -> tuple[list[bytes], str | None]:
        raise ChatGridError("The chat workspace is not running in this process.", status=503)


def console_library(ctx: AppContext) -> DocumentLibrary:
    """Collections and uploads for a console without a gateway; uploads are counted here
    and wait for a replica with a workspace to ingest them."""
    uploads = UploadLimit(LocalCounters(), ctx.settings.uploads_per_member_per_minute)
    return DocumentLibrary(
        ctx.documents, ctx.audit, _NoGateway(), Retriever(ctx.documents), uploads, ctx.settings
    )


@dataclass
class ConsoleState:
    ctx: AppContext
    throttle: LoginThrottle
    counter: FailureCounter
    mailer: Mailer | None
    templates: Templates
    #: Chat and documents; None where the console runs without a gateway (some tests).
    workspace: Workspace | None = None
    #: What time it is for two-step sign-in codes (tests set a fixed instant).
    clock: Callable[[], datetime] = utcnow
    #: Identity providers' metadata and keys, kept a few minutes (single sign-on).
    oidc: ProviderDirectory = field(default_factory=ProviderDirectory)

    @functools.cached_property
    def library(self) -> DocumentLibrary:
        """The document actions: the workspace's, or without one a library that
        keeps collections and uploads but cannot search (``console_library``)."""
        return self.workspace.library if self.workspace else console_library(self.ctx)

    def close(self) -> None:
        client = getattr(self.counter, "client", None)
        if client is not None:
            client.close()
