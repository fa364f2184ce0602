"""The rules of mailed links and of how often they are mailed, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chatgrid.errors import RateLimited
from chatgrid.identity.link_requests import LinkRequestThrottle
from chatgrid.identity.links import (
    LIFETIME,
    AccountLink,
    LinkPurpose,
    LinkUnusable,
    check_usable,
    hash_link_token,
    link_url,
    mail_ready,
    new_link_token,
    token_hash_of,
)
from chatgrid.identity.throttle import MemoryCounter
from chatgrid.settings import Settings

MADE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def link(purpose: LinkPurpose, *, used: bool = False) -> AccountLink:
    return AccountLink(
        id="lnk_1",
        user_id="usr_1",
        purpose=purpose,
        created_at=MADE,
        expires_at=MADE + LIFETIME[purpose],
        used_at=MADE + timedelta(minutes=5) if used else None,
    )


def test_a_token_names_its_purpose_and_only_its_hash_is_kept() -> None:
    verify, reset = (
        new_link_token(LinkPurpose.VERIFY_EMAIL),
        new_link_token(LinkPurpose.RESET_PASSWORD),
    )
    assert verify.startswith("cgv_") and reset.startswith("cgr_")
    assert len(verify) > 40 and verify != new_link_token(LinkPurpose.VERIFY_EMAIL)
    stored = token_hash_of(reset, LinkPurpose.RESET_PASSWORD)
    assert stored == hash_link_token(reset) and len(stored) == 64 and reset[4:] not in stored


@pytest.mark.parametrize(
    "token",
    ["", "cgv_x" * 50, "cgi_invitation", "cgv_" + "a" * 300, "../../etc"],
)
def test_a_token_of_no_reset_link_is_refused_before_any_lookup(token: str) -> None:
    with pytest.raises(LinkUnusable):
        token_hash_of(token, LinkPurpose.RESET_PASSWORD)


def test_a_link_works_once_for_its_purpose_until_it_expires() -> None:
    reset = link(LinkPurpose.RESET_PASSWORD)
    assert check_usable(reset, LinkPurpose.RESET_PASSWORD, MADE + timedelta(minutes=59)) is reset
    refusals = [
        (None, LinkPurpose.RESET_PASSWORD, MADE),
        (reset, LinkPurpose.RESET_PASSWORD, MADE + timedelta(hours=1)),  # expired to the second
        (link(LinkPurpose.RESET_PASSWORD, used=True), LinkPurpose.RESET_PASSWORD, MADE),
        (reset, LinkPurpose.VERIFY_EMAIL, MADE),  # a reset link does not confirm an address
        (link(LinkPurpose.VERIFY_EMAIL), LinkPurpose.RESET_PASSWORD, MADE),
    ]
    messages = set()
    for found, purpose, now in refusals:
        with pytest.raises(LinkUnusable) as refused:
            check_usable(found, purpose, now)
        assert refused.value.status == 410 and refused.value.code == "link_unusable"
        messages.add(refused.value.message)
    assert len(messages) == 1  # one answer whatever the reason


def test_a_day_to_confirm_an_address_an_hour_to_reset_a_password() -> None:
    assert LIFETIME[LinkPurpose.VERIFY_EMAIL] == timedelta(hours=24)
    assert LIFETIME[LinkPurpose.RESET_PASSWORD] == timedelta(hours=1)
    verify = link(LinkPurpose.VERIFY_EMAIL)
    assert check_usable(verify, LinkPurpose.VERIFY_EMAIL, MADE + timedelta(hours=23))


def test_links_are_mailed_only_with_smtp_and_the_public_url(tmp_path: Path) -> None:
    base = Settings(data_dir=tmp_path)
    assert not mail_ready(base)
    assert not mail_ready(base.model_copy(update={"smtp_host": "127.0.0.1"}))
    assert not mail_ready(base.model_copy(update={"public_url": "https://chat.example.com"}))
    ready = base.model_copy(
        update={"smtp_host": "127.0.0.1", "public_url": "https://chat.example.com/"}
    )
    assert mail_ready(ready)
    assert (
        link_url("https://chat.example.com/", LinkPurpose.RESET_PASSWORD, "cgr_abc")
        == "https://chat.example.com/password/reset/cgr_abc"
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_gets_three_mails_a_window_and_the_asker_is_not_told() -> None:
    clock = Clock()
    throttle = LinkRequestThrottle(MemoryCounter(900, clock))
    sent = [throttle.admit("victim@example.com", f"198.51.100.{n}") for n in range(5)]
    assert sent == [True, True, True, False, False]
    assert throttle.admit("someone-else@example.com", "198.51.100.9")
    clock.now += 901
    assert throttle.admit("victim@example.com", "198.51.100.1")


def test_a_client_asking_too_often_is_refused_and_told_when_to_come_back() -> None:
    clock = Clock()
    throttle = LinkRequestThrottle(MemoryCounter(900, clock))
    for n in range(10):
        throttle.admit(f"person{n}@example.com", "203.0.113.5")
    clock.now += 300
    with pytest.raises(RateLimited) as refused:
        throttle.admit("another@example.com", "203.0.113.5")
    assert refused.value.status == 429 and refused.value.retry_after == 600
    assert refused.value.code == "link_requests_throttled"
    assert throttle.admit("another@example.com", "203.0.113.6")  # other clients still may
