"""A corpus of bad requests sent through the real ingest handler (over moto).

Every case states the status and problem type partners are promised (docs/contract.md: conventions and ingest responses).
Each test asserts the answer is an RFC 9457 problem, and that the request stored nothing:
the records table holds exactly the seed records afterwards, and the idempotency table is
unchanged (a refused request does not burn its Idempotency-Key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from ledgerline.domain.envelope import RETIRED
from ledgerline.domain.jsonio import dumps
from ledgerline.settings import get_settings
from tests import builders

D = Decimal
KIB = 1024
HOLE = "__RAW__"


@dataclass(frozen=True)
class Case:
    id: str
    body: Any  # a dict (sent as JSON) or the raw text of the body
    status: int
    problem: str
    errors: frozenset[tuple[str, str]] = frozenset()  # (field, code) pairs that must be among `errors`
    headers: dict[str, str] = field(default_factory=dict)
    key: str | None = None  # None: a fresh Idempotency-Key; "": no header at all


def raw(body: dict[str, Any], token: str) -> str:
    """The JSON text of `body` with the string "__RAW__" replaced by `token` verbatim (NaN, 1e999 ...)."""
    text = dumps(body)
    assert f'"{HOLE}"' in text
    return text.replace(f'"{HOLE}"', token)


def data_of(body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**body, "data": {**body["data"], **fields}}


def without(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {**body, "data": {k: v for k, v in body["data"].items() if k not in names}}


def bad(case_id: str, body: Any, *errors: tuple[str, str], status: int = 422,
        problem: str = "validation-error", **options: Any) -> Case:
    return Case(case_id, body, status, problem, frozenset(errors), **options)


def malformed(case_id: str, body: Any, **options: Any) -> Case:
    return Case(case_id, body, 400, "malformed-request", **options)


def nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_info(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": True}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


CLIENT = builders.client("C7")
LOAN = builders.loan("D7")
PURCHASE = builders.purchase("P7", purchase_clients=[{"client_id": "C1", "share": D("0.5")}, {"client_id": "C2"}])
PAYMENT = builders.payment("PM7", installment_number=7)
OPERATION = builders.operation("O7")
LOAN_UPDATE = builders.loan("D1", step="update")

# -- transport: body, media type, headers (400 / 413 / 415) -----------------------------------

TRANSPORT = [
    malformed("json-truncated", '{"category": "client", "data": {"client_id": "C7"'),
    malformed("json-trailing-comma", '{"category": "client", "data": {},}'),
    malformed("json-single-quotes", "{'category': 'client', 'data': {}}"),
    malformed("json-unquoted-keys", '{category: "client", data: {}}'),
    malformed("json-comment", '{"category": "client", /* note */ "data": {}}'),
    malformed("json-two-documents", '{"category": "client"} {"data": {}}'),
    malformed("json-empty-body", ""),
    malformed("json-whitespace-body", "   \n\t "),
    malformed("json-garbage", "category=client&data=x"),
    malformed("json-xml", '<?xml version="1.0"?><event category="client"/>'),
    malformed("json-hex-number", '{"category": "client", "data": {"amount": 0x10}}'),
    malformed("json-leading-zero", '{"category": "operation", "data": {"amount": 012}}'),
    malformed("json-control-char-in-string", '{"category": "client", "data": {"name": "a\tb"}}'),
    malformed("json-5000-digit-integer", raw(data_of(OPERATION, amount=HOLE), "9" * 5000)),
    malformed("body-array", dumps([CLIENT])),
    malformed("body-empty-array", "[]"),
    malformed("body-string", '"client"'),
    malformed("body-number", "42"),
    malformed("body-float", "1.5"),
    malformed("body-null", "null"),
    malformed("body-true", "true"),
    malformed("body-nan", "NaN"),
    malformed("duplicate-key-top-level", '{"category": "client", "category": "loan", "data": {}}'),
    malformed("duplicate-key-in-data",
              '{"category": "client", "data": {"client_id": "C7", "client_id": "C1", "step": "create"}}'),
    malformed("duplicate-key-in-info", raw(data_of(CLIENT, info=HOLE), '{"a": 1, "a": 2}')),
    malformed("nested-33-levels", raw(data_of(CLIENT, info=HOLE), nested_list(31))),
    malformed("nested-5000-levels", nested_list(5000)),
    malformed("nested-100000-levels", nested_list(100_000)),
    malformed("lone-surrogate-in-name", raw(data_of(CLIENT, name=HOLE), '"Ada \\ud800"')),
    malformed("lone-surrogate-in-key", raw(data_of(CLIENT, info=HOLE), '{"\\udc00": 1}')),
    Case("body-over-256-kib-valid-json", data_of(CLIENT, info={"blob": "x" * (256 * KIB)}), 413,
         "payload-too-large"),
    Case("body-over-256-kib-garbage", "x" * (256 * KIB + 1), 413, "payload-too-large"),
    Case("body-1-mib-name", data_of(CLIENT, name="A" * KIB * KIB), 413, "payload-too-large"),
    Case("idempotency-key-missing", CLIENT, 400, "idempotency-key-missing", key=""),
    Case("idempotency-key-256-chars", CLIENT, 400, "idempotency-key-missing", key="k" * 256),
    Case("idempotency-key-non-ascii", CLIENT, 400, "idempotency-key-missing", key="schlüssel"),
    Case("idempotency-key-control-char", CLIENT, 400, "idempotency-key-missing", key="key\x07"),
    Case("content-type-text-plain", CLIENT, 415, "unsupported-media-type", headers={"Content-Type": "text/plain"}),
    Case("content-type-form", CLIENT, 415, "unsupported-media-type",
         headers={"Content-Type": "application/x-www-form-urlencoded"}),
    Case("content-type-xml", CLIENT, 415, "unsupported-media-type", headers={"Content-Type": "application/xml"}),
    Case("content-type-multipart", CLIENT, 415, "unsupported-media-type",
         headers={"Content-Type": "multipart/form-data; boundary=x"}),
]

# -- envelope (422) ----------------------------------------------------------------------------

ENVELOPE = [
    *(bad(f"retired-{name}", {"category": name, "data": {"id": "X1"}}, ("category", "deprecated-category"),
          problem="deprecated-category") for name in sorted(RETIRED)),
    bad("category-unknown", {**CLIENT, "category": "customer"}, ("category", "invalid-value")),
    bad("category-wrong-case", {**CLIENT, "category": "Client"}, ("category", "invalid-value")),
    bad("category-missing", {"data": CLIENT["data"]}, ("category", "required")),
    bad("category-null", {**CLIENT, "category": None}, ("category", "invalid-type")),
    bad("category-array", {**CLIENT, "category": ["client"]}, ("category", "invalid-type")),
    bad("category-object", {**CLIENT, "category": {"name": "client"}}, ("category", "invalid-type")),
    bad("category-number", {**CLIENT, "category": 1}, ("category", "invalid-type")),
    bad("data-missing", {"category": "client"}, ("data", "required")),
    bad("data-null", {**CLIENT, "data": None}, ("data", "invalid-type")),
    bad("data-array", {**CLIENT, "data": [CLIENT["data"]]}, ("data", "invalid-type")),
    bad("data-string", {**CLIENT, "data": dumps(CLIENT["data"])}, ("data", "invalid-type")),
    bad("envelope-empty-object", {}, ("category", "required"), ("data", "required")),
    bad("envelope-unknown-field", {**CLIENT, "tenant": "t2"}, ("tenant", "unknown-field")),
    bad("effective-at-impossible", {**CLIENT, "effective_at": "2023-02-29"}, ("effective_at", "invalid-date")),
    bad("effective-at-number", {**CLIENT, "effective_at": 1729382400}, ("effective_at", "invalid-date")),
    bad("effective-at-year-10000-in-utc", {**CLIENT, "effective_at": "9999-12-31T23:00:00-05:00"},
        ("effective_at", "invalid-date")),
    bad("deprecated-fields-do-not-rescue-a-bad-event", {**data_of(CLIENT, name="", entity_id="C7"),
                                                        "entity_type": "client"}, ("data.name", "too-short")),
]

# -- client (422 / 409) ------------------------------------------------------------------------

CLIENTS = [
    bad("client-id-hash", data_of(CLIENT, client_id="C1#v0"), ("data.client_id", "invalid-id")),
    bad("client-id-other-tenant-key", data_of(CLIENT, client_id="T#t2#clients#C1"), ("data.client_id", "invalid-id")),
    bad("client-id-traversal", data_of(CLIENT, client_id="../C1"), ("data.client_id", "invalid-id")),
    bad("client-id-leading-dash", data_of(CLIENT, client_id="-C1"), ("data.client_id", "invalid-id")),
    bad("client-id-129-chars", data_of(CLIENT, client_id="C" * 129), ("data.client_id", "invalid-id")),
    bad("client-id-empty", data_of(CLIENT, client_id=""), ("data.client_id", "invalid-id")),
    bad("client-id-trailing-space", data_of(CLIENT, client_id="C1 "), ("data.client_id", "invalid-id")),
    bad("client-id-number", data_of(CLIENT, client_id=7), ("data.client_id", "invalid-type")),
    bad("client-id-operator-object", data_of(CLIENT, client_id={"$ne": None}), ("data.client_id", "invalid-type")),
    bad("client-id-missing", without(CLIENT, "client_id"), ("data.client_id", "required")),
    bad("client-step-missing", without(CLIENT, "step"), ("data.step", "required")),
    bad("client-step-unknown", data_of(CLIENT, step="upsert"), ("data.step", "invalid-value")),
    bad("client-name-missing", without(CLIENT, "name"), ("data.name", "required")),
    bad("client-name-null", data_of(CLIENT, name=None), ("data.name", "required")),
    bad("client-name-201-chars", data_of(CLIENT, name="n" * 201), ("data.name", "too-long")),
    bad("client-name-100k-chars", data_of(CLIENT, name="n" * 100_000), ("data.name", "too-long")),
    bad("client-name-blank", data_of(CLIENT, name="  "), ("data.name", "too-short")),
    bad("client-name-array", data_of(CLIENT, name=["Ada"]), ("data.name", "invalid-type")),
    bad("client-type-unknown", data_of(CLIENT, client_type="robot"), ("data.client_type", "invalid-value")),
    bad("client-email", data_of(CLIENT, email="ada-at-example"), ("data.email", "invalid-email")),
    bad("client-currency-lowercase", data_of(CLIENT, currency="eur"), ("data.currency", "invalid-currency")),
    bad("client-country-alpha-3", data_of(CLIENT, country="DEU"), ("data.country", "invalid-country")),
    bad("client-birth-date-feb-29-2023", data_of(CLIENT, birth_date="2023-02-29"), ("data.birth_date", "invalid-date")),
    bad("client-birth-date-slashes", data_of(CLIENT, birth_date="10/12/1815"), ("data.birth_date", "invalid-date")),
    bad("client-birth-date-number", data_of(CLIENT, birth_date=18151210), ("data.birth_date", "invalid-type")),
    bad("client-tax-id-1001-chars", data_of(CLIENT, tax_id="9" * 1001), ("data.tax_id", "too-long")),
    bad("client-info-array", data_of(CLIENT, info=["vip"]), ("data.info", "invalid-type")),
    bad("client-info-string", data_of(CLIENT, info="vip"), ("data.info", "invalid-type")),
    bad("client-info-6-levels", data_of(CLIENT, info=deep_info(6)), ("data.info", "too-deep")),
    bad("client-info-over-16-kib", data_of(CLIENT, info={"blob": "x" * (16 * KIB)}), ("data.info", "too-large")),
    bad("client-info-nan-raw", raw(data_of(CLIENT, info=HOLE), '{"score": NaN}'), ("data.info", "invalid-value")),
    bad("client-info-empty-name", data_of(CLIENT, info={"": 1}), ('data.info.""', "empty-member-name")),
    bad("client-info-nested-empty-name", data_of(CLIENT, info={"x": {"": "y"}}), ('data.info.x.""', "empty-member-name")),
    bad("client-info-empty-name-in-array", data_of(CLIENT, info={"a": [{"": True}]}),
        ('data.info.a[0].""', "empty-member-name")),
    bad("client-info-nul-escaped", raw(data_of(CLIENT, info=HOLE), '{"note": "a\\u0000b"}'),
        ("data.info.note", "invalid-characters")),
    bad("client-info-nul-in-name", raw(data_of(CLIENT, info=HOLE), '{"k\\u0000": 1}'),
        ("data.info.k\\u0000", "invalid-characters")),
    bad("client-name-nul", data_of(CLIENT, name="Ada\x00"), ("data.name", "invalid-characters")),
    bad("client-id-nul", data_of(CLIENT, client_id="C\x001"), ("data.client_id", "invalid-characters")),
    bad("client-info-40-digit-number", raw(data_of(CLIENT, info=HOLE), '{"n": 1' + "0" * 39 + "}"),
        ("data.info", "invalid-value")),
    bad("client-unknown-field", data_of(CLIENT, nickname="Ada"), ("data.nickname", "unknown-field")),
    bad("client-unknown-field-version", data_of(CLIENT, version=1), ("data.version", "unknown-field")),
    bad("client-many-errors", {"category": "client", "data": {
        "client_id": "C7", "step": "create", "client_type": "robot", "email": "x", "currency": "XYZ",
        "country": "Narnia", "birth_date": "2023-02-29", "colour": "red"}},
        ("data.name", "required"), ("data.client_type", "invalid-value"), ("data.email", "invalid-email"),
        ("data.currency", "invalid-currency"), ("data.country", "invalid-country"),
        ("data.birth_date", "invalid-date"), ("data.colour", "unknown-field")),
    bad("client-delete-with-fields", builders.client("C2", step="delete", name="x"), ("data.name", "not-allowed")),
    bad("client-create-existing", builders.client("C1"), ("data.client_id", "conflict"), status=409,
        problem="conflict"),
    bad("client-update-unknown", builders.client("C404", step="update", name="x"),
        ("data.client_id", "unknown-reference"), problem="unknown-reference"),
    bad("client-update-deleted", builders.client("C9", step="update", name="x"), status=409, problem="conflict"),
    bad("client-delete-with-open-disbursements", builders.client("C1", step="delete"), status=409,
        problem="conflict"),
    bad("client-currency-change-with-open-disbursements", builders.client("C1", step="update", currency="USD"),
        ("data.currency", "conflict"), status=409, problem="conflict"),
    bad("client-update-null-name", builders.client("C1", step="update", name=None), ("data.name", "not-allowed")),
]

# -- disbursement (422 / 409) ------------------------------------------------------------------

DISBURSEMENTS = [
    bad("amount-nan-raw", raw(data_of(LOAN, disbursement_amount=HOLE), "NaN"),
        ("data.disbursement_amount", "invalid-money")),
    bad("amount-infinity-raw", raw(data_of(LOAN, disbursement_amount=HOLE), "Infinity"),
        ("data.disbursement_amount", "invalid-money")),
    bad("amount-minus-infinity-raw", raw(data_of(LOAN, disbursement_amount=HOLE), "-Infinity"),
        ("data.disbursement_amount", "invalid-money")),
    bad("amount-1e999-raw", raw(data_of(LOAN, disbursement_amount=HOLE), "1e999"),
        ("data.disbursement_amount", "out-of-range")),
    bad("amount-string", data_of(LOAN, disbursement_amount="10000.00"), ("data.disbursement_amount", "invalid-type")),
    bad("amount-string-nan", data_of(LOAN, disbursement_amount="NaN"), ("data.disbursement_amount", "invalid-type")),
    bad("amount-bool", data_of(LOAN, disbursement_amount=True), ("data.disbursement_amount", "invalid-type")),
    bad("amount-null-on-create", data_of(LOAN, disbursement_amount=None), ("data.disbursement_amount", "required")),
    bad("amount-zero-on-create", data_of(LOAN, disbursement_amount=0), ("data.disbursement_amount", "out-of-range")),
    bad("amount-negative", data_of(LOAN, disbursement_amount=D("-1")), ("data.disbursement_amount", "out-of-range")),
    bad("amount-5-places", data_of(LOAN, disbursement_amount=D("100.00001")),
        ("data.disbursement_amount", "invalid-money")),
    bad("amount-33-digits-no-rounding", raw(data_of(LOAN, disbursement_amount=HOLE), "1.00000000000000000000000000000001"),
        ("data.disbursement_amount", "invalid-money")),
    bad("amount-above-10-12", data_of(LOAN, disbursement_amount=10**12 + 1), ("data.disbursement_amount", "out-of-range")),
    bad("margin-negative", data_of(LOAN, total_expected_margin=D("-0.01")),
        ("data.total_expected_margin", "out-of-range")),
    bad("kind-missing", without(LOAN, "kind"), ("data.kind", "required")),
    bad("kind-unknown", data_of(LOAN, kind="lease"), ("data.kind", "invalid-value")),
    bad("loan-currency-missing", without(LOAN, "currency"), ("data.currency", "required")),
    bad("loan-dates-missing", without(LOAN, "disbursement_date", "maturity_date"),
        ("data.disbursement_date", "required"), ("data.maturity_date", "required")),
    bad("loan-maturity-before-disbursement", data_of(LOAN, maturity_date="2024-01-01"),
        ("data.maturity_date", "date-order")),
    bad("loan-maturity-impossible", data_of(LOAN, maturity_date="2025-02-29"), ("data.maturity_date", "invalid-date")),
    bad("loan-without-client", without(LOAN, "client_id"), ("data.client_id", "required")),
    bad("loan-client-ids-string", data_of(LOAN, client_ids="C1"), ("data.client_ids", "invalid-type")),
    bad("loan-client-ids-injection", data_of(LOAN, client_ids=["C1", "C2#x"]), ("data.client_ids[1]", "invalid-id")),
    bad("loan-16-clients", data_of(LOAN, client_ids=[f"C{i}" for i in range(16)]), ("data.client_ids", "too-long")),
    bad("loan-with-goods-status", data_of(LOAN, goods_status="pending"), ("data.goods_status", "not-allowed")),
    bad("loan-unknown-client", data_of(LOAN, client_id="C404"), ("data.client_id", "unknown-reference"),
        problem="unknown-reference"),
    bad("loan-deleted-client", data_of(LOAN, client_id="C9"), ("data.client_id", "unknown-reference"),
        problem="unknown-reference"),
    bad("loan-currency-mismatch-with-client", data_of(LOAN, currency="USD"), ("data.currency", "currency-mismatch")),
    bad("purchase-clients-missing", without(PURCHASE, "purchase_clients"), ("data.purchase_clients", "required")),
    bad("purchase-clients-empty", data_of(PURCHASE, purchase_clients=[]), ("data.purchase_clients", "too-short")),
    bad("purchase-clients-duplicate", data_of(PURCHASE, purchase_clients=[{"client_id": "C1"}, {"client_id": "C1"}]),
        ("data.purchase_clients", "duplicate")),
    bad("purchase-share-zero", data_of(PURCHASE, purchase_clients=[{"client_id": "C1", "share": 0}]),
        ("data.purchase_clients[0].share", "out-of-range")),
    bad("purchase-share-string", data_of(PURCHASE, purchase_clients=[{"client_id": "C1", "share": "1"}]),
        ("data.purchase_clients[0].share", "invalid-type")),
    bad("purchase-shares-sum-above-1", data_of(PURCHASE, purchase_clients=[
        {"client_id": "C1", "share": D("0.7")}, {"client_id": "C2", "share": D("0.4")}]),
        ("data.purchase_clients", "share-sum")),
    bad("purchase-legacy-client-ids", data_of(PURCHASE, client_ids=["C1"]), ("data.client_ids", "not-allowed")),
    bad("purchase-client-id-not-a-member", data_of(PURCHASE, client_id="C4"), ("data.client_id", "not-allowed")),
    bad("purchase-delivery-before-operation", data_of(PURCHASE, estimated_delivery_date="2024-10-01"),
        ("data.estimated_delivery_date", "date-order")),
    bad("purchase-goods-status-unknown", data_of(PURCHASE, goods_status="lost"), ("data.goods_status", "invalid-value")),
    bad("purchase-unknown-member", data_of(PURCHASE, purchase_clients=[{"client_id": "C404"}]),
        ("data.purchase_clients[0].client_id", "unknown-reference"), problem="unknown-reference"),
    bad("disbursement-create-existing", builders.loan("D1"), ("data.disbursement_id", "conflict"), status=409,
        problem="conflict"),
    bad("disbursement-update-unknown", builders.loan("D404", step="update", bank_ref="x"),
        ("data.disbursement_id", "unknown-reference"), problem="unknown-reference"),
    bad("disbursement-kind-change", data_of(LOAN_UPDATE, kind="purchase"), ("data.kind", "immutable")),
    bad("disbursement-currency-change", data_of(LOAN_UPDATE, currency="USD"), ("data.currency", "immutable")),
    bad("write-off-without-reason", data_of(LOAN_UPDATE, disbursement_amount=0),
        ("data.change_date", "required"), ("data.change_reason", "required")),
    bad("extension-without-reason", data_of(LOAN_UPDATE, maturity_date="2026-10-20"),
        ("data.change_date", "required"), ("data.change_reason", "required")),
    bad("change-reason-501-chars", data_of(LOAN_UPDATE, total_expected_margin=1, change_date="2025-01-01",
                                           change_reason="r" * 501), ("data.change_reason", "too-long")),
    bad("disbursement-delete-with-fields", builders.loan("D1", step="delete", disbursement_amount=0),
        ("data.disbursement_amount", "not-allowed")),
]

# -- payment (422 / 409) -----------------------------------------------------------------------

PAYMENTS = [
    bad("payment-id-injection", data_of(PAYMENT, payment_id="PM7#guard"), ("data.payment_id", "invalid-id")),
    bad("payment-due-date-missing", without(PAYMENT, "due_date"), ("data.due_date", "required")),
    bad("payment-follow-up-without-due-date", {"category": "payment", "data": {
        "payment_id": "PM1", "disbursement_id": "D1", "status": "canceled"}}, ("data.due_date", "required")),
    bad("payment-status-unknown", data_of(PAYMENT, status="late"), ("data.status", "invalid-value")),
    bad("payment-amount-zero", data_of(PAYMENT, amount=0), ("data.amount", "out-of-range")),
    bad("payment-amount-nan-raw", raw(data_of(PAYMENT, amount=HOLE), "NaN"), ("data.amount", "invalid-money")),
    bad("payment-installment-zero", data_of(PAYMENT, installment_number=0), ("data.installment_number", "out-of-range")),
    bad("payment-installment-bool", data_of(PAYMENT, installment_number=True),
        ("data.installment_number", "invalid-type")),
    bad("payment-installment-fraction", data_of(PAYMENT, installment_number=D("1.5")),
        ("data.installment_number", "invalid-type")),
    bad("payment-installment-taken", data_of(PAYMENT, installment_number=1),
        ("data.installment_number", "duplicate")),
    bad("payment-unknown-disbursement", data_of(PAYMENT, disbursement_id="D404"),
        ("data.disbursement_id", "unknown-reference"), problem="unknown-reference"),
    bad("payment-currency-mismatch", data_of(PAYMENT, currency="USD"), ("data.currency", "currency-mismatch")),
    bad("payment-purchase-without-client", data_of(PAYMENT, disbursement_id="P1"), ("data.client_id", "required")),
    bad("payment-loan-foreign-client", data_of(PAYMENT, client_id="C2"), ("data.client_id", "not-allowed")),
    bad("payment-principal-interest-above-amount", data_of(PAYMENT, principal_amount=800, interest_amount=100),
        ("data.principal_amount", "out-of-range")),
    bad("payment-paid-back-to-expected", builders.payment("PM1", status="expected"), ("data.status", "conflict"),
        status=409, problem="conflict"),
    bad("payment-create-existing", data_of(builders.payment("PM1", status="paid"), step="create"),
        ("data.payment_id", "conflict"), status=409, problem="conflict"),
    bad("payment-move-to-other-disbursement", builders.payment("PM1", status="paid", disbursement_id="P1",
                                                               client_id="C1"),
        ("data.disbursement_id", "immutable")),
]

# -- operation (422) ---------------------------------------------------------------------------

OPERATIONS = [
    bad("operation-missing-create-fields", {"category": "operation", "data": {"operation_id": "O7"}},
        ("data.operation_type", "required"), ("data.amount", "required"), ("data.currency", "required"),
        ("data.operation_date", "required")),
    bad("operation-type-unknown", data_of(OPERATION, operation_type="fee"), ("data.operation_type", "invalid-value")),
    bad("operation-asset-fields-without-asset-id", data_of(OPERATION, asset_status="sold", asset_value=1),
        ("data.asset_id", "required")),
    bad("operation-asset-status-unknown", data_of(OPERATION, asset_id="A1", asset_status="stolen"),
        ("data.asset_status", "invalid-value")),
    bad("operation-unknown-disbursement", data_of(OPERATION, disbursement_id="D404"),
        ("data.disbursement_id", "unknown-reference"), problem="unknown-reference"),
    bad("operation-currency-mismatch", data_of(OPERATION, disbursement_id="D1", currency="BRL"),
        ("data.currency", "currency-mismatch")),
    bad("operation-description-1001-chars", data_of(OPERATION, description="d" * 1001),
        ("data.description", "too-long")),
]

CORPUS = TRANSPORT + ENVELOPE + CLIENTS + DISBURSEMENTS + PAYMENTS + OPERATIONS


def test_the_corpus_is_large_and_its_ids_are_unique():
    assert len(CORPUS) >= 110
    assert len({case.id for case in CORPUS}) == len(CORPUS)


# -- running a case ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables():
    """The conftest `tables` fixture (same steps, same helpers), once for the whole module.

    Seeding costs about as much as eight ingests; doing it for each of the ~180 cases would
    take minutes. The conftest's function-scoped `call_ingest` runs over this client. Each
    case still starts from exactly the seed state: `seeded` repairs the tables if a case
    ever stored something (after failing its own assertions).
    """
    from tests.conftest import moto_tables

    with moto_tables() as dynamodb:
        yield dynamodb


SEEDS = [
    builders.client("C1", currency="EUR"), builders.client("C2"), builders.client("C4"), builders.client("C9"),
    builders.client("C9", step="delete"), builders.loan("D1"),
    builders.purchase("P1", purchase_clients=[{"client_id": "C1", "share": D("0.5")}, {"client_id": "C2"}]),
    builders.payment("PM1", status="paid"),
]
"""C1 (EUR), C2, C4, deleted C9; loan D1 (C1); purchase P1 (C1 + C2); payment PM1 (paid, installment 1)."""

# What any write of the store changes: new keys (versions, ingested_events rows, guards), or on
# an existing item its version / updated_at (record writes), open_disbursements (link counters)
# or payment_id (installment guards). Scanning only these keeps each case fast (moto spends
# most of a full scan serialising the stored records).
FOOTPRINT = "PK, SK, version, updated_at, open_disbursements, payment_id"

_baseline: dict[int, tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]] = {}


def scan(tables, table_name: str, projection: str | None = None) -> list[dict[str, Any]]:
    options = {"ProjectionExpression": projection} if projection else {}
    pages = tables.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True, **options)
    items = [item for page in pages for item in page["Items"]]
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=repr))  # binary: compressed records


def snapshot(tables, full: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Both tables: the records table by its footprint (or whole), the idempotency table whole."""
    settings = get_settings()
    return {settings.records_table: scan(tables, settings.records_table, None if full else FOOTPRINT),
            settings.idempotency_table: scan(tables, settings.idempotency_table)}


