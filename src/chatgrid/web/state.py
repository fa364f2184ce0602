"""What the console's handlers share: the app context, the login throttle, mail, templates."""

from __future__ import annotations

from dataclasses import dataclass

from chatgrid.context import AppContext
from chatgrid.identity.throttle import FailureCounter, LoginThrottle
from chatgrid.mail import Mailer
from chatgrid.web.templating import Templates


@dataclass
class ConsoleState:
    ctx: AppContext
    throttle: LoginThrottle
    counter: FailureCounter
    mailer: Mailer | None
    templates: Templates

    def close(self) -> None:
        client = getattr(self.counter, "client", None)
        if client is not None:
            client.close()
