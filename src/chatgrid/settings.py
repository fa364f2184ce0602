"""The one settings object, read from ``CHATGRID_*`` environment variables.

Everything configurable lives here so a newcomer finds every knob in one
place, and so nothing calls ``os.getenv`` elsewhere.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Validated at start; an invalid value stops the process with a clear message."""

    model_config = SettingsConfigDict(env_prefix="CHATGRID_", extra="ignore")

    data_dir: Path = Field(
        default=Path("./data"),
        description="Holds the SQLite file, the generated master key and change marker.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of a PostgreSQL database; SQLite in data_dir when unset.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis shared by replicas on several machines (optional for one machine).",
    )
    redis_prefix: str = Field(
        default="chatgrid",
        pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="Prefix of every Redis key, so instances can share one Redis.",
    )
    sync_lease_seconds: float = Field(
        default=1.0,
        gt=0.05,
        le=30,
        description="A replica that has not confirmed admin state for this long refuses calls.",
    )
    model_refresh_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="How often every key's model list is asked of its provider again (0: never).",
    )
    master_key: SecretStr | None = Field(
        default=None,
        description=(
            "Master keyring: 'VERSION:BASE64KEY' entries separated by commas, the highest "
            "version current. When unset, a key file is created once in data_dir (mode 0600)."
        ),
    )
    allow_private_upstreams: bool = Field(
        default=False,
        description="Allow upstream base URLs that resolve to loopback/private/link-local hosts.",
    )
    markup_bps: int = Field(
        default=2000,
        ge=0,
        le=100_000,
        description="Default markup on shared-credit token cost, in basis points (2000 = +20%).",
    )
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, description="Largest request body accepted on /v1."
    )
    upstream_timeout_seconds: float = Field(
        default=600.0, gt=0, description="Longest an upstream call may take in total."
    )
    upstream_connect_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest opening a connection to an upstream may take."
    )
    drain_timeout_seconds: float = Field(
        default=120.0,
        ge=0,
        description="How long an abandoned stream is read on to learn its real usage.",
    )
    shutdown_drain_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="On SIGTERM, how long requests and streams in flight may go on; "
        "streams still open then are cut, ledgered as they stand, and the server exits.",
    )
    log_level: str = Field(
        default="info", description="debug, info, warning or error (JSON lines on stderr)."
    )

    # The console: sign-in, sessions, invitations, mail.
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#]+(/[^?#]*)?$",
        description=(
            "The URL people reach ChatGrid at (https://chatgrid.example.com); emailed "
            "invitation links use it. Without it, invitations are shown as links, never mailed."
        ),
    )
    signup_enabled: bool = Field(
        default=True, description="Let anyone create an org and its owner account at /signup."
    )
    session_idle_minutes: int = Field(
        default=120, ge=1, le=60 * 24 * 30, description="A console session unused this long ends."
    )
    session_max_hours: int = Field(
        default=24, ge=1, le=24 * 90, description="A console session ends this long after sign-in."
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Failed sign-ins for one account from one address (or one device token) "
        "in a window before that address waits; 4x this from clients the account does not "
        "know, all together (docs/console.md).",
    )
    login_max_failures_per_address: int = Field(
        default=20,
        ge=1,
        le=100_000,
        description="Failed sign-ins from one client address in one window before it is refused.",
    )
    login_window_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="The window failed sign-ins are counted in."
    )
    invitation_days: int = Field(
        default=7, ge=1, le=90, description="How long an invitation link stays valid."
    )
    smtp_host: str | None = Field(
        default=None,
        description=(
            "SMTP server for every email ChatGrid sends (invitations, address confirmations, "
            "password resets, broken pooled-key alerts); unset: no email is sent."
        ),
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    smtp_username: str | None = Field(default=None, description="SMTP user name, if it asks.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password, if any.")
    smtp_from: str = Field(
        default="ChatGrid <chatgrid@localhost>", description="The From: of every email sent."
    )
    smtp_starttls: bool = Field(
        default=True, description="Upgrade the SMTP connection with STARTTLS before sending."
    )
    smtp_timeout_seconds: float = Field(
        default=15.0, gt=0, le=300, description="Longest one SMTP conversation may take."
    )

    # Chat.
    title_model: str = Field(
        default="gpt-4o-mini",
        min_length=1,
        description="Small chat model that titles a conversation after its first answer, "
        "through the org's billing, where the org has generated titles on.",
    )

    # Documents (RAG).
    embedding_model: str = Field(
        default="text-embedding-3-small",
        description="Model that embeds document chunks and questions, through the org's billing.",
    )
    embedding_dimensions: int = Field(
        default=256,
        ge=8,
        le=4096,
        description="Size of stored embeddings (asked of the model; float32, 4 bytes each).",
    )
    document_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="Largest document a member may upload, in bytes.",
    )
    document_max_pages: int = Field(
        default=500, ge=1, description="Most pages a PDF may have to be ingested."
    )
    extraction_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="Longest reading one document may take before it is given up as failed.",
    )
    ingest_workers: int = Field(
        default=1,
        ge=0,
        le=16,
        description="Documents ingested at once by this process (0: this replica ingests none).",
    )
    # Hostile uploads: what one document or one member may cost.
    extraction_max_memory_mb: int = Field(
        default=1024,
        ge=256,
        le=65536,
        description="Memory the extraction child may use, in MiB (its address space); "
        "a document that needs more fails with a reason, and the child is replaced.",
    )
    uploads_per_member_per_minute: int = Field(
        default=30,
        ge=0,
        description="Documents one member may upload per minute, counted across replicas "
        "when Redis is set (0: no limit).",
    )

    # Verified email domains (docs/identity.md).
    dns_resolver: str | None = Field(
        default=None,
        description="The DNS server domain verification asks: an IP address, IP:PORT or "
        "[IPv6]:PORT; unset: the system's resolvers (/etc/resolv.conf).",
    )
    dns_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Longest one domain verification waits for DNS before it says so.",
    )

    # Behind a load balancer (docs/operations.md, "The real client address").
    trusted_proxies: str = Field(
        default="",
        description="Proxies whose forwarding header is believed: comma-separated addresses "
        "or CIDRs (unset: none; every client address is the connection's peer).",
    )
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = Field(
        default="x-forwarded-for",
        description="The header the trusted proxies append the client to: x-forwarded-for, "
        "or forwarded (RFC 7239's for=); the other one is never read.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token Prometheus sends to GET /metrics (unset: no /metrics, 404).",
    )
    otel_endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="OTLP/HTTP receiver traces are sent to (its base URL; /v1/traces is added). "
        "Unset: no traces, unless OTEL_EXPORTER_OTLP_ENDPOINT or _TRACES_ENDPOINT is set.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        return ", ".join(str(network) for network in _networks(value))

    @property
    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return _networks(self.trusted_proxies)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.lower()
        if level not in {"debug", "info", "warning", "error"}:
            raise ValueError("log_level must be debug, info, warning or error")
        return level

    @field_validator("dns_resolver")
    @classmethod
    def _resolver_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        host, port = _split_address(value.strip())
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @property
    def dns_resolver_address(self) -> tuple[str, int] | None:
        """``(ip, port)`` of ``dns_resolver``, or None for the system's resolvers."""
        return None if self.dns_resolver is None else _split_address(self.dns_resolver)

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "chatgrid.db"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.sqlite_path}"


def _networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``"10.0.0.0/8, 192.0.2.7"`` as networks; a bad entry is an error naming it."""
    found = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"trusted_proxies: not an address or CIDR: {entry!r}") from None
    return found


def _split_address(text: str) -> tuple[str, int]:
    """``1.2.3.4``, ``1.2.3.4:5353``, ``::1`` or ``[::1]:5353`` as ``(ip, port)``, 53 by default."""
    host, port = text, "53"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") if rest else port
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"dns_resolver must be an IP address (with an optional port), not {text!r}"
        ) from None
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"dns_resolver's port must be 1 to 65535, not {port!r}")
    return str(address), int(port)