def restore(tables, baseline: dict[str, list[dict[str, Any]]]) -> None:
    """Put the tables back to a full `baseline`, so one wrongly stored case cannot fail the next."""
    keys = {get_settings().records_table: ("PK", "SK"), get_settings().idempotency_table: ("id",)}
    for name, items in baseline.items():
        wanted = {tuple(json.dumps(item[k]) for k in keys[name]): item for item in items}
        for item in scan(tables, name):
            key = tuple(json.dumps(item[k]) for k in keys[name])
            if wanted.get(key) != item:
                tables.delete_item(TableName=name, Key={k: item[k] for k in keys[name]})
        for item in items:
            tables.put_item(TableName=name, Item=item)


@pytest.fixture
def seeded(call_ingest, tables):
    """The seed records, stored once per module: (footprint snapshot, full snapshot)."""
    if id(tables) not in _baseline:
        for event in SEEDS:
            status, _, body = call_ingest(event)
            assert status == 200, body
        _baseline[id(tables)] = (snapshot(tables), snapshot(tables, full=True))
    return _baseline[id(tables)]


def assert_nothing_stored(tables, seeded) -> None:
    footprint, full = seeded
    after = snapshot(tables)
    if after != footprint:
        restore(tables, full)
    for name, items in footprint.items():
        assert after[name] == items, f"{name} changed: {len(items)} items before, {len(after[name])} after"


