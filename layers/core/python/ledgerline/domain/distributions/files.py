"""Exported files: the bank payment file, CSV cells safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ledgerline.domain.distributions.money import format_amount

PAYMENT_FILE_COLUMNS = ("run_id", "holder_id", "beneficiary_name", "iban", "account_number", "bank_code", "amount",
                        "currency", "reference")
# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """`value`, with a leading apostrophe when a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """RFC 4180 CSV (CRLF line ends, quotes only where needed), every cell escaped."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def payment_file(
    run_id: str,
    currency: str,
    exponent: int,
    lines: Iterable[tuple[str, Decimal]],
    holders: Mapping[str, Mapping[str, Any]],
) -> str:
    """One row per line with an amount > 0, by holder_id, with the holders' current payment details."""
    rows = []
    for holder_id, amount in sorted(lines):
        if amount <= 0:
            continue
        holder = holders[holder_id]
        payment = holder.get("payment") or {}
        rows.append([
            run_id,
            holder_id,
            payment.get("beneficiary_name") or holder.get("name", ""),
            payment.get("iban", ""),
            payment.get("account_number", ""),
            payment.get("bank_code", ""),
            format_amount(amount, exponent),
            currency,
            run_id,
        ])
    return csv_text(PAYMENT_FILE_COLUMNS, rows)


def payment_file_name(run_id: str) -> str:
    """A file name safe in a Content-Disposition header (ids are already A-Z a-z 0-9 . _ : -)."""
    return f"payment-file-{run_id.replace(':', '-')}.csv"
