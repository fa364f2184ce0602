"""SAML's replay store: an assertion id is accepted once, even by racing replicas."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from chatgrid.admin import people
from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode
from chatgrid.store.saml_replay import SamlReplayStore, assertion_hash
from chatgrid.store.tables import saml_assertions_seen

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ISSUER = "https://idp.test/saml"


def test_an_assertion_id_is_accepted_once_by_racing_replicas(context: AppContext) -> None:
    org = people.create_org(context, "saml-replay", BillingMode.BYOK)
    # Two stores on one database stand for two replicas.
    replicas = [SamlReplayStore(context.engine), SamlReplayStore(context.engine)]
    until = NOW + timedelta(minutes=5)

    def accept(i: int) -> bool:
        return replicas[i % 2].accept_once(org.id, ISSUER, "_a1", until, NOW)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(accept, range(8)))
    assert sorted(results) == [False] * 7 + [True]
    # The same id from another issuer is another assertion.
    assert replicas[0].accept_once(org.id, "https://other.test", "_a1", until, NOW)
    # Later, still refused while the assertion could be valid.
    assert not replicas[1].accept_once(org.id, ISSUER, "_a1", until, until - timedelta(seconds=1))


def test_expired_ids_are_swept_and_ids_are_kept_hashed(context: AppContext) -> None:
    org = people.create_org(context, "saml-sweep", BillingMode.BYOK)
    store = SamlReplayStore(context.engine)
    assert store.accept_once(org.id, ISSUER, "_old", NOW + timedelta(minutes=5), NOW)
    later = NOW + timedelta(hours=1)
    assert store.accept_once(org.id, ISSUER, "_new", later + timedelta(minutes=5), later)
    with context.engine.connect() as conn:
        kept = conn.execute(select(saml_assertions_seen.c.assertion_hash)).scalars().all()
        count = conn.execute(select(func.count()).select_from(saml_assertions_seen)).scalar()
    assert kept == [assertion_hash(ISSUER, "_new")]
    assert count == 1
    assert all("_new" not in h for h in kept)
