"""Category `payment`: an expected installment, a receipt, or a cancellation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from ledgerline.domain import tables
from ledgerline.domain.category import Category, Decision, GuardWrite, Parsed, Payload, Ref, live, unknown
from ledgerline.domain.disbursement import linked_clients
from ledgerline.domain.errors import Violation, conflict
from ledgerline.domain.values import Currency, DateValue, Id, Info, Money, PositiveInt, PositiveMoney

# Allowed status moves; `canceled` is final.
MOVES = {"expected": {"expected", "paid", "canceled"}, "paid": {"paid", "canceled"}, "canceled": set()}
ALWAYS_REQUIRED = ("disbursement_id", "status", "due_date")


class PaymentPayload(Payload):
    """An expected installment, a receipt or a cancellation.

    Without `step` it is created or updated by id; disbursement_id, status and due_date are sent on
    every event but a delete. Checked by the API: principal_amount + interest_amount at most amount;
    the disbursement exists with the same currency; client_id one of its clients (required for a
    purchase); installment_number unique among its payments that are not canceled; status moves
    expected -> expected | paid | canceled, paid -> paid | canceled.
    """

    payment_id: Id | None = None
    step: Literal["create", "update", "delete"] | None = None
    disbursement_id: Id | None = None
    status: Literal["expected", "paid", "canceled"] | None = None
    amount: PositiveMoney | None = None
    currency: Currency | None = None
    due_date: DateValue | None = None
    payment_date: DateValue | None = None
    payment_fee: Money | None = None
    installment_number: PositiveInt | None = None
    source: Literal["client", "guarantor", "insurance", "other"] | None = None
    client_id: Id | None = None
    principal_amount: Money | None = None
    interest_amount: Money | None = None
    info: Info | None = None


def installment_guard(record: dict[str, Any] | None) -> Ref | None:
    """The guard a payment holds: its installment number, while it is neither canceled nor deleted."""
    if not record or record.get("deleted") or record.get("status") == "canceled":
        return None
    if record.get("installment_number") is None:
        return None
    return Ref(tables.INSTALLMENTS, f"{record['disbursement_id']}~{record['installment_number']}")


class PaymentCategory(Category):
    name = "payment"
    table = tables.PAYMENTS
    id_field = "payment_id"
    model = PaymentPayload
    step_required = False
    required = ALWAYS_REQUIRED + ("amount", "currency")
    immutable = ("disbursement_id", "currency")

    def payload_rules(self, fields: dict[str, Any], step: str | None) -> list[Violation]:
        if step == "delete" or step == "create":  # delete carries only the id; create checked all
            return []
        return [
            Violation(f"data.{name}", "required", "is required on every payment event")
            for name in ALWAYS_REQUIRED
            if fields.get(name) is None and name not in fields
        ] + [
            Violation(f"data.{name}", "not-allowed", "cannot be removed")
            for name in ALWAYS_REQUIRED
            if name in fields and fields[name] is None
        ]

    def record_rules(self, record: dict[str, Any]) -> list[Violation]:
        principal = record.get("principal_amount") or Decimal(0)
        interest = record.get("interest_amount") or Decimal(0)
        if record.get("amount") is not None and principal + interest > record["amount"]:
            return [Violation("data.principal_amount", "out-of-range",
                              "principal_amount and interest_amount together must not exceed amount")]
        return []

    def complete(self, record: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        return record if record.get("deleted") else {"source": "client", **record}

    def references(self, parsed: Parsed, current: dict[str, Any] | None) -> list[Ref]:
        proposed = {**(current or {}), **parsed.fields}
        refs = [Ref(tables.DISBURSEMENTS, proposed["disbursement_id"])] if proposed.get("disbursement_id") else []
        guard = installment_guard(proposed)
        return refs + ([guard] if guard else [])

    def reference_rules(self, parsed, record, current, loaded) -> list[Violation]:
        if record.get("deleted"):
            return []
        disbursement = live(Ref(tables.DISBURSEMENTS, record["disbursement_id"]), loaded)
        if disbursement is None:
            return [unknown("data.disbursement_id", f"disbursement {record['disbursement_id']}")]
        violations = []
        if record.get("currency") != disbursement.get("currency"):
            violations.append(Violation("data.currency", "currency-mismatch",
                                        f"must equal the disbursement's currency ({disbursement.get('currency')})"))
        client_id = record.get("client_id")
        if disbursement.get("kind") == "purchase" and not client_id:
            violations.append(Violation("data.client_id", "required",
                                        "is required when the disbursement is a purchase"))
        elif client_id and client_id not in linked_clients(disbursement):
            which = "purchase clients" if disbursement.get("kind") == "purchase" else "clients"
            violations.append(Violation("data.client_id", "not-allowed",
                                        f"must be one of the disbursement's {which}"))
        guard = installment_guard(record)
        holder = loaded.get(guard) if guard else None
        if holder and holder.get("payment_id") != parsed.record_id:
            violations.append(Violation(
                "data.installment_number", "duplicate",
                f"installment {record['installment_number']} is already payment {holder['payment_id']}",
            ))
        return violations

    def transition_rules(self, current: dict[str, Any] | None, record: dict[str, Any]) -> None:
        if current is None or record.get("deleted"):
            return
        before, after = current["status"], record["status"]
        if after not in MOVES[before]:
            raise conflict(f"payment status cannot move from {before} to {after}", "data.status")

    def effects(self, decision: Decision, parsed, current, record, loaded) -> None:
        if not record.get("deleted"):
            decision.parents.append(Ref(tables.DISBURSEMENTS, record["disbursement_id"]))
        before, after = installment_guard(current), installment_guard(record)
        if before != after:
            if before:
                decision.guards.append(GuardWrite(before, None))
            if after:
                decision.guards.append(GuardWrite(after, parsed.record_id))


PAYMENT = PaymentCategory()
