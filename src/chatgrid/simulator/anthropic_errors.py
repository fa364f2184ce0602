"""The errors of the simulated Anthropic API, in Anthropic's shape and status codes.

Anthropic's body is ``{"type": "error", "error": {"type", "message"},
"request_id"}``; the SDK picks its exception class from the status code, so
each status below is the one Anthropic uses for that ``error.type``::

    AnthropicError (raised by the Anthropic handlers, rendered by ``anthropic``)
    ├── 400  invalid_request_error   bad JSON, header, field or block
    ├── 401  authentication_error    missing, malformed or revoked key
    ├── 403  permission_error        (``[sim:403]``)
    ├── 404  not_found_error         unknown path or model
    ├── 405  invalid_request_error   wrong method
    ├── 413  request_too_large       body over 8 MiB
    ├── 429  rate_limit_error        with Retry-After
    ├── 500  api_error
    └── 529  overloaded_error        (``[sim:503]``: Anthropic's overload is 529)
"""

from __future__ import annotations

from typing import Final

import orjson

from chatgrid.simulator import errors

Headers = list[tuple[bytes, bytes]]

RATE_LIMIT_REQUESTS: Final = 50


class AnthropicError(Exception):
    def __init__(
        self, status: int, error_type: str, message: str, headers: Headers | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.headers: Headers = headers or []

    def body(self, request_id: str) -> bytes:
        return orjson.dumps(
            {
                "type": "error",
                "error": {"type": self.error_type, "message": self.message},
                "request_id": request_id,
            }
        )


def invalid_request(message: str) -> AnthropicError:
    return AnthropicError(400, "invalid_request_error", message)


def field_required(where: str) -> AnthropicError:
    return invalid_request(f"{where}: Field required")


def extra_field(where: str) -> AnthropicError:
    return invalid_request(f"{where}: Extra inputs are not permitted")


def wrong_type(where: str, expected: str) -> AnthropicError:
    """Pydantic's wording, which Anthropic's validation errors use (``a valid list``)."""
    return invalid_request(f"{where}: Input should be {expected}")


def missing_key() -> AnthropicError:
    return AnthropicError(401, "authentication_error", "x-api-key header is required")


def invalid_key() -> AnthropicError:
    return AnthropicError(401, "authentication_error", "invalid x-api-key")


def missing_version() -> AnthropicError:
    return invalid_request("anthropic-version: header is required")


def invalid_version(version: str) -> AnthropicError:
    return invalid_request(f'anthropic-version: "{version}" is not a valid version')


def unknown_betas(names: list[str]) -> AnthropicError:
    listed = ", ".join(f"`{name}`" for name in names)
    return invalid_request(
        f"Unexpected value(s) {listed} for the `anthropic-beta` header. Please consult our "
        "documentation at docs.anthropic.com or try again without the header."
    )


def permission_denied() -> AnthropicError:
    return AnthropicError(
        403,
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    )


def not_found(message: str = "Not Found") -> AnthropicError:
    return AnthropicError(404, "not_found_error", message)


def model_not_found(model: str) -> AnthropicError:
    return not_found(f"model: {model}")


def method_not_allowed(method: str, allowed: str) -> AnthropicError:
    return AnthropicError(
        405,
        "invalid_request_error",
        f"Method {method} is not allowed; use {allowed}.",
        [(b"allow", allowed.encode())],
    )


def request_too_large() -> AnthropicError:
    return AnthropicError(
        413, "request_too_large", "Request exceeds the maximum allowed number of bytes."
    )


def rate_limited(seconds: int) -> AnthropicError:
    return AnthropicError(
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your organization "
        f"(org-simulator) of {RATE_LIMIT_REQUESTS} requests per minute. For details, refer "
        "to: https://docs.claude.com/en/api/rate-limits. You can see the response headers "
        "for current usage. Please reduce the prompt length or the maximum tokens requested, "
        "or try again later.",
        [
            (b"retry-after", str(seconds).encode()),
            (b"anthropic-ratelimit-requests-limit", str(RATE_LIMIT_REQUESTS).encode()),
            (b"anthropic-ratelimit-requests-remaining", b"0"),
        ],
    )


def api_error() -> AnthropicError:
    return AnthropicError(500, "api_error", "Internal server error")


def overloaded() -> AnthropicError:
    return AnthropicError(529, "overloaded_error", "Overloaded")


def fault_error(status: int, retry_after: int) -> AnthropicError:
    """The Anthropic answer to a directive or scheduled fault (see ``faults``)."""
    if status == 429:
        return rate_limited(retry_after)
    if status == 500:
        return api_error()
    if status == 503:
        return overloaded()
    if status == 403:
        return permission_denied()
    return invalid_key()


def from_api_error(error: errors.ApiError) -> AnthropicError:
    """Shared plumbing (``wire.read_body``) raises OpenAI's errors; say them Anthropic's way."""
    if error.status == 413:
        return request_too_large()
    return AnthropicError(error.status, "invalid_request_error", error.message)
