"""Validators for single request parameters, in OpenAI's words.

Shared by the chat and embeddings validation so that every type or range
error reads the same way OpenAI's does and names the parameter in ``param``.
"""

from __future__ import annotations

from typing import NoReturn

from chatgrid.simulator import errors


def require(holder: dict[str, object], key: str, where: str, expected: str) -> NoReturn:
    value = holder.get(key)
    if value is None:
        raise errors.missing_parameter(where)
    raise errors.invalid_type(where, expected, value)


def empty_array(param: str) -> errors.ApiError:
    return errors.invalid_request(
        f"Invalid '{param}': empty array. Expected an array with minimum length 1, "
        "but got an empty array instead.",
        param,
        "empty_array",
    )


def integer(body: dict[str, object], name: str, low: int, high: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise errors.invalid_type(name, "an integer", value)
    if value < low:
        raise errors.below_minimum(name, low, value)
    if high is not None and value > high:
        raise errors.above_maximum(name, high, value)
    return value


def number(body: dict[str, object], name: str, high: int) -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise errors.invalid_type(name, "a number", value)
    if value < 0:
        raise errors.invalid_request(
            f"Invalid '{name}': decimal below minimum value. "
            f"Expected a value >= 0, but got {value} instead.",
            name,
            "decimal_below_min_value",
        )
    if value > high:
        raise errors.invalid_request(
            f"Invalid '{name}': decimal above maximum value. "
            f"Expected a value <= {high}, but got {value} instead.",
            name,
            "decimal_above_max_value",
        )


def boolean(body: dict[str, object], name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise errors.invalid_type(name, "a boolean", value)
    return value
