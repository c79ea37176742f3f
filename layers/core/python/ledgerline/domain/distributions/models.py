"""The register's records as partners send them: assets, holders, positions, cash-flow events.

Strict pydantic models (unknown fields refused, nothing coerced); field errors become
violations with the shared codes (`ledgerline.domain.category.violations_from`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from pydantic_core import PydanticCustomError
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from ledgerline.domain.category import violations_from
from ledgerline.domain.distributions.money import distributable_currency, fits_currency, parse_units
from ledgerline.domain.errors import Violation, validation_error
from ledgerline.domain.values import Currency, DateValue, Email, Id, PositiveMoney, instant, text

Units = Annotated[Decimal, PlainValidator(parse_units)]
ShortText = text(200)
AccountText = text(64)


def parse_iban(value: Any) -> str:
    """An IBAN whose country format and check digits are right; stored compact (`DE89370400440532013000`)."""
    if not isinstance(value, str):
        raise PydanticCustomError("invalid-type", "must be a string")
    try:
        return str(IBAN(value))
    except SchwiftyException as error:
        raise PydanticCustomError("invalid-iban", "must be a valid IBAN ({reason})", {"reason": str(error)}) from None


Iban = Annotated[str, PlainValidator(parse_iban)]


def _distributable(currency: str) -> str:
    if not distributable_currency(currency):
        raise PydanticCustomError("invalid-currency", "must be a currency with a minor unit (not a metal or fund code)")
    return currency


DistributableCurrency = Annotated[Currency, AfterValidator(_distributable)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Payment(Strict):
    iban: Iban | None = None
    account_number: AccountText | None = None
    bank_code: AccountText | None = None
    beneficiary_name: ShortText | None = None


class AssetIn(Strict):
    asset_id: Id
    name: ShortText
    asset_type: ShortText
    currency: DistributableCurrency
    total_units: Units | None = None
    disbursement_ids: Annotated[list[Id], Field(max_length=1000)] | None = None


class AssetChange(Strict):
    name: ShortText | None = None
    asset_type: ShortText | None = None
    total_units: Units | None = None
    disbursement_ids: Annotated[list[Id], Field(max_length=1000)] | None = None


class HolderIn(Strict):
    holder_id: Id
    name: ShortText
    email: Email | None = None
    tax_id: AccountText | None = None
    payment: Payment = Payment()


class PositionIn(Strict):
    holder_id: Id
    units: Units
    effective_date: DateValue


class CashFlowEventIn(Strict):
    cash_flow_event_id: Id
    type: Literal["interest", "principal", "dividend", "other"]
    amount: PositiveMoney
    currency: Currency
    record_date: DateValue
    payment_date: DateValue
    description: text(1000) | None = None


class CalculateIn(Strict):
    asset_id: Id
    cash_flow_event_id: Id


class MarkSentIn(Strict):
    notice_ids: Annotated[list[Annotated[str, Field(max_length=300)]], Field(max_length=10_000)] | None = None


def parse(model: type[Strict], body: Any, prefix: str = "") -> Any:
    """`body` as `model`, or a 422 listing every violation."""
    if not isinstance(body, dict):
        raise validation_error([Violation(prefix or "body", "invalid-type", "must be a JSON object")])
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise validation_error(_violations(error, prefix)) from None


def _violations(error: ValidationError, prefix: str) -> list[Violation]:
    found = []
    for violation in violations_from(error):
        path = violation.field.removeprefix("data").lstrip(".")  # the shared helper names payload fields data.*
        message = "is not a field of this record" if violation.code == "unknown-field" else violation.message
        found.append(Violation(f"{prefix}.{path}" if prefix else path, violation.code, message))
    return found


def event_rules(event: CashFlowEventIn, asset_currency: str) -> list[Violation]:
    """The rules that need the asset: its currency, its minor unit, and the dates' order."""
    found = []
    if event.currency != asset_currency:
        found.append(Violation("currency", "currency-mismatch", f"must be the asset's currency, {asset_currency}"))
    elif not fits_currency(event.amount, event.currency):
        found.append(Violation("amount", "invalid-money", f"must be a whole number of {event.currency} minor units"))
    if instant(event.payment_date) < instant(event.record_date):
        found.append(Violation("payment_date", "out-of-range", "must be on or after record_date"))
    return found


def require(violations: list[Violation]) -> None:
    if violations:
        raise validation_error(violations)
