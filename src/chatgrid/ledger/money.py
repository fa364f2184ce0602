"""Money is integer micro-dollars; the one rounding rule lives here.

Rule: a cost is first computed exactly as a rational number of micro-dollars
(integer numerator over a power-of-ten denominator), then rounded once, half
up, to a whole micro-dollar. A marked-up charge is computed from that same
exact numerator, never from an already rounded cost, so rounding never
compounds.
"""

from __future__ import annotations

MICROS_PER_DOLLAR = 1_000_000
BPS_DENOMINATOR = 10_000


def round_half_up(numerator: int, denominator: int) -> int:
    """Nearest integer to numerator/denominator, halves away from zero (inputs ≥ 0)."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("money arithmetic takes non-negative amounts")
    return (2 * numerator + denominator) // (2 * denominator)


def apply_markup(exact_numerator: int, denominator: int, markup_bps: int) -> int:
    """Round ``numerator/denominator × (1 + markup)`` once, half up."""
    return round_half_up(
        exact_numerator * (BPS_DENOMINATOR + markup_bps), denominator * BPS_DENOMINATOR
    )


def format_dollars(micros: int) -> str:
    """``1234567`` → ``"1.234567"``; for display and exports, never for arithmetic."""
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), MICROS_PER_DOLLAR)
    return f"{sign}{whole}.{frac:06d}"
