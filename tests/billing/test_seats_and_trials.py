"""Seat proration and trial standing: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatgrid.billing.seats import Month, SeatPeriod, prorated_micros, seat_days
from chatgrid.billing.trials import TrialState, trial_state
from chatgrid.errors import InvalidRequest

NOV = Month(2026, 11)


def at(day: int, hour: int = 12, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def test_a_member_all_month_holds_every_day() -> None:
    periods = [SeatPeriod("m1", at(1, 0, month=10), None)]
    assert seat_days(periods, NOV) == {"m1": 30}
    assert prorated_micros(5_000_000, seat_days(periods, NOV), NOV) == 5_000_000


def test_a_member_who_joins_mid_month_pays_from_that_day() -> None:
    periods = [SeatPeriod("m1", at(16), None)]
    assert seat_days(periods, NOV) == {"m1": 15}
    assert prorated_micros(5_000_000, {"m1": 15}, NOV) == 2_500_000


def test_leaving_and_coming_back_the_same_day_counts_that_day_once() -> None:
    periods = [
        SeatPeriod("m1", at(1, 0), at(10, 9)),
        SeatPeriod("m1", at(10, 15), at(11, 0)),
        SeatPeriod("m2", at(29), at(1, 0, month=12)),
    ]
    assert seat_days(periods, NOV) == {"m1": 10, "m2": 2}


def test_periods_outside_the_month_hold_no_seat() -> None:
    periods = [
        SeatPeriod("m1", at(1, month=10), at(31, month=10)),
        SeatPeriod("m2", at(1, 0, 12), None),
    ]
    assert seat_days(periods, NOV) == {}


def test_trial_days_are_not_billed() -> None:
    periods = [SeatPeriod("m1", at(1, 0), None)]
    assert seat_days(periods, NOV, billable_from=at(21, 0)) == {"m1": 10}


def test_the_seat_charge_is_rounded_once_per_org() -> None:
    # $1 a seat, 31-day month: each single day is 32258.06…, rounding each would lose money.
    month = Month(2026, 12)
    days = {f"m{i}": 1 for i in range(31)}
    assert prorated_micros(1_000_000, days, month) == 1_000_000
    assert sum(prorated_micros(1_000_000, {m: d}, month) for m, d in days.items()) == 999_998


@given(
    price=st.integers(0, 10**9),
    days=st.dictionaries(st.text(min_size=1, max_size=3), st.integers(1, 31), max_size=20),
)
def test_proration_is_exact_then_rounded_half_up(price: int, days: dict[str, int]) -> None:
    month = Month(2026, 1)
    exact = Fraction(price * sum(days.values()), 31)
    got = prorated_micros(price, days, month)
    assert abs(Fraction(got) - exact) <= Fraction(1, 2)
    assert Fraction(got) - exact != Fraction(-1, 2)  # halves go up


def test_periods_are_parsed_strictly() -> None:
    assert str(Month.parse("2026-02")) == "2026-02"
    assert Month.parse("2028-02").days == 29
    for bad in ("2026-13", "2026-2", "26-02", "x"):
        with pytest.raises(InvalidRequest):
            Month.parse(bad)


def test_trial_standing() -> None:
    now = at(10)
    on = trial_state(now + timedelta(days=2, hours=1), None, now)
    assert (on.state, on.days_left, on.read_only) == (TrialState.ON_TRIAL, 3, False)
    assert "3 days left" in on.message
    ended = trial_state(now - timedelta(seconds=1), None, now)
    assert ended.state is TrialState.TRIAL_ENDED and ended.read_only
    assert "choose a plan" in ended.message
    assert trial_state(now, None, now).state is TrialState.TRIAL_ENDED
    assert trial_state(now - timedelta(days=1), "plan_x", now).state is TrialState.ON_PLAN
    # Orgs made by the CLI never had a trial: they are on the default plan.
    assert trial_state(None, None, now).state is TrialState.ON_PLAN


hours = st.integers(-40 * 24, 70 * 24)  # from Nov 1, in hours: before, inside and after


@given(
    spans=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), hours, st.none() | st.integers(1, 60 * 24)),
        max_size=8,
    )
)
def test_seat_days_match_a_day_by_day_count(spans: list[tuple[str, int, int | None]]) -> None:
    periods = [
        SeatPeriod(
            member,
            NOV.start + timedelta(hours=start),
            None if length is None else NOV.start + timedelta(hours=start + length),
        )
        for member, start, length in spans
    ]
    expected: dict[str, int] = {}
    for member in sorted({p.member_id for p in periods}):
        held = 0
        for day in range(NOV.days):
            begin = NOV.start + timedelta(days=day)
            end = begin + timedelta(days=1)
            if any(
                p.member_id == member
                and p.started_at < end
                and (p.ended_at is None or p.ended_at > begin)
                for p in periods
            ):
                held += 1
        if held:
            expected[member] = held
    assert seat_days(periods, NOV) == expected
