"""The errors the simulator answers with, in the exact shapes OpenAI and Azure use.

A gateway is judged on how faithfully it passes upstream failures on, so the
messages, ``type`` and ``code`` values below are copied from what the real
services send. Every body carries all four fields the OpenAPI ``Error`` schema
requires (``message``, ``type``, ``param``, ``code``), Azure ones included, so
one schema check covers both shapes::

    ApiError (raised by handlers, rendered once by the dispatcher)
    ├── 400  invalid_request(...)       bad JSON, missing or ill-typed field
    ├── 401  incorrect_api_key / missing_api_key / azure_access_denied
    ├── 404  model_not_found / unknown_url / deployment_not_found / azure_resource_not_found
    ├── 405  method_not_allowed
    ├── 413  body_too_large
    ├── 429  rate_limited               with Retry-After
    └── 5xx  server_error / overloaded
"""

from __future__ import annotations

import orjson

Headers = list[tuple[bytes, bytes]]

API_KEYS_URL = "https://platform.openai.com/account/api-keys"


class ApiError(Exception):
    """An error response; raised anywhere on the request path, rendered by ``app``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.param = param
        self.code = code
        self.headers: Headers = headers or []

    def body(self) -> bytes:
        return orjson.dumps(
            {
                "error": {
                    "message": self.message,
                    "type": self.error_type,
                    "param": self.param,
                    "code": self.code,
                }
            }
        )


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def missing_parameter(param: str) -> ApiError:
    return invalid_request(
        f"Missing required parameter: '{param}'.", param, "missing_required_parameter"
    )


def invalid_type(param: str, expected: str, value: object) -> ApiError:
    return invalid_request(
        f"Invalid type for '{param}': expected {expected}, but got {json_type(value)} instead.",
        param,
        "invalid_type",
    )


def invalid_value(param: str, value: object, supported: tuple[str, ...]) -> ApiError:
    choices = ", ".join(f"'{s}'" for s in supported[:-1]) + f", and '{supported[-1]}'"
    return invalid_request(
        f"Invalid value: '{value}'. Supported values are: {choices}.", param, "invalid_value"
    )


def below_minimum(param: str, minimum: int, value: int) -> ApiError:
    return invalid_request(
        f"Invalid '{param}': integer below minimum value. "
        f"Expected a value >= {minimum}, but got {value} instead.",
        param,
        "integer_below_min_value",
    )


def above_maximum(param: str, maximum: int, value: int) -> ApiError:
    return invalid_request(
        f"Invalid '{param}': integer above maximum value. "
        f"Expected a value <= {maximum}, but got {value} instead.",
        param,
        "integer_above_max_value",
    )


def json_type(value: object) -> str:
    """The article-and-noun OpenAI uses in its type errors ("a string", "an array")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def unparsable_json() -> ApiError:
    return invalid_request(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
        "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
        "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
        "contact us through our help center at help.openai.com.)"
    )


def mask_key(key: str) -> str:
    """Show a key the way OpenAI does in its 401: a short prefix and the last four."""
    if len(key) < 12:
        return key[:2] + "***"
    return f"{key[:5]}***{key[-4:]}"


def incorrect_api_key(key: str) -> ApiError:
    return ApiError(
        401,
        f"Incorrect API key provided: {mask_key(key)}. "
        f"You can find your API key at {API_KEYS_URL}.",
        code="invalid_api_key",
    )


def missing_api_key() -> ApiError:
    return ApiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field "
        "(with blank username) if you're accessing the API from your browser and are prompted "
        f"for a username. You can obtain an API key from {API_KEYS_URL}.",
        code="invalid_api_key",
    )


def azure_access_denied() -> ApiError:
    return ApiError(
        401,
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
        "provide a valid key for an active subscription and use a correct regional API "
        "endpoint for your resource.",
        code="401",
    )


def insufficient_permissions() -> ApiError:
    """What OpenAI answers a restricted key whose project may not call this endpoint."""
    return ApiError(
        403,
        "You have insufficient permissions for this operation. Missing scopes: model.request. "
        "Check that you have the correct role in your organization (Reader, Writer, Owner) "
        "and project (Member, Owner), and if you're using a restricted API key, that it has "
        "the necessary scopes.",
    )


def model_not_found(model: str) -> ApiError:
    return ApiError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


def unknown_url(method: str, path: str) -> ApiError:
    return ApiError(404, f"Invalid URL ({method} {path})")


def method_not_allowed(method: str, path: str, allowed: str) -> ApiError:
    return ApiError(
        405,
        f"Invalid method for URL ({method} {path})",
        headers=[(b"allow", allowed.encode())],
    )


def body_too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"Request body too large. The maximum request body size is {limit} bytes.",
        code="request_too_large",
    )


def rate_limited(model: str, seconds: int) -> ApiError:
    return ApiError(
        429,
        f"Rate limit reached for {model} in organization org-simulator on requests per min "
        f"(RPM): Limit 500, Used 500, Requested 1. Please try again in {seconds}s. "
        "Visit https://platform.openai.com/account/rate-limits to learn more.",
        error_type="requests",
        code="rate_limit_exceeded",
        headers=[
            (b"retry-after", str(seconds).encode()),
            (b"x-ratelimit-limit-requests", b"500"),
            (b"x-ratelimit-remaining-requests", b"0"),
            (b"x-ratelimit-reset-requests", f"{seconds}s".encode()),
        ],
    )


def server_error() -> ApiError:
    return ApiError(
        500,
        "The server had an error while processing your request. Sorry about that!",
        error_type="server_error",
    )


def overloaded() -> ApiError:
    return ApiError(
        503,
        "The engine is currently overloaded, please try again later.",
        error_type="server_error",
    )


def deployment_not_found() -> ApiError:
    return ApiError(
        404,
        "The API deployment for this resource does not exist. If you created the deployment "
        "within the last 5 minutes, please wait a moment and try again.",
        code="DeploymentNotFound",
    )


def azure_resource_not_found() -> ApiError:
    """Azure's answer to a path it serves nothing on (its ``code`` is the status)."""
    return ApiError(404, "Resource not found", code="404")


def v1_api_version_not_supported() -> ApiError:
    return ApiError(400, "API version not supported", code="BadRequest")


def missing_api_version() -> ApiError:
    return ApiError(
        400,
        "The api-version query parameter (?api-version=) is required for all requests.",
        param="api-version",
        code="MissingApiVersionParameter",
    )


def operation_not_supported(operation: str, model: str) -> ApiError:
    return ApiError(
        400,
        f"The {operation} operation does not work with the specified model, {model}. "
        "Please choose different model and try again. You can learn more about which models "
        "can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.",
        code="OperationNotSupported",
    )
