"""What the console's handlers share: the app context, the login throttle, mail, templates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from chatgrid.context import AppContext
from chatgrid.identity.oidc_http import ProviderDirectory
from chatgrid.identity.throttle import FailureCounter, LoginThrottle
from chatgrid.mail import Mailer
from chatgrid.store.types import utcnow
from chatgrid.web.templating import Templates

if TYPE_CHECKING:
    from chatgrid.chat.workspace import Workspace


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

    def close(self) -> None:
        client = getattr(self.counter, "client", None)
        if client is not None:
            client.close()
