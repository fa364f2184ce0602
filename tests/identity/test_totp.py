"""TOTP rules (RFC 6238) at fixed instants: drift, replay, what counts as a code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from chatgrid.identity import totp

# RFC 6238's own test seed ("12345678901234567890" in base32) and one of its instants.
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
NOW = datetime(2026, 11, 26, 12, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=totp.STEP_SECONDS)


def code(at: datetime, secret: str = RFC_SECRET) -> str:
    return totp.code_at_step(secret, totp.time_step(at))


def test_the_codes_are_rfc_6238s() -> None:
    # RFC 6238, appendix B (SHA-1): 59 s → 94287082, 1111111109 s → 07081804 (8 digits);
    # six digits are the last six.
    assert totp.code_at_step(RFC_SECRET, 59 // 30) == "287082"
    assert totp.code_at_step(RFC_SECRET, 1111111109 // 30) == "081804"


def test_the_current_code_is_accepted_at_its_step() -> None:
    assert totp.accepted_step(RFC_SECRET, code(NOW), NOW, None) == totp.time_step(NOW)


def test_one_step_of_drift_either_way_is_accepted() -> None:
    step = totp.time_step(NOW)
    assert totp.accepted_step(RFC_SECRET, code(NOW - STEP), NOW, None) == step - 1
    assert totp.accepted_step(RFC_SECRET, code(NOW + STEP), NOW, None) == step + 1


def test_two_steps_away_is_refused() -> None:
    assert totp.accepted_step(RFC_SECRET, code(NOW - 2 * STEP), NOW, None) is None
    assert totp.accepted_step(RFC_SECRET, code(NOW + 2 * STEP), NOW, None) is None


def test_a_code_is_accepted_once() -> None:
    step = totp.accepted_step(RFC_SECRET, code(NOW), NOW, None)
    assert step is not None
    assert totp.accepted_step(RFC_SECRET, code(NOW), NOW, step) is None
    # ...and an older one that is still inside the drift window is a replay too.
    assert totp.accepted_step(RFC_SECRET, code(NOW - STEP), NOW, step) is None
    # The next step's code is fresh.
    assert totp.accepted_step(RFC_SECRET, code(NOW + STEP), NOW + STEP, step) == step + 1


def test_a_code_of_another_seed_is_refused() -> None:
    other = totp.new_secret()
    assert totp.accepted_step(RFC_SECRET, code(NOW, other), NOW, None) is None


@pytest.mark.parametrize(
    "typed", ["", "12345", "1234567", "12a456", "１２３４５６", "123 45", "-------", "١٢٣٤٥٦"]
)
def test_what_is_not_six_ascii_digits_is_not_a_code(typed: str) -> None:
    assert totp.normalized_code(typed) is None
    assert totp.accepted_step(RFC_SECRET, typed, NOW, None) is None


def test_spaces_and_hyphens_typed_in_a_code_are_ignored() -> None:
    current = code(NOW)
    assert totp.normalized_code(f" {current[:3]} {current[3:]} ") == current
    assert totp.accepted_step(RFC_SECRET, f"{current[:3]}-{current[3:]}", NOW, None) is not None


def test_seeds_are_fresh_160_bit_base32() -> None:
    seeds = {totp.new_secret() for _ in range(50)}
    assert len(seeds) == 50
    for seed in seeds:
        assert len(seed) == 32 and set(seed) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def test_the_uri_is_what_authenticator_apps_read() -> None:
    uri = totp.provisioning_uri(RFC_SECRET, "ada@example.com")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert parsed.path == "/ChatGrid:ada%40example.com"
    query = parse_qs(parsed.query)
    assert query["secret"] == [RFC_SECRET] and query["issuer"] == ["ChatGrid"]


def test_the_seed_is_shown_in_groups_of_four() -> None:
    assert totp.grouped("ABCDEFGHIJ") == "ABCD EFGH IJ"
