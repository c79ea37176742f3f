"""What every category shares: payload validation in two passes, steps, merge, decisions.

Flow of one event through the domain (all pure):
  1. `Category.parse(data)`      payload types and formats, plus the rules a payload can be
                                 checked against on its own; every violation listed.
  2. `Category.references(...)`  which stored items the store must load (the record itself,
                                 parents, guards).
  3. `Category.decide(...)`      given what was loaded: step rules, merge, rules on the merged
                                 record, references, and the writes that make up the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ledgerline.domain.errors import DomainError, Violation, conflict, validation_error

# Fields that describe the change rather than the record: stored on the version, never merged.
CHANGE_FIELDS = ("change_date", "change_reason")
_PYDANTIC_CODES = {
    "missing": "required",
    "extra_forbidden": "unknown-field",
    "literal_error": "invalid-value",
    "enum": "invalid-value",
    "int_type": "invalid-type",
    "int_parsing": "invalid-type",
    "string_type": "invalid-type",
    "list_type": "invalid-type",
    "dict_type": "invalid-type",
    "model_type": "invalid-type",
    "model_attributes_type": "invalid-type",
    "greater_than_equal": "out-of-range",
    "less_than_equal": "out-of-range",
    "too_long": "too-long",
    "too_short": "too-short",
}


class Payload(BaseModel):
    """Base of the category payload models: unknown fields are refused, nothing coerced."""

    # defer_build: each model's validator is built on its first use, not at import (cold start).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


def field_path(loc: tuple[Any, ...]) -> str:
    """The request path of a payload field: `data.purchase_clients[0].share`."""
    path = "data"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def violations_from(error: ValidationError) -> list[Violation]:
    found = []
    for item in error.errors(include_url=False):
        code = _PYDANTIC_CODES.get(item["type"], item["type"])
        message = item["msg"]
        if code == "unknown-field":
            message = "is not a field of this category"
        elif code == "required":
            message = "is required"
        found.append(Violation(field_path(item["loc"]), code, message))
    return found


@dataclass(frozen=True)
class Ref:
    """A stored item the decision needs: a record's current item, or a guard."""

    table: str
    id: str


@dataclass
class Parsed:
    """A payload that passed step 1: only the fields the partner sent (None = clear)."""

    category: Category
    record_id: str
    step: str | None
    fields: dict[str, Any]
    change: dict[str, Any]
    warnings: list[dict[str, str]]


@dataclass
class RecordWrite:
    """A new version of one record. `previous_version` 0 means the record is new."""

    table: str
    id: str
    record: dict[str, Any]
    previous_version: int
    changes: list[str]
    change: dict[str, Any] = field(default_factory=dict)
    # The stored current item (decoded) this version supersedes: it becomes the superseded
    # version's own item (`store.records`). Filled by the store layer, which read it.
    superseded: dict[str, Any] | None = None


@dataclass
class GuardWrite:
    """Claim (`holder` set) or release (`holder` None) a uniqueness guard such as an installment number."""

    ref: Ref
    holder: str | None


@dataclass
class Decision:
    outcome: str  # "Success" | "Unchanged"
    version: int
    writes: list[RecordWrite] = field(default_factory=list)
    # Parents whose current item must still exist, undeleted, when the write commits.
    parents: list[Ref] = field(default_factory=list)
    # Open-disbursement counters on clients: +1 when linked, -1 when unlinked.
    client_links: dict[str, int] = field(default_factory=dict)
    guards: list[GuardWrite] = field(default_factory=list)
    # A client delete or currency change needs the client to have no open disbursements.
    require_no_links: bool = False


