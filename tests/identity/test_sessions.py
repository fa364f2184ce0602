"""Session expiry and CSRF token rules, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chatgrid.identity.sessions import (
    SessionPolicy,
    SessionRecord,
    csrf_matches,
    hash_session_id,
    needs_touch,
    new_csrf_token,
    new_session_id,
    session_expired,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
POLICY = SessionPolicy.from_minutes(idle_minutes=30, max_hours=8)


def record(created: datetime, last_seen: datetime) -> SessionRecord:
    return SessionRecord(
        id_hash="h",
        user_id="usr_1",
        org_id=None,
        csrf_token="t",
        created_at=created,
        last_seen_at=last_seen,
        expires_at=POLICY.expires_at(created),
        client_addr=None,
        user_agent=None,
    )


def test_a_fresh_session_is_live() -> None:
    assert not session_expired(record(NOW, NOW), POLICY, NOW + timedelta(minutes=29))


def test_a_session_idle_too_long_ends() -> None:
    session = record(NOW, NOW)
    assert session_expired(session, POLICY, NOW + timedelta(minutes=30))


def test_activity_keeps_a_session_alive_until_its_absolute_lifetime() -> None:
    busy = record(NOW, NOW + timedelta(hours=7, minutes=59))
    assert not session_expired(busy, POLICY, NOW + timedelta(hours=7, minutes=59, seconds=30))
    assert session_expired(busy, POLICY, NOW + timedelta(hours=8))


def test_last_seen_is_written_at_most_once_a_minute() -> None:
    session = record(NOW, NOW)
    assert not needs_touch(session, POLICY, NOW + timedelta(seconds=59))
    assert needs_touch(session, POLICY, NOW + timedelta(seconds=60))


def test_session_ids_are_random_and_stored_only_as_sha256() -> None:
    ids = {new_session_id() for _ in range(100)}
    assert len(ids) == 100 and all(len(i) >= 43 for i in ids)
    some = next(iter(ids))
    assert hash_session_id(some) == hash_session_id(some)
    assert len(hash_session_id(some)) == 64 and some not in hash_session_id(some)


def test_csrf_tokens_match_only_exactly() -> None:
    token = new_csrf_token()
    assert csrf_matches(token, token)
    assert not csrf_matches(token, token[:-1])
    assert not csrf_matches(token, token + "x")
    assert not csrf_matches(token, None)
    assert not csrf_matches(token, "")
    assert not csrf_matches(None, token)
    assert not csrf_matches("", "")
    assert not csrf_matches(token, "\udcff" + token)  # odd input never raises
