"""Alert channels and the delivery queue: the one writer of both tables.

``enqueue`` only inserts rows (one per channel, idempotent by the event's
dedupe key), so raising an alert never waits on a receiver. Workers take
due deliveries with a lease (one conditional ``UPDATE`` each), so two
replicas never send the same delivery at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from chatgrid.alerts.events import AlertEvent, ChannelKind
from chatgrid.alerts.models import AlertChannel, AlertDelivery, ClaimedDelivery
from chatgrid.errors import NotFound
from chatgrid.governance.erasure import Erasure
from chatgrid.store.ids import new_id
from chatgrid.store.tables import alert_channels, alert_deliveries
from chatgrid.store.types import mentioning
from chatgrid.vault import SealedSecret

#: How much of a receiver's answer is kept (the delivery log shows it).
RESPONSE_EXCERPT_CHARS = 500
#: Attempts kept in a delivery's log (re-sends add to it).
ATTEMPT_LOG_ENTRIES = 20


def _org_is(column: Any, org_id: str | None) -> Any:
    """``org_id = :org`` or, for the operator's rows, ``org_id IS NULL``."""
    return column.is_(None) if org_id is None else column == org_id


def _sealed(row: Mapping[Any, Any]) -> SealedSecret | None:
    if row["ciphertext"] is None:
        return None
    return SealedSecret(
        fingerprint="",
        last4="",
        wrapped_key=bytes(row["wrapped_key"]),
        master_key_version=int(row["master_key_version"]),
        nonce=bytes(row["nonce"]),
        ciphertext=bytes(row["ciphertext"]),
    )


def _channel(row: Mapping[Any, Any]) -> AlertChannel:
    return AlertChannel(
        id=row["id"],
        org_id=row["org_id"],
        kind=ChannelKind(row["kind"]),
        display=row["display"],
        email=row["email"],
        sealed=_sealed(row),
        created_at=row["created_at"],
        created_by=row["created_by"],
    )


_DELIVERY_COLUMNS = [
    *alert_deliveries.c,
    alert_channels.c.kind.label("channel_kind"),
    alert_channels.c.display.label("channel_display"),
]


def _delivery(row: Mapping[Any, Any]) -> AlertDelivery:
    return AlertDelivery(
        id=row["id"],
        channel_id=row["channel_id"],
        channel_kind=ChannelKind(row["channel_kind"]),
        channel_display=row["channel_display"],
        org_id=row["org_id"],
        event=AlertEvent.from_json(dict(row["payload"])),
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_status_code=row["last_status_code"],
        last_response=row["last_response"],
        attempt_log=list(row["attempt_log"] or []),
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
    )


class AlertRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # Channels

    def add_channel(
        self,
        channel_id: str,
        org_id: str | None,
        kind: ChannelKind,
        *,
        display: str,
        email: str | None,
        sealed: SealedSecret | None,
        created_by: str | None,
        now: datetime,
    ) -> AlertChannel:
        values: dict[str, Any] = {
            "id": channel_id,
            "org_id": org_id,
            "kind": kind.value,
            "email": email,
            "display": display,
            "wrapped_key": sealed.wrapped_key if sealed else None,
            "master_key_version": sealed.master_key_version if sealed else None,
            "nonce": sealed.nonce if sealed else None,
            "ciphertext": sealed.ciphertext if sealed else None,
            "created_at": now,
            "created_by": created_by,
            "removed_at": None,
        }
        with self.engine.begin() as conn:
            conn.execute(alert_channels.insert().values(**values))
        return _channel(values)

    def channels(self, org_id: str | None) -> list[AlertChannel]:
        """The org's (or, with None, the operator's) channels in use, oldest first."""
        query = (
            select(alert_channels)
            .where(_org_is(alert_channels.c.org_id, org_id), alert_channels.c.removed_at.is_(None))
            .order_by(alert_channels.c.created_at, alert_channels.c.id)
        )
        with self.engine.connect() as conn:
            return [_channel(r) for r in conn.execute(query).mappings()]

    def channel(self, org_id: str | None, channel_id: str) -> AlertChannel:
        query = select(alert_channels).where(
            _org_is(alert_channels.c.org_id, org_id),
            alert_channels.c.id == channel_id,
            alert_channels.c.removed_at.is_(None),
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFound("no such alert channel", code="alert_channel_not_found")
        return _channel(row)

    def remove_channel(self, org_id: str | None, channel_id: str, now: datetime) -> AlertChannel:
        """Stop using a channel: its sealed URL and secret are erased, its pending deliveries
        failed; the delivery log keeps what was sent."""
        channel = self.channel(org_id, channel_id)
        with self.engine.begin() as conn:
            conn.execute(
                update(alert_channels)
                .where(alert_channels.c.id == channel_id, alert_channels.c.removed_at.is_(None))
                .values(
                    removed_at=now,
                    wrapped_key=None,
                    master_key_version=None,
                    nonce=None,
                    ciphertext=None,
                )
            )
            conn.execute(
                update(alert_deliveries)
                .where(
                    alert_deliveries.c.channel_id == channel_id,
                    alert_deliveries.c.status == "pending",
                )
                .values(status="failed", last_response="the channel was removed")
            )
        return channel

    def sealed_channels(self) -> list[AlertChannel]:
        """Every channel holding a sealed URL (``vault rotate-master`` rewraps them)."""
        query = select(alert_channels).where(alert_channels.c.ciphertext.is_not(None))
        with self.engine.connect() as conn:
            return [_channel(r) for r in conn.execute(query).mappings()]

    def store_rewrapped(self, channel_id: str, sealed: SealedSecret) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(alert_channels)
                .where(alert_channels.c.id == channel_id)
                .values(
                    wrapped_key=sealed.wrapped_key, master_key_version=sealed.master_key_version
                )
            )

    def master_versions(self) -> set[int]:
        query = select(alert_channels.c.master_key_version).distinct()
        with self.engine.connect() as conn:
            return {int(v) for v in conn.execute(query).scalars() if v is not None}

    # The queue

    def enqueue(self, event: AlertEvent, now: datetime, conn: Connection | None = None) -> int:
        """One pending delivery per channel of the event's org; how many were new.

        A delivery already queued for the same channel and dedupe key is left as
        it is (another replica, or an earlier call, raised the same alert).
        """
        if conn is None:
            with self.engine.begin() as own:
                return self.enqueue(event, now, own)
        channel_ids = conn.execute(
            select(alert_channels.c.id).where(
                _org_is(alert_channels.c.org_id, event.org_id),
                alert_channels.c.removed_at.is_(None),
            )
        ).scalars()
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        created = 0
        for channel_id in list(channel_ids):
            statement = (
                dialect.insert(alert_deliveries)
                .values(
                    id=new_id("dlv"),
                    channel_id=channel_id,
                    org_id=event.org_id,
                    event_kind=event.kind,
                    dedupe_key=event.dedupe_key[:200],
                    payload=event.as_json(),
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    lease_owner=None,
                    lease_until=None,
                    last_status_code=None,
                    last_response=None,
                    attempt_log=[],
                    created_at=now,
                    delivered_at=None,
                )
                .on_conflict_do_nothing(index_elements=["channel_id", "dedupe_key"])
                .returning(alert_deliveries.c.id)
            )
            created += len(conn.execute(statement).all())
        return created

    def claim_due(
        self, owner: str, now: datetime, lease: timedelta, limit: int = 20
    ) -> list[ClaimedDelivery]:
        """Take up to ``limit`` due deliveries for ``owner`` until ``now + lease``.

        Each claim is a conditional UPDATE whose row count decides: of two
        workers reading the same due row, exactly one gets it.
        """
        free = or_(alert_deliveries.c.lease_until.is_(None), alert_deliveries.c.lease_until <= now)
        due = (
            select(alert_deliveries.c.id)
            .where(
                alert_deliveries.c.status == "pending",
                alert_deliveries.c.next_attempt_at <= now,
                free,
            )
            .order_by(alert_deliveries.c.next_attempt_at)
            .limit(limit)
        )
        claimed: list[str] = []
        with self.engine.begin() as conn:
            candidates = list(conn.execute(due).scalars())
        for delivery_id in candidates:
            with self.engine.begin() as conn:
                result = conn.execute(
                    update(alert_deliveries)
                    .where(
                        alert_deliveries.c.id == delivery_id,
                        alert_deliveries.c.status == "pending",
                        alert_deliveries.c.next_attempt_at <= now,
                        free,
                    )
                    .values(lease_owner=owner, lease_until=now + lease)
                )
            if result.rowcount == 1:
                claimed.append(delivery_id)
        if not claimed:
            return []
        query = (
            select(*_DELIVERY_COLUMNS, *[c.label(f"ch_{c.name}") for c in alert_channels.c])
            .join(alert_channels, alert_channels.c.id == alert_deliveries.c.channel_id)
            .where(alert_deliveries.c.id.in_(claimed))
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(query).mappings())
        return [
            ClaimedDelivery(
                delivery=_delivery(row),
                channel=_channel({c.name: row[f"ch_{c.name}"] for c in alert_channels.c}),
                lease_owner=owner,
            )
            for row in rows
        ]

    def record_attempt(
        self,
        claimed: ClaimedDelivery,
        now: datetime,
        *,
        status_code: int | None,
        response: str,
        delivered: bool,
        retry_at: datetime | None,
    ) -> None:
        """What one attempt got: delivered, due again at ``retry_at``, or failed for good.

        Written only while the lease is this worker's, so a worker that stalled
        past its lease cannot overwrite the one that took over.
        """
        delivery = claimed.delivery
        excerpt = response[:RESPONSE_EXCERPT_CHARS]
        entry = {"at": now.isoformat(), "status_code": status_code, "response": excerpt[:200]}
        log = [*delivery.attempt_log, entry][-ATTEMPT_LOG_ENTRIES:]
        status = "delivered" if delivered else ("pending" if retry_at is not None else "failed")
        with self.engine.begin() as conn:
            conn.execute(
                update(alert_deliveries)
                .where(
                    alert_deliveries.c.id == delivery.id,
                    alert_deliveries.c.lease_owner == claimed.lease_owner,
                    alert_deliveries.c.status == "pending",
                )
                .values(
                    status=status,
                    attempts=alert_deliveries.c.attempts + 1,
                    next_attempt_at=retry_at or now,
                    lease_owner=None,
                    lease_until=None,
                    last_status_code=status_code,
                    last_response=excerpt,
                    attempt_log=log,
                    delivered_at=now if delivered else None,
                )
            )

    # The delivery log

    def deliveries(self, org_id: str | None, limit: int = 100) -> list[AlertDelivery]:
        """The org's (or the operator's) deliveries, newest first."""
        query = (
            select(*_DELIVERY_COLUMNS)
            .join(alert_channels, alert_channels.c.id == alert_deliveries.c.channel_id)
            .where(_org_is(alert_deliveries.c.org_id, org_id))
            .order_by(alert_deliveries.c.created_at.desc(), alert_deliveries.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_delivery(r) for r in conn.execute(query).mappings()]

    def delivery(self, org_id: str | None, delivery_id: str) -> AlertDelivery:
        query = (
            select(*_DELIVERY_COLUMNS)
            .join(alert_channels, alert_channels.c.id == alert_deliveries.c.channel_id)
            .where(_org_is(alert_deliveries.c.org_id, org_id), alert_deliveries.c.id == delivery_id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFound("no such alert delivery", code="alert_delivery_not_found")
        return _delivery(row)

    def resend(self, org_id: str | None, delivery_id: str, now: datetime) -> AlertDelivery:
        """Queue a delivery again, due now, with a fresh set of attempts (its log is kept).

        Refused (NotFound) when its channel was removed since.
        """
        self.delivery(org_id, delivery_id)
        live_channel = select(alert_channels.c.id).where(alert_channels.c.removed_at.is_(None))
        with self.engine.begin() as conn:
            result = conn.execute(
                update(alert_deliveries)
                .where(
                    and_(
                        _org_is(alert_deliveries.c.org_id, org_id),
                        alert_deliveries.c.id == delivery_id,
                        alert_deliveries.c.channel_id.in_(live_channel),
                    )
                )
                .values(
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    lease_owner=None,
                    lease_until=None,
                    delivered_at=None,
                )
            )
        if result.rowcount != 1:
            raise NotFound(
                "this delivery's channel was removed; it cannot be sent again",
                code="alert_channel_not_found",
            )
        return self.delivery(org_id, delivery_id)


def erase_alert_mentions(conn: Connection, erasure: Erasure, at: datetime) -> None:
    """An erased member's own email channel stops; channels they added and deliveries that
    named them keep the alias instead (caller's transaction)."""
    a, d = alert_channels.c, alert_deliveries.c
    conn.execute(
        update(alert_channels)
        .where(a.org_id == erasure.org_id, a.email == erasure.email)
        .values(email=erasure.alias_email, display=erasure.alias_email, removed_at=at)
    )
    conn.execute(
        update(alert_channels)
        .where(a.org_id == erasure.org_id, a.created_by == erasure.email)
        .values(created_by=erasure.alias_email)
    )
    named = select(d.id, d.payload, d.last_response, d.attempt_log).where(
        d.org_id == erasure.org_id, mentioning(erasure, d.payload, d.last_response, d.attempt_log)
    )
    for row in conn.execute(named).mappings().all():
        scrubbed = {k: erasure.scrub(v) for k, v in row.items() if k != "id"}
        conn.execute(update(alert_deliveries).where(d.id == row["id"]).values(**scrubbed))
