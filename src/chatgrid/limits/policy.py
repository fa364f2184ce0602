"""An org's limits and allowed models (plain values, validated here)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from chatgrid.errors import InvalidRequest

_MAX_LIMIT = 100_000_000


@dataclass(frozen=True)
class OrgPolicy:
    """``None`` means "no limit" (or, for models, "every model the upstream offers")."""

    org_rpm: int | None = None
    org_tpm: int | None = None
    member_rpm: int | None = None
    member_tpm: int | None = None
    member_concurrency: int | None = None
    allowed_models: frozenset[str] | None = None

    def __post_init__(self) -> None:
        for name in ("org_rpm", "org_tpm", "member_rpm", "member_tpm", "member_concurrency"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 1 <= value <= _MAX_LIMIT
            ):
                raise InvalidRequest(
                    f"{name} must be a whole number from 1 to {_MAX_LIMIT}", param=name
                )
        if self.allowed_models is not None:
            for model in self.allowed_models:
                if not model or len(model) > 100:
                    raise InvalidRequest(
                        "model names are 1 to 100 characters", param="allowed_models"
                    )

    @property
    def limits_requests(self) -> bool:
        return any(
            v is not None
            for v in (
                self.org_rpm,
                self.org_tpm,
                self.member_rpm,
                self.member_tpm,
                self.member_concurrency,
            )
        )

    def allows(self, model: str) -> bool:
        return self.allowed_models is None or model in self.allowed_models

    def with_changes(self, **changes: object) -> OrgPolicy:
        return replace(self, **changes)  # type: ignore[arg-type]

    def public(self) -> dict[str, object]:
        return {
            "org_rpm": self.org_rpm,
            "org_tpm": self.org_tpm,
            "member_rpm": self.member_rpm,
            "member_tpm": self.member_tpm,
            "member_concurrency": self.member_concurrency,
            "allowed_models": None if self.allowed_models is None else sorted(self.allowed_models),
        }


NO_LIMITS = OrgPolicy()
