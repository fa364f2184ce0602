"""Reading TXT records for domain verification, with dnspython (the I/O beside ``domains``).

The resolver is ``CHATGRID_DNS_RESOLVER`` when set (tests start their own
DNS server) and the system's otherwise. The lookup blocks for at most
``CHATGRID_DNS_TIMEOUT_SECONDS``; callers run it where blocking is fine (the
console's handlers run in a worker thread, the CLI has no event loop), never
on the server's event loop. A truncated UDP answer is asked again over TCP
(dnspython does this), so a name with many or long TXT records still reads.
"""

from __future__ import annotations

import logging

import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdatatype
import dns.resolver

from chatgrid.errors import ChatGridError
from chatgrid.settings import Settings

log = logging.getLogger(__name__)


class DnsUnavailable(ChatGridError):
    """DNS could not say whether the record is there: try again, nothing was changed."""

    status = 502
    error_type = "upstream_error"
    default_code = "dns_unavailable"


def _resolver(settings: Settings) -> dns.resolver.Resolver:
    address = settings.dns_resolver_address
    if address is None:
        try:
            resolver = dns.resolver.Resolver(configure=True)
        except dns.resolver.NoResolverConfiguration:
            raise DnsUnavailable(
                "this server has no DNS resolver configured; the operator sets "
                "CHATGRID_DNS_RESOLVER"
            ) from None
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(*address)]
    resolver.cache = None  # a record published a moment ago must be seen now
    return resolver


def txt_values(settings: Settings, name: str) -> list[str]:
    """Every TXT value at ``name`` (a record's strings joined); [] when there is none.

    Raises ``DnsUnavailable`` with a plain reason when DNS does not answer
    in time or answers with a failure.
    """
    resolver = _resolver(settings)
    timeout = settings.dns_timeout_seconds
    where = settings.dns_resolver or "the system resolver"
    try:
        answer = resolver.resolve(
            dns.name.from_text(name), dns.rdatatype.TXT, lifetime=timeout, search=False
        )
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.YXDOMAIN):
        return []
    except dns.exception.Timeout:
        log.info("DNS lookup of %s through %s timed out after %ss", name, where, timeout)
        raise DnsUnavailable(
            f"the DNS server did not answer within {timeout:g} second{'' if timeout == 1 else 's'}"
            f" when asked for {name}; "
            "nothing was changed, try again in a moment"
        ) from None
    except dns.exception.DNSException as exc:
        log.info("DNS lookup of %s through %s failed: %s", name, where, exc)
        raise DnsUnavailable(
            f"the DNS server could not look up {name} ({_failure(exc)}); "
            "nothing was changed, try again in a moment"
        ) from None
    values = []
    for record in answer:
        chunks: tuple[bytes, ...] = getattr(record, "strings", ())
        values.append(b"".join(chunks).decode("utf-8", errors="replace"))
    return values


def _failure(exc: dns.exception.DNSException) -> str:
    """What the server said, in DNS's words (``answered SERVFAIL``), else the error's kind."""
    errors = exc.kwargs.get("errors", []) if isinstance(exc, dns.resolver.NoNameservers) else []
    for error in errors:
        answer = error[-1] if isinstance(error, tuple) else None
        if isinstance(answer, dns.message.Message):
            return f"it answered {dns.rcode.to_text(answer.rcode())}"
    return type(exc).__name__
