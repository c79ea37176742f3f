"""The ingest envelope `{"category", "data", "effective_at"}` and the category registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticCustomError

from ledgerline.domain.category import Category, Parsed
from ledgerline.domain.client import CLIENT
from ledgerline.domain.disbursement import DISBURSEMENT
from ledgerline.domain.errors import DomainError, Violation, validation_error
from ledgerline.domain.operation import OPERATION
from ledgerline.domain.payment import PAYMENT
from ledgerline.domain.values import parse_when

CATEGORIES: dict[str, Category] = {c.name: c for c in (CLIENT, DISBURSEMENT, PAYMENT, OPERATION)}

# Retired categories and what to send instead.
RETIRED: dict[str, str] = {
    "loan": 'Send category "disbursement" with "kind": "loan".',
    "purchase": 'Send category "disbursement" with "kind": "purchase" and purchase_clients.',
    "schedule": 'Send one "payment" event per installment with "status": "expected" and an installment_number.',
    "insurance": 'Send insurance payouts as "payment" events with "source": "insurance"; keep policy data in '
                 'the disbursement\'s info.',
    "write_off": 'Send a "disbursement" update that lowers disbursement_amount (to 0 for a full write-off) '
                 "with change_date and change_reason.",
    "credit_decision": 'Keep credit decisions in the info object of the "client" or "disbursement".',
    "asset": 'Send an "operation" event with asset_id, asset_type, asset_status and asset_value.',
    "goods_status": 'Send a "disbursement" update of the purchase with the new goods_status.',
    "restructure": 'Send a "disbursement" update (a moved maturity_date with change_date and change_reason) and '
                   'new "payment" events with "status": "expected" for the new schedule.',
}
DEPRECATED_FIELDS = ("entity_type", "entity_id")
ENVELOPE_FIELDS = ("category", "data", "effective_at")


@dataclass
class IngestEvent:
    parsed: Parsed
    effective_at: str | None  # the stated effective_at, else data.change_date, else None (ingest time)
    effective_at_stated: bool = False  # the partner sent effective_at itself

    @property
    def category(self) -> Category:
        return self.parsed.category


def parse_event(body: dict[str, Any]) -> IngestEvent:
    """Validate an envelope and its payload; raises DomainError listing every violation."""
    violations: list[Violation] = []
    warnings: list[dict[str, str]] = []
    category_name = body.get("category")
    if not isinstance(category_name, str):
        category_name = None  # reported below; a list or object here must not reach a dict lookup
    for name in sorted(set(body) - set(ENVELOPE_FIELDS)):
        if name in DEPRECATED_FIELDS:
            warnings.append(_deprecated_field(name))
        else:
            violations.append(Violation(name, "unknown-field", "is not a field of the ingest envelope"))
    if "category" not in body:
        violations.append(Violation("category", "required", "is required"))
    elif category_name is None:
        violations.append(Violation("category", "invalid-type", "must be a string"))
    elif category_name in RETIRED:
        raise DomainError(
            "deprecated-category",
            f'Category "{category_name}" is retired. {RETIRED[category_name]}',
            [Violation("category", "deprecated-category", RETIRED[category_name])],
        )
    elif category_name not in CATEGORIES:
        violations.append(Violation("category", "invalid-value", f"must be one of {', '.join(CATEGORIES)}"))

    effective_at = body.get("effective_at")
    if effective_at is not None:
        try:
            if not isinstance(effective_at, str):
                raise ValueError
            effective_at, missing_offset = parse_when(effective_at)
            if missing_offset:
                warnings.append({"field": "effective_at", "code": "timezone-assumed",
                                 "message": "timestamp has no offset; read as UTC"})
        except ValueError:
            violations.append(Violation("effective_at", "invalid-date",
                                        "must be an ISO 8601 date or timestamp"))

    text_violations = unusable_text(body)
    data = body.get("data")
    if "data" not in body:
        violations.append(Violation("data", "required", "is required"))
    elif not isinstance(data, dict):
        violations.append(Violation("data", "invalid-type", "must be a JSON object"))
    elif category_name in CATEGORIES:
        payload = dict(data)
        for name in DEPRECATED_FIELDS:
            if name in payload:
                payload.pop(name)
                warnings.append(_deprecated_field(f"data.{name}"))
        try:
            parsed = CATEGORIES[category_name].parse(payload)
        except DomainError as error:
            violations += error.violations
        else:
            if not violations and not text_violations:
                parsed.warnings = warnings + parsed.warnings
                effective = effective_at or parsed.change.get("change_date")
                return IngestEvent(parsed, effective, effective_at is not None)
    # A field holding U+0000 is reported for that alone, not also as a malformed id, date...
    unusable = {v.field for v in text_violations}
    raise validation_error(text_violations + [v for v in violations if v.field not in unusable])


def unusable_text(body: dict[str, Any]) -> list[Violation]:
    """U+0000 in any string or member name of the body, and empty member names inside
    `data.info`: neither can be stored and read back safely. One violation per place."""
    found: list[Violation] = []
    stack: list[tuple[str, Any, bool]] = [("", body, False)]  # (path, value, inside data.info)
    while stack:
        path, value, in_info = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                found.append(Violation(path, "invalid-characters", "must not contain the character U+0000"))
        elif isinstance(value, dict):
            for name, child in value.items():
                child_path = f"{path}.{_printable(name)}" if path else _printable(name)
                if "\x00" in name:
                    found.append(Violation(child_path, "invalid-characters",
                                           "a member name must not contain the character U+0000"))
                elif in_info and name == "":
                    found.append(Violation(child_path, "empty-member-name", "member names in info must not be empty"))
                stack.append((child_path, child, in_info or child_path == "data.info"))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", child, in_info) for index, child in enumerate(value))
    return sorted(found, key=lambda v: v.field)


def _printable(name: str) -> str:
    """A member name as it appears in a violation's path: `""` when empty, U+0000 escaped."""
    return name.replace("\x00", "\\u0000") if name else '""'


def _deprecated_field(path: str) -> dict[str, str]:
    return {"field": path, "code": "deprecated-field",
            "message": "is deprecated and ignored; link records with disbursement_id / client_id"}


__all__ = ["CATEGORIES", "RETIRED", "IngestEvent", "PydanticCustomError", "parse_event"]
