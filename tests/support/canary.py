"""The canary search: secrets used in a scenario, looked for everywhere they must not be."""

from __future__ import annotations


def assert_found_nowhere(
    haystacks: dict[str, bytes],
    needles: dict[str, bytes],
    *,
    may_be_empty: frozenset[str] = frozenset(),
) -> None:
    """Each needle (a secret, or enough of one to recognise it) in no haystack.

    A haystack that is empty was not collected, which would pass for the wrong
    reason; name it in ``may_be_empty`` if nothing there is a real outcome.
    """
    for where, haystack in haystacks.items():
        assert haystack or where in may_be_empty, f"nothing collected from {where}"
        for what, needle in needles.items():
            assert needle, f"an empty needle for {what}"
            assert needle not in haystack, f"the {what} leaked into the {where}"
