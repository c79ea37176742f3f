"""Category `disbursement`: money lent (`kind: loan`) or goods financed (`kind: purchase`)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator
from pydantic_core import PydanticCustomError

from ledgerline.domain import tables
from ledgerline.domain.category import Category, Decision, Parsed, Payload, RecordWrite, Ref, live, unknown
from ledgerline.domain.errors import Violation
from ledgerline.domain.values import (
    Currency,
    DateValue,
    Id,
    Info,
    Money,
    Text,
    dynamo_number,
    instant,
    json_schema,
    strip_zeros,
    text,
)

MAX_LINKED_CLIENTS = 15  # keeps the worst-case relink inside one 100-item transaction
LOAN_ONLY = ("disbursement_date", "maturity_date", "client_ids")
PURCHASE_ONLY = ("operation_date", "payment_date", "estimated_delivery_date", "goods_description",
                 "goods_status", "purchase_clients")


def _share(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise PydanticCustomError("invalid-type", "must be a JSON number")
    share = Decimal(value)
    if not share.is_finite() or not 0 < share <= 1:
        raise PydanticCustomError("out-of-range", "must be greater than 0 and at most 1")
    if not dynamo_number(share):
        share = strip_zeros(share)  # 0.50000...0 (40 digits) is 0.5
        if not dynamo_number(share):
            raise PydanticCustomError("invalid-value", "must have at most 38 significant digits")
    return share


Share = Annotated[Decimal, PlainValidator(_share), json_schema("Share", {
    "type": "number", "exclusiveMinimum": 0, "maximum": 1, "description": "the client's share, in (0, 1]",
})]


class PurchaseClient(Payload):
    """One client of a purchase; client ids are unique within a purchase."""

    client_id: Id
    share: Share | None = None


class DisbursementPayload(Payload):
    """A loan (`kind: loan`) or a purchase / goods financing (`kind: purchase`).

    Rules across fields and stored data, checked by the API: a loan needs client_id or a non-empty
    client_ids; maturity_date after disbursement_date, estimated_delivery_date after
    operation_date; purchase client ids unique and shares summing to at most 1; client_id of a
    purchase one of its purchase_clients; kind and currency never change; every linked client
    exists and shares the currency when it has one; an update that moves maturity_date or
    lowers total_expected_margin or disbursement_amount carries change_date and change_reason.
    """

    disbursement_id: Id | None = None
    step: Literal["create", "update", "delete"] | None = None
    kind: Literal["loan", "purchase"] | None = None
    disbursement_amount: Money | None = None
    currency: Currency | None = None
    total_expected_margin: Money | None = None
    client_id: Id | None = None
    client_ids: Annotated[list[Id], Field(max_length=MAX_LINKED_CLIENTS)] | None = None
    purchase_clients: Annotated[list[PurchaseClient], Field(min_length=1, max_length=MAX_LINKED_CLIENTS)] | None = None
    disbursement_date: DateValue | None = None
    maturity_date: DateValue | None = None
    operation_date: DateValue | None = None
    payment_date: DateValue | None = None
    estimated_delivery_date: DateValue | None = None
    goods_description: Text | None = None
    goods_status: Literal["pending", "in_transit", "delivered", "returned"] | None = None
    upfront_fee: Money | None = None
    gross_value: Money | None = None
    pledge_creditor: Text | None = None
    bank_ref: Text | None = None
    info: Info | None = None
    change_date: DateValue | None = None
    change_reason: text(500) | None = None


def linked_clients(record: dict[str, Any] | None) -> set[str]:
    """Every client a disbursement links to (each holds one open-disbursement count for it)."""
    if not record or record.get("deleted"):
        return set()
    ids = {record["client_id"]} if record.get("client_id") else set()
    ids.update(record.get("client_ids") or ())
    ids.update(pc["client_id"] for pc in record.get("purchase_clients") or ())
    return ids


def purchase_client_row_id(disbursement_id: str, client_id: str) -> str:
    # "~" cannot occur in an id, so the pair cannot collide with another pair.
    return f"{disbursement_id}~{client_id}"


class DisbursementCategory(Category):
    name = "disbursement"
    table = tables.DISBURSEMENTS
    id_field = "disbursement_id"
    model = DisbursementPayload
    step_required = True
    immutable = ("kind", "currency")

    def required_on_create(self, fields: dict[str, Any]) -> tuple[str, ...]:
        base = ("kind", "disbursement_amount", "currency", "total_expected_margin")
        if fields.get("kind") == "loan":
            return base + ("disbursement_date", "maturity_date")
        if fields.get("kind") == "purchase":
            return base + PURCHASE_ONLY
        return base

    def missing_on_create(self, fields: dict[str, Any], present: set[str]) -> list[Violation]:
        violations = super().missing_on_create(fields, present)
        if fields.get("kind") == "loan" and not fields.get("client_id") and not fields.get("client_ids"):
            if not {"client_id", "client_ids"} & (present - set(fields)):  # not merely malformed
                violations.append(
                    Violation("data.client_id", "required", "a loan needs client_id or a non-empty client_ids")
                )
        return violations

    def _update_violations(self, parsed: Parsed, current: dict[str, Any]) -> list[Violation]:
        violations = super()._update_violations(parsed, current)
        proposed = {**current, **parsed.fields}
        if current.get("kind") == "loan" and not proposed.get("client_id") and not proposed.get("client_ids"):
            # The create rule holds for the life of the loan: it always has a primary borrower.
            violations.append(Violation("data.client_id", "not-allowed",
                                        "a loan keeps client_id or a non-empty client_ids"))
        return violations

    def payload_rules(self, fields: dict[str, Any], step: str | None) -> list[Violation]:
        violations = []
        if step == "create" and fields.get("disbursement_amount") is not None and fields["disbursement_amount"] <= 0:
            violations.append(
                Violation("data.disbursement_amount", "out-of-range", "must be greater than 0 on create")
            )
        client_ids = fields.get("client_ids") or []
        if len(set(client_ids)) != len(client_ids):
            violations.append(Violation("data.client_ids", "duplicate", "must not repeat a client"))
        purchase_clients = fields.get("purchase_clients") or []
        ids = [pc["client_id"] for pc in purchase_clients]
        if len(set(ids)) != len(ids):
            violations.append(Violation("data.purchase_clients", "duplicate", "must not repeat a client"))
        # Exact sum: Decimal addition would round to 28 digits and could let 1.000...01 pass.
        if sum(Fraction(pc["share"]) for pc in purchase_clients if pc.get("share") is not None) > 1:
            violations.append(Violation("data.purchase_clients", "share-sum", "shares must add up to at most 1"))
        return violations

    def record_rules(self, record: dict[str, Any]) -> list[Violation]:
        violations = []
        kind = record.get("kind")
        foreign = PURCHASE_ONLY if kind == "loan" else LOAN_ONLY if kind == "purchase" else ()
        for name in foreign:
            if record.get(name) is not None:
                message = (
                    "client_ids is a legacy field refused for purchases; send purchase_clients"
                    if name == "client_ids"
                    else f"applies only to {'purchase' if kind == 'loan' else 'loan'} disbursements"
                )
                violations.append(Violation(f"data.{name}", "not-allowed", message))
        if kind == "loan":
            violations += _after(record, "maturity_date", "disbursement_date")
        if kind == "purchase":
            violations += _after(record, "estimated_delivery_date", "operation_date")
            members = {pc["client_id"] for pc in record.get("purchase_clients") or ()}
            if record.get("client_id") and members and record["client_id"] not in members:
                violations.append(
                    Violation("data.client_id", "not-allowed", "must be one of the purchase_clients")
                )
        return violations

    def complete(self, record: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        record = dict(record)
        if record.get("deleted"):
            return record
        fee = record.setdefault("upfront_fee", Decimal(0))
        if record.get("gross_value") is None or (current and _inherits_derived_gross(record, current)):
            record["gross_value"] = record.get("disbursement_amount", Decimal(0)) + fee
        members = [pc["client_id"] for pc in record.get("purchase_clients") or ()]
        inherited_primary = current is not None and record.get("client_id") == current.get("client_id")
        if members and inherited_primary and record.get("client_id") not in members:
            record.pop("client_id")  # the inherited primary left the purchase: pick a new one below
        if not record.get("client_id"):
            primary = (record.get("client_ids") or members or [None])[0]
            if primary:
                record["client_id"] = primary
        return record

    def references(self, parsed: Parsed, current: dict[str, Any] | None) -> list[Ref]:
        proposed = {**(current or {}), **parsed.fields}
        sent = linked_clients(proposed) | linked_clients(parsed.fields)
        refs = [Ref("clients", cid) for cid in sorted(sent - linked_clients(current))]
        if (current or parsed.fields).get("kind") == "purchase" or parsed.fields.get("purchase_clients"):
            old = {pc["client_id"] for pc in (current or {}).get("purchase_clients") or ()}
            new = {pc["client_id"] for pc in parsed.fields.get("purchase_clients") or ()}
            refs += [Ref(tables.PURCHASE_CLIENTS, purchase_client_row_id(parsed.record_id, c)) for c in sorted(old | new)]
        return refs

    def reference_rules(self, parsed, record, current, loaded) -> list[Violation]:
        violations = []
        for client_id in sorted(linked_clients(record) - linked_clients(current)):
            client = live(Ref("clients", client_id), loaded)
            where = _client_field(record, client_id)
            if client is None:
                violations.append(unknown(where, f"client {client_id}"))
            elif client.get("currency") and client["currency"] != record.get("currency"):
                violations.append(
                    Violation("data.currency", "currency-mismatch",
                              f"must equal the currency of client {client_id} ({client['currency']})")
                )
        if current is not None and not record.get("deleted"):
            violations += _change_needs_reason(current, record, parsed.change)
        return violations

    def effects(self, decision: Decision, parsed, current, record, loaded) -> None:
        before, after = linked_clients(current), linked_clients(record)
        decision.client_links = {cid: 1 for cid in after - before} | {cid: -1 for cid in before - after}
        if record.get("kind") != "purchase":
            return
        shares = {pc["client_id"]: pc.get("share") for pc in record.get("purchase_clients") or ()}
        if record.get("deleted"):
            shares = {}
        old = {pc["client_id"] for pc in (current or {}).get("purchase_clients") or ()}
        for client_id in sorted(old | set(shares)):
            row_id = purchase_client_row_id(parsed.record_id, client_id)
            stored = loaded.get(Ref(tables.PURCHASE_CLIENTS, row_id))
            if client_id in shares:
                row = {"purchase_client_id": row_id, "disbursement_id": parsed.record_id, "client_id": client_id,
                       "deleted": False}
                if shares[client_id] is not None:
                    row["share"] = shares[client_id]
            elif stored and not stored.get("deleted"):
                row = {**{k: v for k, v in stored.items() if k not in ("version", "created_at", "updated_at")},
                       "deleted": True}
            else:
                continue
            before_row = {k: v for k, v in (stored or {}).items() if k not in ("version", "created_at", "updated_at")}
            if stored is not None and before_row == row:
                continue
            changes = sorted(k for k in set(row) | set(before_row) if row.get(k) != before_row.get(k))
            version = int(stored["version"]) if stored else 0
            decision.writes.append(RecordWrite(tables.PURCHASE_CLIENTS, row_id, row, version, changes))


def _after(record: dict[str, Any], later: str, earlier: str) -> list[Violation]:
    if record.get(later) and record.get(earlier) and instant(record[later]) <= instant(record[earlier]):
        return [Violation(f"data.{later}", "date-order", f"must be after {earlier}")]
    return []


def _inherits_derived_gross(record: dict[str, Any], current: dict[str, Any]) -> bool:
    """gross_value follows amount + fee until the partner sends a value that differs from it."""
    derived_before = current.get("gross_value") == current.get("disbursement_amount", 0) + current.get("upfront_fee", 0)
    return derived_before and record.get("gross_value") == current.get("gross_value")


def _client_field(record: dict[str, Any], client_id: str) -> str:
    for i, pc in enumerate(record.get("purchase_clients") or ()):
        if pc["client_id"] == client_id:
            return f"data.purchase_clients[{i}].client_id"
    for i, cid in enumerate(record.get("client_ids") or ()):
        if cid == client_id:
            return f"data.client_ids[{i}]"
    return "data.client_id"


def _change_needs_reason(current, record, change) -> list[Violation]:
    """Moving maturity, lowering the margin or the amount must say when and why."""
    triggers = []
    if record.get("maturity_date") != current.get("maturity_date") and current.get("maturity_date"):
        triggers.append("moves maturity_date")
    for name in ("total_expected_margin", "disbursement_amount"):
        if name in current and record.get(name, current[name]) < current[name]:
            triggers.append(f"lowers {name}")
    if not triggers:
        return []
    reason = " and ".join(triggers)
    return [
        Violation(f"data.{name}", "required", f"is required on an update that {reason}")
        for name in ("change_date", "change_reason")
        if not change.get(name)
    ]


DISBURSEMENT = DisbursementCategory()
