"""Domain errors. Each names the problem type the API answers with; `api.problems` maps them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (`data.maturity_date`), which rule (a stable code), and why."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass
class DomainError(Exception):
    problem: str  # problem type name, e.g. "validation-error"
    detail: str
    violations: list[Violation] = field(default_factory=list)
    retry_after: int | None = None  # seconds, for answers the partner should simply retry

    def __str__(self) -> str:
        return f"{self.problem}: {self.detail}"


def validation_error(violations: list[Violation]) -> DomainError:
    """422: one problem listing every violation; `unknown-reference` when that is all there is."""
    if violations and all(v.code == "unknown-reference" for v in violations):
        return DomainError("unknown-reference", "A referenced record does not exist in your tenant.", violations)
    count = len(violations)
    return DomainError(
        "validation-error", f"The event breaks {count} rule{'s' if count != 1 else ''}.", violations
    )


def conflict(detail: str, field_name: str | None = None, code: str = "conflict") -> DomainError:
    violations = [Violation(field_name, code, detail)] if field_name else []
    return DomainError("conflict", detail, violations)
