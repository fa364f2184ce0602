"""How often links may be mailed: per address typed, and per client asking.

Every request that mails a link by address (a password reset, a new
confirmation link) counts against the address and against the client's
network address, in the console's counters (in Redis when it is set, so
every replica sees one count). Too many from one client is refused and
told (429 with ``Retry-After``). Too many for one address sends nothing
more but answers as usual: the answer never depends on the address, and
nobody can flood someone's inbox through ChatGrid.

The address is counted whether or not it has an account, so the count
itself tells nothing either.
"""

from __future__ import annotations

import hashlib
import math

from chatgrid.errors import RateLimited
from chatgrid.identity.throttle import FailureCounter

#: Mails to one address per window (the console's sign-in window, 15 minutes by default).
MAILS_PER_ADDRESS = 3
#: Requests from one client address per window, whatever addresses it types.
REQUESTS_PER_CLIENT = 10


def _key(kind: str, value: str) -> str:
    return f"links:{kind}:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


class LinkRequestThrottle:
    def __init__(
        self,
        counter: FailureCounter,
        *,
        per_address: int = MAILS_PER_ADDRESS,
        per_client: int = REQUESTS_PER_CLIENT,
    ) -> None:
        self.counter = counter
        self.per_address = per_address
        self.per_client = per_client

    def admit(self, email: str, client_addr: str | None) -> bool:
        """Whether to mail ``email`` now; a client over its limit is refused outright."""
        if client_addr:
            client_key = _key("client", client_addr)
            count, wait = self.counter.count(client_key)
            if count >= self.per_client:
                seconds = max(1, math.ceil(wait))
                minutes = max(1, round(seconds / 60))
                raise RateLimited(
                    "too many requests for emailed links from this address; try again in "
                    f"about {minutes} minute" + ("s" if minutes != 1 else ""),
                    code="link_requests_throttled",
                    retry_after=seconds,
                )
            self.counter.add(client_key)
        address_key = _key("email", email)
        count, _ = self.counter.count(address_key)
        if count >= self.per_address:
            return False
        self.counter.add(address_key)
        return True
