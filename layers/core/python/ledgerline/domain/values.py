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
from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator, ValidationInfo
from pydantic_core import PydanticCustomError

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
MONEY_MAX = Decimal(10) ** 12
MONEY_PLACES = 4
MAX_TEXT = 1000
INFO_MAX_BYTES = 16 * 1024
INFO_MAX_DEPTH = 5
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?")
# DynamoDB numbers: 38 significant digits, magnitude within 1e-130 .. 1e126.
_DYNAMO_DIGITS = 38
_CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)
_COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)


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


Id = Annotated[str, PlainValidator(parse_id)]


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
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def instant(normalised: str) -> datetime:
    """The moment a normalised date or timestamp stands for (a date is 00:00 UTC that day)."""
    if len(normalised) == 10:
        return datetime.fromisoformat(normalised).replace(tzinfo=UTC)
    return datetime.fromisoformat(normalised.replace("Z", "+00:00"))


def end_of(normalised: str) -> datetime:
    """The first moment after an inclusive upper bound: a date-only bound includes its whole
    day (`2024-06-30` ends at 2024-07-01T00:00:00Z); a timestamp ends just after itself."""
    if len(normalised) == 10:
        return instant(normalised) + timedelta(days=1)
    return instant(normalised) + timedelta(microseconds=1)


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


DateValue = Annotated[str, PlainValidator(_parse_date_field)]


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


Money = Annotated[Decimal, PlainValidator(parse_money)]
PositiveMoney = Annotated[Decimal, PlainValidator(parse_money), AfterValidator(_positive)]


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


Currency = Annotated[str, PlainValidator(_currency)]
Country = Annotated[str, PlainValidator(_country)]
Email = Annotated[str, PlainValidator(_email)]


# text -------------------------------------------------------------------------------------


def text(max_length: int = MAX_TEXT) -> Any:
    """A non-empty string of at most `max_length` characters."""

    def check(value: Any) -> str:
        value = _string(value)
        if not value.strip():
            raise _fail("too-short", "must not be empty")
        if len(value) > max_length:
            raise _fail("too-long", f"must be at most {max_length} characters")
        return value

    return Annotated[str, PlainValidator(check)]


Text = text()


def _reject_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise _fail("invalid-type", "must be an integer")
    return value


PositiveInt = Annotated[int, BeforeValidator(_reject_bool), Field(strict=True, ge=1, le=10_000)]


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


Info = Annotated[dict[str, Any], PlainValidator(_info)]
