"""The web layer's own refusals, raised by ``deps`` and answered by ``errors``.

They live apart from both so that the dependencies that raise them and the
handlers that render them (through the page layout, which needs the
dependencies) do not import each other.
"""

from __future__ import annotations

from chatgrid.errors import AuthenticationFailed, PermissionDenied


class SignInRequired(AuthenticationFailed):
    default_code = "signin_required"

    def __init__(self) -> None:
        super().__init__("sign in to continue")


class CsrfRefused(PermissionDenied):
    default_code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            "the form or request is missing a valid CSRF token; reload the page and try again"
        )
