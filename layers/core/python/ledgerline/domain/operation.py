"""Category `operation`: revenue, cost, and asset data, optionally tied to a disbursement."""

from __future__ import annotations

from typing import Any, Literal

from ledgerline.domain import tables
from ledgerline.domain.category import Category, Decision, Parsed, Payload, Ref, live, unknown
from ledgerline.domain.errors import Violation
from ledgerline.domain.values import Currency, DateValue, Id, Info, Money, PositiveMoney, Text

ASSET_FIELDS = ("asset_type", "asset_status", "asset_value")


class OperationPayload(Payload):
    """Revenue, cost, or asset data, optionally tied to a disbursement.

    Without `step` it is created or updated by id. Checked by the API: asset_id is required with any
    other asset field; a linked disbursement exists and has the same currency.
    """

    operation_id: Id | None = None
    step: Literal["create", "update", "delete"] | None = None
    operation_type: Literal["revenue", "cost"] | None = None
    amount: PositiveMoney | None = None
    currency: Currency | None = None
    operation_date: DateValue | None = None
    disbursement_id: Id | None = None
    description: Text | None = None
    asset_id: Id | None = None
    asset_type: Text | None = None
    asset_status: Literal["active", "impaired", "repossessed", "sold", "written_off"] | None = None
    asset_value: Money | None = None
    info: Info | None = None


class OperationCategory(Category):
    name = "operation"
    table = tables.OPERATIONS
    id_field = "operation_id"
    model = OperationPayload
    step_required = False
    required = ("operation_type", "amount", "currency", "operation_date")

    def record_rules(self, record: dict[str, Any]) -> list[Violation]:
        given = [name for name in ASSET_FIELDS if record.get(name) is not None]
        if given and not record.get("asset_id"):
            return [Violation("data.asset_id", "required", f"is required with {', '.join(given)}")]
        return []

    def references(self, parsed: Parsed, current: dict[str, Any] | None) -> list[Ref]:
        disbursement_id = {**(current or {}), **parsed.fields}.get("disbursement_id")
        return [Ref(tables.DISBURSEMENTS, disbursement_id)] if disbursement_id else []

    def reference_rules(self, parsed, record, current, loaded) -> list[Violation]:
        if record.get("deleted") or not record.get("disbursement_id"):
            return []
        disbursement = live(Ref(tables.DISBURSEMENTS, record["disbursement_id"]), loaded)
        if disbursement is None:
            return [unknown("data.disbursement_id", f"disbursement {record['disbursement_id']}")]
        if record.get("currency") != disbursement.get("currency"):
            return [Violation("data.currency", "currency-mismatch",
                              f"must equal the disbursement's currency ({disbursement.get('currency')})")]
        return []

    def effects(self, decision: Decision, parsed, current, record, loaded) -> None:
        if record.get("disbursement_id") and not record.get("deleted"):
            decision.parents.append(Ref(tables.DISBURSEMENTS, record["disbursement_id"]))


OPERATION = OperationCategory()
