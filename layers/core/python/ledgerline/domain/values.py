"""Field types shared by every category: ids, dates, money, codes, text and `info`.

Each type is an `Annotated` pydantic type whose validator raises `PydanticCustomError`
with one of our stable error codes, so the API can list violations in partner terms.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import pycountry
from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
MONEY_MAX = Decimal(10) ** 12
MONEY_PLACES = 4
MAX_TEXT = 1000
INFO_MAX_BYTES = 16 * 1024
INFO_MAX_DEPTH = 5
_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_OFFSET = r"Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]"
_TIMESTAMP = re.compile(rf"[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\.[0-9]{{1,6}})?({_OFFSET})?")
# DynamoDB numbers: 38 significant digits, magnitude within 1e-130 .. 1e126.
_DYNAMO_DIGITS = 38
_CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)
_COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)


# JSON Schema of each type, by name: the published ingest schemas and the OpenAPI document
# refer to them as shared definitions. Patterns are anchored, in the syntax common to
# ECMA-262 and Python.
NAMED_SCHEMAS: dict[str, dict[str, Any]] = {}
NO_NUL = "^[^\\u0000]*$"


def json_schema(name: str, schema: dict[str, Any]) -> WithJsonSchema:
    """Annotate a type with its JSON Schema (the validators are plain functions pydantic cannot describe)."""
    NAMED_SCHEMAS[name] = schema
    return WithJsonSchema(schema)


def _fail(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _fail("invalid-type", "must be a string")
    return value


# ids --------------------------------------------------------------------------------------


def parse_id(value: Any) -> str:
    text = _string(value)
    if not ID_PATTERN.fullmatch(text):
        raise _fail("invalid-id", "must be 1-128 characters of A-Z a-z 0-9 . _ : - starting with a letter or digit")
    return text


Id = Annotated[str, PlainValidator(parse_id), json_schema("Id", {
    "type": "string", "minLength": 1, "maxLength": 128, "pattern": f"^{ID_PATTERN.pattern}$",
    "description": "1-128 characters of A-Z a-z 0-9 . _ : - starting with a letter or digit",
})]


# dates ------------------------------------------------------------------------------------


def parse_when(text: str) -> tuple[str, bool]:
    """Normalise an ISO 8601 date or timestamp: (normalised text, offset_was_missing).

    Date-only stays `YYYY-MM-DD`; a timestamp becomes UTC `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`.
    Raises ValueError for anything else, including impossible calendar dates.
    """
    if _DATE_ONLY.fullmatch(text):
        return date.fromisoformat(text).isoformat(), False
    match = _TIMESTAMP.fullmatch(text)
    if not match:
        raise ValueError(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    missing_offset = match.group(2) is None
    if missing_offset:
        moment = moment.replace(tzinfo=UTC)
    try:
        return format_timestamp(moment), missing_offset
    except OverflowError:  # e.g. 9999-12-31T23:00:00-02:00 is in year 10000 in UTC
        raise ValueError(text) from None


def format_timestamp(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    fraction = f".{utc.microsecond:06d}" if utc.microsecond else ""
    # isoformat, not strftime: strftime writes year 800 as "800", which no reader parses back.
    return utc.replace(tzinfo=None, microsecond=0).isoformat() + fraction + "Z"


def instant(normalised: str) -> datetime:
    """The moment a normalised date or timestamp stands for (a date is 00:00 UTC that day)."""
    if len(normalised) == 10:
        return datetime.fromisoformat(normalised).replace(tzinfo=UTC)
    return datetime.fromisoformat(normalised.replace("Z", "+00:00"))


def end_of(normalised: str) -> datetime:
    """The first moment after an inclusive upper bound: a date-only bound includes its whole
    day (`2024-06-30` ends at 2024-07-01T00:00:00Z); a timestamp ends just after itself."""
    step = timedelta(days=1) if len(normalised) == 10 else timedelta(microseconds=1)
    try:
        return instant(normalised) + step
    except OverflowError:  # a bound on 9999-12-31: the end of time, nothing is stored after it
        return datetime.max.replace(tzinfo=UTC)


def _parse_date_field(value: Any, info: ValidationInfo) -> str:
    text = _string(value)
    try:
        normalised, missing_offset = parse_when(text)
    except ValueError:
        raise _fail(
            "invalid-date", "must be an ISO 8601 date (2024-11-20) or timestamp (2024-10-20T12:34:56Z)"
        ) from None
    if missing_offset and info.context is not None:
        info.context.setdefault("warnings", []).append(
            (info.field_name, "timezone-assumed", "timestamp has no offset; read as UTC")
        )
    return normalised


# Exactly the texts parse_when accepts: real calendar dates (years 0001-9999, leap days
# included), times 00:00:00-23:59:59 with up to 6 fraction digits, an optional offset.
_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
_MONTH_DAY = ("(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
              "|02-(?:0[1-9]|1[0-9]|2[0-8]))")
_LEAP_DAY = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29"
_TIME = rf"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{{1,6}})?(?:{_OFFSET})?"
DATE_OR_TIMESTAMP_PATTERN = rf"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_DAY})(?:{_TIME})?$"

DateValue = Annotated[str, PlainValidator(_parse_date_field), json_schema("Date", {
    "type": "string", "pattern": DATE_OR_TIMESTAMP_PATTERN, "examples": ["2024-11-20", "2024-10-20T12:34:56Z"],
    "description": "ISO 8601 date (2024-11-20) or timestamp (2024-10-20T12:34:56Z, any offset; without one it is "
                   "read as UTC with a warning). A timestamp whose UTC date falls outside years 1-9999 is refused.",
})]


# money ------------------------------------------------------------------------------------


def parse_money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise _fail("invalid-type", "must be a JSON number")
    amount = Decimal(value)
    if not amount.is_finite():
        raise _fail("invalid-money", "must be a finite number (NaN and Infinity are not amounts)")
    if amount < 0 or amount > MONEY_MAX:
        raise _fail("out-of-range", "must be between 0 and 1000000000000")
    stripped = strip_zeros(amount)
    if stripped.as_tuple().exponent < -MONEY_PLACES:
        raise _fail("invalid-money", "must have at most 4 decimal places")
    # Same value, fewer written zeros (1.000000 -> 1, -0 -> 0): a number written with more
    # than 38 digits cannot be stored in DynamoDB, although its value is a fine amount.
    if amount.as_tuple().exponent < -MONEY_PLACES or amount.is_signed():
        return stripped
    return amount


def strip_zeros(number: Decimal) -> Decimal:
    """`number` without trailing zeros and sign of zero, exactly.

    Unlike `Decimal.normalize`, never rounds to the context precision (28 digits), so a value
    such as 1.00000000000000000000000000000001 keeps its last digit.
    """
    sign, digits, exponent = number.as_tuple()
    if not isinstance(exponent, int):  # NaN / Infinity
        return number
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if trailing == len(digits):
        return Decimal(0)
    return Decimal((sign, digits[: len(digits) - trailing], exponent + trailing))


def _positive(amount: Decimal) -> Decimal:
    if amount <= 0:
        raise _fail("out-of-range", "must be greater than 0")
    return amount


_MONEY_RULES = ("kept exactly; at most 4 significant decimal places (trailing zeros do not count); exponent "
                "notation accepted; read back as a plain number")
Money = Annotated[Decimal, PlainValidator(parse_money), json_schema("Money", {
    "type": "number", "minimum": 0, "maximum": int(MONEY_MAX), "description": f"an amount, 0 to 10^12, {_MONEY_RULES}",
})]
PositiveMoney = Annotated[Decimal, PlainValidator(parse_money), AfterValidator(_positive), json_schema("PositiveMoney", {
    "type": "number", "exclusiveMinimum": 0, "maximum": int(MONEY_MAX),
    "description": f"an amount above 0, at most 10^12, {_MONEY_RULES}",
})]


# codes ------------------------------------------------------------------------------------


def _currency(value: Any) -> str:
    text = _string(value)
    if text not in _CURRENCIES:
        raise _fail("invalid-currency", "must be an ISO 4217 alphabetic code such as EUR or USD")
    return text


def _country(value: Any) -> str:
    text = _string(value)
    if text not in _COUNTRIES:
        raise _fail("invalid-country", "must be an ISO 3166-1 alpha-2 code such as DE or BR")
    return text


def _email(value: Any) -> str:
    text = _string(value)
    if len(text) > 254:
        raise _fail("too-long", "must be at most 254 characters")
    # Imported on first use: email_validator compiles its RFC grammar at import, a cold start
    # cost that requests without an e-mail address should not pay.
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise _fail("invalid-email", "must be an email address such as name@example.com") from None
    return text


Currency = Annotated[str, PlainValidator(_currency), json_schema("Currency", {
    "type": "string", "enum": sorted(_CURRENCIES), "description": "ISO 4217 alphabetic code",
})]
Country = Annotated[str, PlainValidator(_country), json_schema("Country", {
    "type": "string", "enum": sorted(_COUNTRIES), "description": "ISO 3166-1 alpha-2 code",
})]
Email = Annotated[str, PlainValidator(_email), json_schema("Email", {
    "type": "string", "format": "email", "maxLength": 254, "pattern": NO_NUL,
    "description": "an email address such as name@example.com (its domain is not looked up)",
})]


# text -------------------------------------------------------------------------------------


# Every character str.strip() removes, spelled out: `\s` means different sets in Python and ECMA-262.
def _character_class(codes: list[int]) -> str:
    """`codes` as the inside of a regex character class, consecutive runs as ranges."""
    runs: list[list[int]] = []
    for code in codes:
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(f"\\u{a:04x}" + (f"-\\u{b:04x}" if b > a else "") for a, b in runs)


_SPACES = _character_class([code for code in range(0x3001) if chr(code).isspace()])


def text(max_length: int = MAX_TEXT) -> Any:
    """A non-empty string of at most `max_length` characters."""

    def check(value: Any) -> str:
        value = _string(value)
        if not value.strip():
            raise _fail("too-short", "must not be empty")
        if len(value) > max_length:
            raise _fail("too-long", f"must be at most {max_length} characters")
        return value

    return Annotated[str, PlainValidator(check), json_schema("Text" if max_length == MAX_TEXT else f"Text{max_length}", {
        "type": "string", "minLength": 1, "maxLength": max_length,
        "pattern": f"^[^\\u0000]*[^\\u0000{_SPACES}][^\\u0000]*$",
        "description": f"text of 1-{max_length} characters, not only whitespace",
    })]


Text = text()


def _whole_number(value: Any) -> Any:
    """JSON has one number type: 2.0 is the integer 2 (as JSON Schema's `integer` says); true is not."""
    if isinstance(value, bool):
        raise _fail("invalid-type", "must be an integer")
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return value


PositiveInt = Annotated[int, BeforeValidator(_whole_number), Field(strict=True, ge=1, le=10_000), json_schema(
    "PositiveInt", {"type": "integer", "minimum": 1, "maximum": 10_000, "description": "a whole number, 1 to 10000"})]


# info -------------------------------------------------------------------------------------


def dynamo_number(number: Decimal) -> bool:
    """Whether DynamoDB can store `number` exactly as written (digits count with trailing zeros)."""
    written = number.as_tuple()
    if len(written.digits) > _DYNAMO_DIGITS:
        return False
    if number:
        # The last digit must stay above boto3's Etiny (Emin -128 - precision 38 + 1).
        return -130 <= number.adjusted() <= 125 and written.exponent >= -165
    return -130 <= written.exponent <= 125  # a zero such as 0E-200 is refused by DynamoDB too


def _check_info_value(value: Any, depth: int) -> None:
    """Walk `info`; `depth` counts the objects and arrays around `value` (info itself is 1)."""
    if isinstance(value, (dict, list)):
        if depth > INFO_MAX_DEPTH:
            raise _fail("too-deep", f"must be nested at most {INFO_MAX_DEPTH} levels deep")
        for item in value.values() if isinstance(value, dict) else value:
            _check_info_value(item, depth + 1)
    elif isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        number = Decimal(value)
        if not number.is_finite():
            raise _fail("invalid-value", "numbers in info must be finite")
        if not dynamo_number(number):
            raise _fail("invalid-value", "numbers in info must have at most 38 digits and a magnitude "
                                         "between 1e-130 and 1e126")


def _info(value: Any) -> dict[str, Any]:
    # Imported here: the canonical JSON encoder lives with the envelope parser.
    from ledgerline.domain.jsonio import dumps

    if not isinstance(value, dict):
        raise _fail("invalid-type", "must be a JSON object")
    _check_info_value(value, 1)
    if len(dumps(value).encode("utf-8")) > INFO_MAX_BYTES:
        raise _fail("too-large", "must serialise to at most 16 KiB")
    return value


def _info_schema(depth: int) -> dict[str, Any]:
    """`info` and its members, one definition per nesting level so the depth limit is part of the schema."""
    names = {"propertyNames": {"minLength": 1, "pattern": NO_NUL}}
    if depth == 1:
        schema = {"type": "object", **names, "additionalProperties": _info_schema(2),
                  "description": f"a free JSON object, at most {INFO_MAX_BYTES // 1024} KiB serialised and nested "
                                 f"at most {INFO_MAX_DEPTH} levels deep; member names non-empty; numbers finite "
                                 "with at most 38 digits"}
        NAMED_SCHEMAS["Info"] = schema
        return schema
    scalars = ["string", "number", "boolean", "null"]
    if depth > INFO_MAX_DEPTH:
        schema = {"type": scalars, "pattern": NO_NUL}
    else:
        inner = _info_schema(depth + 1)
        schema = {"type": [*scalars, "array", "object"], "pattern": NO_NUL, "items": inner, **names,
                  "additionalProperties": inner}
    NAMED_SCHEMAS[f"InfoValue{depth}"] = schema
    return schema


Info = Annotated[dict[str, Any], PlainValidator(_info), WithJsonSchema(_info_schema(1))]
