"""Holder CSV import (all-or-nothing, hostile files), the payment file and notices (docs/distributions.md)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from ledgerline.domain.distributions.files import payment_file, payment_file_name, safe_cell
from ledgerline.domain.distributions.holders_csv import COLUMNS, MAX_ROWS, parse_holders_csv
from ledgerline.domain.distributions.models import (
    AssetIn,
    CashFlowEventIn,
    HolderIn,
    PositionIn,
    event_rules,
    parse,
)
from ledgerline.domain.distributions.notices import build_notice
from ledgerline.domain.errors import DomainError

HEADER = ",".join(COLUMNS)
IBAN = "DE89370400440532013000"


def refused(content: bytes, existing=frozenset()):
    with pytest.raises(DomainError) as caught:
        parse_holders_csv(content, set(existing))
    assert caught.value.problem == "validation-error"
    return [(v.field, v.code) for v in caught.value.violations]


def test_a_good_file_gives_one_row_per_holder_with_only_the_cells_it_sets():
    content = (f"{HEADER}\r\n"
               f"h1,Alice,alice@example.com,T1,{IBAN},,,,100.5\r\n"
               "h2,,,,,,,,\r\n").encode()

    rows = parse_holders_csv(content, {"h2"})

    assert rows[0].row == 2 and rows[0].holder_id == "h1"
    assert rows[0].fields == {"name": "Alice", "email": "alice@example.com", "tax_id": "T1"}
    assert rows[0].payment == {"iban": IBAN} and rows[0].units == Decimal("100.5")
    assert rows[1].fields == {} and rows[1].payment == {} and rows[1].units is None


def test_bom_quoted_commas_crlf_blank_lines_and_any_column_order():
    content = ("\ufeffname,holder_id,iban,units\n"
               '"Smith, John",h1,"DE89 3704 0044 0532 0130 00",1\n'
               "\n"
               '"Multi\nline",h2,,2\n').encode()

    rows = parse_holders_csv(content, set())

    assert [(r.row, r.holder_id, r.fields["name"]) for r in rows] == [(2, "h1", "Smith, John"), (4, "h2", "Multi\nline")]
    assert rows[0].payment == {"iban": IBAN}  # stored compact


def test_formula_cells_are_kept_as_text_on_import():
    rows = parse_holders_csv(f"{HEADER}\nh1,=cmd|' /C calc'!A0,,,,,,@SUM(1),\n".encode(), set())
    assert rows[0].fields["name"] == "=cmd|' /C calc'!A0"


def test_every_bad_row_is_listed_and_nothing_is_returned():
    content = (f"{HEADER}\n"
               f"h1,Alice,not-an-email,,DE00123,,,,1.0000001\n"
               "bad id,Bob,,,,,,,1\n"
               "h3,,,,,,,,\n"  # a new holder without a name
               "h4,Dan,,,,,,,\"1,000\"\n"
               "h1,Again,,,,,,,\n"
               "h5,Eve,,,,,,\n").encode()

    assert refused(content) == [
        ("row 2: email", "invalid-email"), ("row 2: iban", "invalid-iban"), ("row 2: units", "invalid-units"),
        ("row 3: holder_id", "invalid-id"),
        ("row 4: name", "required"),
        ("row 5: units", "invalid-units"),
        ("row 6: holder_id", "duplicate"),
        ("row 7", "wrong-cell-count"),
    ]


def test_negative_units_and_an_empty_holder_id_are_refused():
    assert refused(f"{HEADER}\nh1,A,,,,,,,-1\n,B,,,,,,,1\n".encode()) == [
        ("row 2: units", "out-of-range"), ("row 3: holder_id", "required")]


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n"])
def test_an_empty_file_is_refused(content):
    assert refused(content) == [("row 1", "missing-header")]


def test_a_file_without_header_is_refused():
    assert refused(f"h1,Alice,,,{IBAN},,,,1\n".encode()) == [
        ("row 1: h1", "unknown-column"), ("row 1: Alice", "unknown-column"), ("row 1: ", "unknown-column"),
        ("row 1: " + IBAN, "unknown-column"), ("row 1: 1", "unknown-column"), ("row 1: holder_id", "missing-header")]


def test_a_file_of_more_holders_than_one_request_can_apply_is_refused_whole():
    rows = "".join(f"h{n},Holder {n},,,,,,,{n + 1}\n" for n in range(MAX_ROWS + 1))
    content = f"{HEADER}\n{rows}".encode()
    assert len(content) < 256 * 1024  # within the body limit, yet too many rows
    assert refused(content) == [(f"row {MAX_ROWS + 2}", "too-many-rows")]
    assert len(parse_holders_csv(f"{HEADER}\n{rows[:rows.index(f'h{MAX_ROWS},')]}".encode(), set())) == MAX_ROWS


def test_extra_columns_and_extra_cells_are_refused():
    assert refused(f"{HEADER},notes\nh1,A,,,,,,,1,x\n".encode()) == [("row 1: notes", "unknown-column")]
    assert refused(f"{HEADER}\nh1,A,,,,,,,1,extra\n".encode()) == [("row 2", "wrong-cell-count")]


def test_not_utf8_nul_and_broken_quotes_are_refused():
    assert refused(b"holder_id,name\nh1,\xff\n") == [("row 1", "invalid-encoding")]
    assert refused(b"holder_id,name\nh1,a\x00b\n") == [("row 1", "invalid-characters")]
    assert refused(b'holder_id,name\nh1,"a"b"\n') == [("row 2", "invalid-csv")]


@pytest.mark.parametrize(("value", "escaped"), [
    ("=cmd", "'=cmd"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("Alice", "Alice"), ("a=b", "a=b"), ("", ""),
])
def test_cells_a_spreadsheet_would_run_are_escaped(value, escaped):
    assert safe_cell(value) == escaped


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_payment_file_rows_by_holder_id_with_exact_decimals_and_no_formula():
    holders = {
        "b": {"name": "=HYPERLINK(\"http://x\")", "payment": {"iban": IBAN}},
        "a": {"name": "Alice", "payment": {"account_number": "-42", "bank_code": "001", "beneficiary_name": "A, Ltd"}},
        "z": {"name": "Zero", "payment": {}},
    }
    text = payment_file("run-1", "USD", 2, [("b", Decimal("10.5")), ("a", Decimal("3")), ("z", Decimal(0))], holders)

    rows = read_csv(text)
    assert text.startswith("run_id,holder_id,beneficiary_name,iban,account_number,bank_code,amount,currency,reference\r\n")
    assert [(r["holder_id"], r["amount"]) for r in rows] == [("a", "3.00"), ("b", "10.50")]
    assert rows[0]["beneficiary_name"] == "A, Ltd" and rows[0]["account_number"] == "'-42"
    assert rows[1]["beneficiary_name"] == "'=HYPERLINK(\"http://x\")" and rows[1]["reference"] == "run-1"
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row.values())
    assert payment_file_name("r:1") == "payment-file-r-1.csv"


def test_a_notice_names_asset_amount_currency_payment_date_and_share():
    run = {"run_id": "run-1", "currency": "BHD", "record_date": "2025-01-31"}
    line = {"holder_id": "h1", "units": "250", "ownership_percentage": "12.5", "amount": "1.5"}
    notice = build_notice(run, line, {"name": "Alice", "email": "a@example.com"},
                          {"asset_id": "fund-1", "name": "Fund One"}, {"payment_date": "2025-02-15"}, 3)

    assert notice["notice_id"] == "run-1:h1" and notice["status"] == "generated" and notice["email"] == "a@example.com"
    for fact in ("Fund One", "1.500 BHD", "2025-02-15", "12.5%"):
        assert fact in notice["body"]
    assert "email" not in build_notice(run, line, {"name": "B"}, {"asset_id": "f", "name": "F"},
                                       {"payment_date": "2025-02-15"}, 3)


def violations(model, body):
    with pytest.raises(DomainError) as caught:
        parse(model, body)
    return sorted((v.field, v.code) for v in caught.value.violations)


def test_every_bad_field_of_an_asset_is_listed():
    assert violations(AssetIn, {"asset_id": "-x", "name": "", "asset_type": 3, "currency": "XAU",
                                "total_units": Decimal("0.0000001"), "disbursement_ids": ["ok", "no way"],
                                "extra": 1}) == [
        ("asset_id", "invalid-id"), ("asset_type", "invalid-type"), ("currency", "invalid-currency"),
        ("disbursement_ids[1]", "invalid-id"), ("extra", "unknown-field"), ("name", "too-short"),
        ("total_units", "invalid-units")]


def test_holder_iban_check_digits_and_fields():
    assert parse(HolderIn, {"holder_id": "h1", "name": "A", "payment": {"iban": "de89 3704 0044 0532 0130 00"}}
                 ).payment.iban == IBAN
    assert violations(HolderIn, {"holder_id": "h1", "name": "A", "email": "x",
                                 "payment": {"iban": "DE89370400440532013001", "bank": "1"}}) == [
        ("email", "invalid-email"), ("payment.bank", "unknown-field"), ("payment.iban", "invalid-iban")]


def test_position_and_event_rules():
    assert violations(PositionIn, {"holder_id": "h1", "units": Decimal(-1), "effective_date": "2025-02-30"}) == [
        ("effective_date", "invalid-date"), ("units", "out-of-range")]
    assert violations(CashFlowEventIn, {"cash_flow_event_id": "e1", "type": "bonus", "amount": 0, "currency": "usd",
                                        "record_date": "x", "payment_date": "2025-01-01"}) == [
        ("amount", "out-of-range"), ("currency", "invalid-currency"), ("record_date", "invalid-date"),
        ("type", "invalid-value")]
    event = parse(CashFlowEventIn, {"cash_flow_event_id": "e1", "type": "interest", "amount": Decimal("10.005"),
                                    "currency": "USD", "record_date": "2025-02-01", "payment_date": "2025-01-31"})
    assert [(v.field, v.code) for v in event_rules(event, "USD")] == [
        ("amount", "invalid-money"), ("payment_date", "out-of-range")]
    assert [(v.field, v.code) for v in event_rules(event, "EUR")] == [
        ("currency", "currency-mismatch"), ("payment_date", "out-of-range")]