def assert_problem(status: int, headers: dict[str, str], body: dict[str, Any], expected_status: int,
                   problem: str) -> None:
    assert (status, body.get("type", "").rsplit("/problems/", 1)[-1]) == (expected_status, problem), body
    assert headers["Content-Type"] == "application/problem+json"
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["type"].endswith(f"/problems/{problem}")
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["instance"] == headers["X-Request-Id"]
    assert "Traceback" not in body["detail"]


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_given_a_bad_request_when_ingested_then_a_problem_and_nothing_stored(case, call_ingest, tables, seeded):
    # When the bad request is sent through the real handler
    status, headers, body = call_ingest(case.body, key=case.key, headers=case.headers)
    # Then the answer is the promised problem ...
    assert_problem(status, headers, body, case.status, case.problem)
    if case.errors:
        listed = {(e["field"], e["code"]) for e in body["errors"]}
        assert case.errors <= listed, body["errors"]
        assert all(e["message"] for e in body["errors"])
    # ... and nothing was stored: only the seed records, and no idempotency record burned
    assert_nothing_stored(tables, seeded)


def test_given_a_refused_request_when_retried_fixed_with_the_same_key_then_it_is_processed(
        call_ingest, tables, seeded):
    status, _, _ = call_ingest(data_of(CLIENT, email="nope"), key="retry-key-1")
    assert status == 422
    status, headers, body = call_ingest(CLIENT, key="retry-key-1")
    try:
        assert (status, body["status"], body["id"]) == (200, "Success", "C7")
        assert "Idempotent-Replayed" not in headers
    finally:
        restore(tables, seeded[1])  # the next cases expect the seed records only


def test_given_a_validation_error_when_answered_then_every_violation_is_listed_with_its_path(
        call_ingest, tables, seeded):
    body = {"category": "disbursement", "effective_at": "someday", "data": {
        "disbursement_id": "D#7", "step": "create", "kind": "loan", "currency": "eur",
        "disbursement_amount": D("-5"), "total_expected_margin": "12", "client_id": "C1",
        "disbursement_date": "2024-10-20", "maturity_date": "2024-02-30", "rate": 3}}
    status, _, problem = call_ingest(body)
    assert status == 422
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("effective_at", "invalid-date"), ("data.disbursement_id", "invalid-id"), ("data.currency", "invalid-currency"),
        ("data.disbursement_amount", "out-of-range"), ("data.total_expected_margin", "invalid-type"),
        ("data.maturity_date", "invalid-date"), ("data.rate", "unknown-field")}
    assert_nothing_stored(tables, seeded)
