"""The holder import: a CSV file checked whole before anything is written.

Header (any order, any subset that includes `holder_id`):
`holder_id,name,email,tax_id,iban,account_number,bank_code,beneficiary_name,units`.
Row N is the file's line number where the record starts, the header being row 1. An empty
cell leaves that field as it is; a new holder needs a name. Every bad row is listed as
`row N: field`, and one bad row refuses the whole file. A file holds at most `MAX_ROWS`
holders, so that applying it stays well inside the function's time limit (docs/performance.md);
a larger register is imported as several files.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ledgerline.domain.distributions.models import AccountText, Iban, ShortText, Units
from ledgerline.domain.errors import DomainError, Violation, validation_error
from ledgerline.domain.values import Email, Id

COLUMNS = ("holder_id", "name", "email", "tax_id", "iban", "account_number", "bank_code", "beneficiary_name", "units")
MAX_ROWS = 2_000
PAYMENT_COLUMNS = ("iban", "account_number", "bank_code", "beneficiary_name")
_CELL_TYPES: dict[str, TypeAdapter[Any]] = {
    "holder_id": TypeAdapter(Id),
    "name": TypeAdapter(ShortText),
    "email": TypeAdapter(Email),
    "tax_id": TypeAdapter(AccountText),
    "iban": TypeAdapter(Iban),
    "account_number": TypeAdapter(AccountText),
    "bank_code": TypeAdapter(AccountText),
    "beneficiary_name": TypeAdapter(ShortText),
    "units": TypeAdapter(Units),
}


@dataclass(frozen=True)
class HolderRow:
    """One line of the file: the holder and only the fields its non-empty cells set."""

    row: int
    holder_id: str
    fields: dict[str, Any] = field(default_factory=dict)  # name, email, tax_id
    payment: dict[str, str] = field(default_factory=dict)
    units: Decimal | None = None


def parse_holders_csv(content: bytes, existing_holder_ids: set[str]) -> list[HolderRow]:
    """Every row of the file, or one 422 listing every bad row."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse([Violation("row 1", "invalid-encoding", "the file must be UTF-8 text")]) from None
    if "\x00" in text:
        raise _refuse([Violation("row 1", "invalid-characters", "the file must not contain U+0000")])
    records = _records(text)
    if not records:
        raise _refuse([Violation("row 1", "missing-header", f"the file is empty; its first line must be the header "
                                                            f"{','.join(COLUMNS)}")])
    header_row, header = records[0]
    columns = [name.strip() for name in header]
    violations = _header_violations(columns)
    if violations:
        raise _refuse(violations)
    if len(records) - 1 > MAX_ROWS:
        raise _refuse([Violation(f"row {records[MAX_ROWS + 1][0]}", "too-many-rows",
                                 f"the file has {len(records) - 1} holders; a file holds at most {MAX_ROWS}: "
                                 f"split it into several files (each is applied on its own)")])
    rows: list[HolderRow] = []
    seen: dict[str, int] = {}
    for number, cells in records[1:]:
        if len(cells) != len(columns):
            violations.append(Violation(f"row {number}", "wrong-cell-count",
                                        f"has {len(cells)} cells; the header has {len(columns)}"))
            continue
        row, row_violations = _row(number, dict(zip(columns, cells)), existing_holder_ids)
        holder_id = cells[columns.index("holder_id")].strip()
        if holder_id and holder_id in seen:
            row_violations.append(Violation(f"row {number}: holder_id", "duplicate",
                                            f"holder {holder_id} is already on row {seen[holder_id]}"))
        seen.setdefault(holder_id, number)
        violations.extend(row_violations)
        if row is not None and not row_violations:
            rows.append(row)
    if violations:
        raise _refuse(violations)
    return rows


def _records(text: str) -> list[tuple[int, list[str]]]:
    """(line number where the record starts, cells) for each non-blank record."""
    lines = io.StringIO(text, newline="")
    reader = csv.reader(lines, strict=True)
    records = []
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as error:
        raise _refuse([Violation(f"row {start}", "invalid-csv", str(error))]) from None
    return records


def _header_violations(columns: list[str]) -> list[Violation]:
    found = []
    for column in columns:
        if column not in COLUMNS:
            found.append(Violation(f"row 1: {column}", "unknown-column",
                                   f"is not a column of the holder file ({','.join(COLUMNS)})"))
        elif columns.count(column) > 1:
            found.append(Violation(f"row 1: {column}", "duplicate-column", "appears more than once"))
    if "holder_id" not in columns:
        found.append(Violation("row 1: holder_id", "missing-header",
                               f"the first line must be the header {','.join(COLUMNS)}"))
    return list(dict.fromkeys(found))


def _row(number: int, cells: dict[str, str], existing: set[str]) -> tuple[HolderRow | None, list[Violation]]:
    values: dict[str, Any] = {}
    violations = []
    for column, raw in cells.items():
        cell = raw.strip()
        if not cell:
            continue
        if column == "units" and not _is_number(cell):
            violations.append(Violation(f"row {number}: units", "invalid-units", "must be a number such as 1500.25"))
            continue
        try:
            values[column] = _CELL_TYPES[column].validate_python(Decimal(cell) if column == "units" else cell)
        except ValidationError as error:
            problem = error.errors(include_url=False)[0]
            violations.append(Violation(f"row {number}: {column}", problem["type"], problem["msg"]))
    holder_id = values.get("holder_id")
    if "holder_id" not in values and not any(v.field == f"row {number}: holder_id" for v in violations):
        violations.append(Violation(f"row {number}: holder_id", "required", "is required"))
    elif holder_id is not None and holder_id not in existing and "name" not in values \
            and not cells.get("name", "").strip():
        violations.append(Violation(f"row {number}: name", "required", "is required for a new holder"))
    if violations or holder_id is None:
        return None, violations
    row = HolderRow(
        row=number,
        holder_id=holder_id,
        fields={name: values[name] for name in ("name", "email", "tax_id") if name in values},
        payment={name: values[name] for name in PAYMENT_COLUMNS if name in values},
        units=values.get("units"),
    )
    return row, []


def _is_number(cell: str) -> bool:
    """Whether a cell is a finite decimal number (`1,000`, `NaN` and `1e3x` are not)."""
    try:
        return Decimal(cell).is_finite()
    except InvalidOperation:
        return False


def _refuse(violations: list[Violation]) -> DomainError:
    error = validation_error(violations)
    error.detail = f"The file has {len(violations)} problem{'s' if len(violations) != 1 else ''}; nothing was imported."
    return error
