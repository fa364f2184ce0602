"""ChatGrid's error types and their OpenAI-shaped JSON.

Every failure a caller can see is one of these, so ``/v1`` answers in the
shape OpenAI's SDKs already understand and the CLI prints the same message::

    ChatGridError
    ├── InvalidRequest          400  bad JSON, missing or ill-typed fields
    │   ├── RequestTooLarge     413  body over the configured limit
    │   ├── KeyNotAccepted      400  a key the upstream would not validate (admin.credentials)
    │   ├── WeakPassword        400  a password the policy refuses (identity.passwords)
    │   ├── SsoSetupRefused     400  an identity provider whose discovery fails (identity.sso)
    │   ├── DomainNotProven     400  the TXT record is missing or not the org's (identity.domains)
    │   └── ExtractionFailed    400  a document that cannot be read (documents.extract_model)
    ├── AuthenticationFailed    401  missing, unknown, revoked or expired token
    │   ├── SignInFailed        401  wrong email or password, one message for both (admin.signin)
    │   ├── SecondStepFailed    401  a wrong, replayed or late sign-in code (admin.second_step)
    │   └── SignInRequired      401  a console page or /api call without a session (web.refusals)
    ├── PermissionDenied        403  the caller may not do this
    │   ├── ModelNotAllowed     403  the org does not allow this model
    │   ├── OrgSuspended        403  the org cannot make calls right now
    │   ├── TrialEnded          403  the trial is over and no plan was chosen
    │   ├── PaymentOverdue      403  a card payment failed and its grace period is over
    │   ├── CsrfRefused         403  a change without its CSRF token (web.refusals)
    │   ├── EmailNotVerified    403  the right password, the address not confirmed (identity.links)
    │   ├── SecondFactorRequired 403 the org requires two-step sign-in first (admin.second_factor)
    │   ├── SsoRequired         403  password sign-in for an SSO-enforced domain (identity.sso)
    │   ├── SsoSignInRefused    403  a single sign-on refused, the reason in words (identity.sso)
    │   └── CredentialUnusable  403  BYOK org without a working key
    │       └── UpstreamKeyRejected   the upstream answered 401 to the org's key
    ├── NotFound                404  unknown object or route
    ├── Conflict                409  a unique name or state clash
    │   └── PasswordAccount     409  the address has a password: invite it (store.accounts)
    ├── InvitationUnusable      410  an invitation used, revoked or expired (identity.invitations)
    ├── LinkUnusable            410  a mailed confirm/reset link used or expired (identity.links)
    ├── RateLimited             429  a limit, ours or the upstream's (Retry-After kept)
    │   ├── QuotaExhausted      429  the month's shared-credit allowance or a member cap
    │   └── SignInThrottled     429  too many failed sign-ins (admin.signin)
    ├── UpstreamFailed          502  upstream 5xx, unreachable or broken mid-way
    │   └── UpstreamRefused     502  the upstream refused validation (used by the vault/CLI)
    ├── MailFailed              502  the SMTP server would not take a message (mail)
    ├── DnsUnavailable          502  DNS did not answer a domain's verification (identity.dns_txt)
    └── ServiceUnavailable      503  shared state cannot be checked: refuse rather than guess
        ├── SharedStateUnavailable   this replica's lease on Redis ran out (sync.replica)
        ├── ChangeNotPropagated      a change not confirmed by every replica (sync.publisher)
        ├── LimitsUnavailable        rate-limit counters out of reach (limits.enforcer)
        └── BudgetsUnavailable       shared-credit budgets out of reach (gateway.metering)
"""

from __future__ import annotations

from typing import ClassVar

import orjson


class ChatGridError(Exception):
    """Base of every error ChatGrid shows to a caller."""

    status: int = 500
    error_type: ClassVar[str] = "server_error"
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        retry_after: int | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.message = message
        self.code = code if code is not None else self.default_code
        self.param = param
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, object]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    def headers(self) -> list[tuple[bytes, bytes]]:
        extra: list[tuple[bytes, bytes]] = []
        if self.retry_after is not None:
            extra.append((b"retry-after", str(self.retry_after).encode()))
        return extra


class InvalidRequest(ChatGridError):
    status = 400
    error_type = "invalid_request_error"


class RequestTooLarge(InvalidRequest):
    status = 413
    default_code = "request_too_large"


class AuthenticationFailed(ChatGridError):
    status = 401
    error_type = "invalid_request_error"
    default_code = "invalid_api_key"


class PermissionDenied(ChatGridError):
    status = 403
    error_type = "permission_error"
    default_code = "permission_denied"


class ModelNotAllowed(PermissionDenied):
    default_code = "model_not_allowed"


class OrgSuspended(PermissionDenied):
    default_code = "org_suspended"


class TrialEnded(PermissionDenied):
    default_code = "trial_ended"


class PaymentOverdue(PermissionDenied):
    """A card payment failed and its grace period is over: read-only until it is paid."""

    default_code = "payment_overdue"


class CredentialUnusable(PermissionDenied):
    default_code = "no_upstream_credential"


class UpstreamKeyRejected(CredentialUnusable):
    default_code = "upstream_key_rejected"


class NotFound(ChatGridError):
    status = 404
    error_type = "invalid_request_error"
    default_code = "not_found"


class Conflict(ChatGridError):
    status = 409
    error_type = "invalid_request_error"
    default_code = "conflict"


class RateLimited(ChatGridError):
    status = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class QuotaExhausted(RateLimited):
    """A shared-credit allowance or a member's cap has no room for this call."""

    default_code = "insufficient_quota"


class UpstreamFailed(ChatGridError):
    status = 502
    error_type = "upstream_error"
    default_code = "upstream_error"


class UpstreamRefused(UpstreamFailed):
    default_code = "upstream_refused"


class ServiceUnavailable(ChatGridError):
    """What a promise depends on cannot be checked right now (Redis is out of reach).

    Refusing is the safe answer: a revoked token, a rate limit or a spending
    cap must never pass just because the state that records it is unreachable.
    """

    status = 503
    error_type = "server_error"