class Category:
    name: ClassVar[str]
    table: ClassVar[str]
    id_field: ClassVar[str]
    model: ClassVar[type[Payload]]
    step_required: ClassVar[bool]
    # Field names required when the record is created (kind-specific ones via `required_on_create`).
    required: ClassVar[tuple[str, ...]] = ()
    # Fields that cannot change once the record exists.
    immutable: ClassVar[tuple[str, ...]] = ()

    # step 1 -------------------------------------------------------------------------------

    def parse(self, data: dict[str, Any]) -> Parsed:
        context: dict[str, Any] = {"warnings": []}
        violations: list[Violation] = []
        try:
            model = self.model.model_validate(data, context=context)
        except ValidationError as error:
            violations = violations_from(error)
            # Second pass without the broken fields, so the rules below still see the rest.
            broken = {item["loc"][0] for item in error.errors() if item["loc"]}
            context = {"warnings": []}
            try:
                model = self.model.model_validate(
                    {k: v for k, v in data.items() if k not in broken}, context=context
                )
            except ValidationError:
                raise validation_error(violations) from None
        fields = model.model_dump(exclude_unset=True)
        record_id = fields.pop(self.id_field, None)
        step = fields.pop("step", None)
        change = {k: fields.pop(k) for k in CHANGE_FIELDS if k in fields}
        present = set(fields) | {k for k in data if k not in fields}

        if data.get(self.id_field) is None:
            violations.append(Violation(f"data.{self.id_field}", "required", "is required"))
        if self.step_required and data.get("step") is None:
            violations.append(Violation("data.step", "required", "is required: create, update or delete"))
        if step == "delete":
            extra = sorted(k for k in present if k not in (self.id_field, "step"))
            violations += [Violation(f"data.{k}", "not-allowed", "a delete carries only the id") for k in extra]
        elif step == "create":
            violations += self.missing_on_create(fields, present)
            violations += self.record_rules(fields)
        violations += self.payload_rules(fields, step)
        # A field that is already reported as malformed is not reported again by a rule.
        malformed = {v.field for v in violations if v.code not in ("required", "not-allowed")}
        violations = [v for v in violations if v.code not in ("required", "not-allowed") or v.field not in malformed]
        if violations:
            raise validation_error(violations)
        warnings = [
            {"field": f"data.{name}", "code": code, "message": message}
            for name, code, message in context["warnings"]
        ]
        return Parsed(self, record_id, step, fields, change, warnings)

    def missing_on_create(self, fields: dict[str, Any], present: set[str]) -> list[Violation]:
        return [
            Violation(f"data.{name}", "required", "is required on create")
            for name in self.required_on_create(fields)
            if name not in present or (name in fields and fields[name] is None)
        ]

    def required_on_create(self, fields: dict[str, Any]) -> tuple[str, ...]:
        return self.required

    def payload_rules(self, fields: dict[str, Any], step: str | None) -> list[Violation]:
        """Rules on the payload alone, whatever the step."""
        return []

    def record_rules(self, record: dict[str, Any]) -> list[Violation]:
        """Rules on a whole record (the create payload, or the merge of an update)."""
        return []

    # step 2 -------------------------------------------------------------------------------

    def references(self, parsed: Parsed, current: dict[str, Any] | None) -> list[Ref]:
        """Parents and guards to load once the current record is known."""
        return []

    def decide(
        self,
        parsed: Parsed,
        current: dict[str, Any] | None,
        loaded: dict[Ref, dict[str, Any] | None],
        links: int = 0,
    ) -> Decision:
        """The change this event makes, given the current record and the loaded references.

        `links` is the number of open disbursements linked to the record (clients only).
        """
        step = parsed.step or ("update" if current else "create")
        if step == "create":
            if current is not None:
                raise conflict(f"{self.name} {parsed.record_id} already exists", f"data.{self.id_field}")
            if parsed.step is None:  # create-or-update that turned out to be a create
                missing = self.missing_on_create(parsed.fields, set(parsed.fields))
                missing += self.record_rules(parsed.fields)
                if missing:
                    raise validation_error(missing)
            record = {self.id_field: parsed.record_id, **{k: v for k, v in parsed.fields.items() if v is not None}, "deleted": False}
        else:
            if current is None:
                raise validation_error(
                    [Violation(f"data.{self.id_field}", "unknown-reference",
                               f"{self.name} {parsed.record_id} does not exist")]
                )
            if current.get("deleted"):
                raise conflict(f"{self.name} {parsed.record_id} is deleted and cannot change", f"data.{self.id_field}")
            if step == "delete":
                record = {**current, "deleted": True}
            else:
                violations = self._update_violations(parsed, current)
                merged = {k: v for k, v in {**current, **parsed.fields}.items() if v is not None}
                record = self.complete(merged, current)
                violations += self.record_rules(record)
                if violations:
                    raise validation_error(violations)
        if step == "create":
            record = self.complete(record, current)
        violations = self.reference_rules(parsed, record, current, loaded)
        if violations:
            raise validation_error(violations)
        self.transition_rules(current, record)
        previous_version = int(current["version"]) if current else 0
        changes = changed_fields(current, record)
        if current is not None and not changes:
            return Decision("Unchanged", previous_version)
        decision = Decision(
            "Success",
            previous_version + 1,
            writes=[RecordWrite(self.table, parsed.record_id, record, previous_version, changes, parsed.change)],
        )
        self.effects(decision, parsed, current, record, loaded)
        return decision

    def _update_violations(self, parsed: Parsed, current: dict[str, Any]) -> list[Violation]:
        violations = []
        for name, value in parsed.fields.items():
            if name in self.immutable and value != current.get(name):
                violations.append(Violation(f"data.{name}", "immutable", "cannot change after create"))
            elif value is None and name in self.required_on_create(current):
                violations.append(Violation(f"data.{name}", "not-allowed", "cannot be removed"))
        return violations

    def complete(self, record: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        """Fill in derived fields (defaults, computed values)."""
        return record

    def reference_rules(
        self,
        parsed: Parsed,
        record: dict[str, Any],
        current: dict[str, Any] | None,
        loaded: dict[Ref, dict[str, Any] | None],
    ) -> list[Violation]:
        return []

    def transition_rules(self, current: dict[str, Any] | None, record: dict[str, Any]) -> None:
        """Raise a conflict for an illegal state move."""

    def effects(
        self,
        decision: Decision,
        parsed: Parsed,
        current: dict[str, Any] | None,
        record: dict[str, Any],
        loaded: dict[Ref, dict[str, Any] | None],
    ) -> None:
        """Add the writes beyond the record itself: link rows, counters, guards, parent checks."""


# Attributes of a stored record that are bookkeeping, not partner data.
RECORD_META = ("version", "created_at", "updated_at")


def changed_fields(current: dict[str, Any] | None, record: dict[str, Any]) -> list[str]:
    if current is None:
        return sorted(record)
    before = {k: v for k, v in current.items() if k not in RECORD_META}
    names = set(before) | set(record)
    return sorted(n for n in names if n not in RECORD_META and before.get(n) != record.get(n))


def live(ref: Ref, loaded: dict[Ref, dict[str, Any] | None]) -> dict[str, Any] | None:
    """A loaded record that exists and is not deleted."""
    item = loaded.get(ref)
    return item if item and not item.get("deleted") else None


def unknown(field: str, what: str) -> Violation:
    return Violation(field, "unknown-reference", f"{what} does not exist in your tenant")


__all__ = [
    "Category", "Decision", "DomainError", "GuardWrite", "Parsed", "Payload", "RecordWrite", "Ref",
    "changed_fields", "live", "unknown",
]
