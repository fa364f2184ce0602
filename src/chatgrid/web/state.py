"""What the console's handlers share: the app context, the login throttle, mail, templates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chatgrid.context import AppContext
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

    def close(self) -> None:
        client = getattr(self.counter, "client", None)
        if client is not None:
            client.close()
