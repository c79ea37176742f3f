"""Category `client`: a borrower or buyer, individual or company."""

from __future__ import annotations

from typing import Any, Literal

from ledgerline.domain import tables
from ledgerline.domain.category import Category, Decision, Parsed, Payload, Ref
from ledgerline.domain.errors import Violation, conflict
from ledgerline.domain.values import Country, Currency, DateValue, Email, Id, Info, Text, text


class ClientPayload(Payload):
    """A borrower or buyer, individual or company.

    Checked by the API against stored data: a client with disbursements that are not deleted cannot
    be deleted, nor change its currency.
    """

    client_id: Id | None = None
    step: Literal["create", "update", "delete"] | None = None
    name: text(200) | None = None
    client_type: Literal["individual", "company"] | None = None
    currency: Currency | None = None
    country: Country | None = None
    tax_id: Text | None = None
    email: Email | None = None
    phone: Text | None = None
    birth_date: DateValue | None = None
    incorporation_date: DateValue | None = None
    info: Info | None = None


class ClientCategory(Category):
    name = "client"
    table = tables.CLIENTS
    id_field = "client_id"
    model = ClientPayload
    step_required = True
    required = ("name", "client_type")

    def decide(
        self, parsed: Parsed, current: dict[str, Any] | None, loaded: dict[Ref, Any], links: int = 0
    ) -> Decision:
        decision = super().decide(parsed, current, loaded, links)
        if current is not None and decision.writes:
            record = decision.writes[0].record
            # A client's currency binds its disbursements, so it may only be deleted, or its
            # currency set or changed, while no open disbursement links to it. The store
            # re-checks the count when the write commits.
            if record.get("deleted") or record.get("currency") != current.get("currency"):
                open_links = f"client {parsed.record_id} has {links} disbursement(s) that are not deleted"
                if links and record.get("deleted"):
                    raise conflict(f"{open_links}; delete or relink them first", "data.client_id")
                if links:
                    raise conflict(f"{open_links}; its currency cannot change", "data.currency")
                decision.require_no_links = True
        return decision


CLIENT = ClientCategory()

__all__ = ["CLIENT", "ClientPayload", "Violation"]
