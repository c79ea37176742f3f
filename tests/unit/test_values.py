"""Field types shared by every category (docs/ingest.md, field types): ids, dates, money, codes, text, info.

Each test reads Given / When / Then: the input, the call, and the stable error code (or the
normalised value) partners are promised.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from ledgerline.domain import jsonio
from ledgerline.domain.values import (
    INFO_MAX_BYTES,
    Country,
    Currency,
    DateValue,
    Email,
    Id,
    Info,
    PositiveMoney,
    instant,
    parse_money,
    parse_when,
    text,
)


def code_of(annotated: Any, value: Any) -> str:
    """The error code a field type gives `value` (fails when the value is accepted)."""
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(annotated).validate_python(value)
    (error,) = caught.value.errors()
    return error["type"]


def accept(annotated: Any, value: Any) -> Any:
    return TypeAdapter(annotated).validate_python(value)


# ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["C1", "a", "7", "loan.2024:10_a-b", "A" * 128, "0-0", "x:y:z"])
def test_given_a_well_formed_id_when_parsed_then_it_is_kept_as_is(value):
    assert accept(Id, value) == value


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("a#b", id="hash-key-separator"),
        pytest.param("../x", id="path-traversal"),
        pytest.param("-a", id="leading-dash"),
        pytest.param("_a", id="leading-underscore"),
        pytest.param(".a", id="leading-dot"),
        pytest.param(":a", id="leading-colon"),
        pytest.param("A" * 129, id="129-chars"),
        pytest.param("", id="empty"),
        pytest.param("a b", id="space"),
        pytest.param("a/b", id="slash"),
        pytest.param("a~b", id="tilde-row-separator"),
        pytest.param("a\nb", id="newline"),
        pytest.param("C1\n", id="trailing-newline"),
        pytest.param("café", id="non-ascii"),
        pytest.param("١٢", id="arabic-digits"),
        pytest.param("T#t2#clients#C1", id="other-tenant-key"),
    ],
)
def test_given_an_id_outside_the_pattern_when_parsed_then_invalid_id(value):
    assert code_of(Id, value) == "invalid-id"


@pytest.mark.parametrize("value", [5, None, ["C1"], {"id": "C1"}, True])
def test_given_an_id_that_is_not_a_string_when_parsed_then_invalid_type(value):
    assert code_of(Id, value) == "invalid-type"


# dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_text", "normalised", "offset_missing"),
    [
        ("2024-11-20", "2024-11-20", False),
        ("2024-02-29", "2024-02-29", False),
        ("2024-10-20T12:34:56Z", "2024-10-20T12:34:56Z", False),
        ("2024-10-20T12:34:56+00:00", "2024-10-20T12:34:56Z", False),
        ("2024-10-20T12:34:56+02:00", "2024-10-20T10:34:56Z", False),
        ("2024-10-20T23:30:00-02:00", "2024-10-21T01:30:00Z", False),
        ("2024-01-01T00:30:00+05:30", "2023-12-31T19:00:00Z", False),
        ("2024-10-20T12:34:56.5Z", "2024-10-20T12:34:56.500000Z", False),
        ("2024-10-20T12:34:56.123456-01:00", "2024-10-20T13:34:56.123456Z", False),
        ("2024-10-20T12:34:56.000000Z", "2024-10-20T12:34:56Z", False),
        ("2024-10-20T12:34:56", "2024-10-20T12:34:56Z", True),
    ],
)
def test_given_a_date_or_timestamp_when_parsed_then_it_is_normalised_to_utc(given_text, normalised, offset_missing):
    assert parse_when(given_text) == (normalised, offset_missing)


def test_given_a_timestamp_before_year_1000_when_parsed_then_its_year_keeps_four_digits():
    normalised, _ = parse_when("0800-02-29T10:07:28.8495Z")
    assert normalised == "0800-02-29T10:07:28.849500Z"
    assert instant(normalised) == datetime(800, 2, 29, 10, 7, 28, 849500, tzinfo=UTC)
    assert parse_when("0099-01-01T00:30:00+01:00")[0] == "0098-12-31T23:30:00Z"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("2023-02-29", id="not-a-leap-year"),
        pytest.param("2024-02-30", id="february-30"),
        pytest.param("2024-04-31", id="april-31"),
        pytest.param("2024-13-01", id="month-13"),
        pytest.param("2024-00-10", id="month-0"),
        pytest.param("0000-01-01", id="year-0"),
        pytest.param("2024-10-20T24:00:00Z", id="hour-24"),
        pytest.param("2024-10-20T12:60:00Z", id="minute-60"),
        pytest.param("2023-02-29T10:00:00Z", id="timestamp-on-impossible-day"),
        pytest.param("2024-10-20 12:34:56Z", id="space-separator"),
        pytest.param("20241020", id="basic-format"),
        pytest.param("2024-1-2", id="unpadded"),
        pytest.param("20/10/2024", id="european"),
        pytest.param("2024-10-20T12:34:56.1234567Z", id="seven-fraction-digits"),
        pytest.param("2024-10-20T12:34:56+25:00", id="offset-25h"),
        pytest.param("2024-10-20T12:34:56+05:99", id="offset-minute-99"),
        pytest.param("2024-10-20T12:34:56+05:60", id="offset-minute-60"),
        pytest.param("\uff12\uff10\uff12\uff14-10-20", id="full-width-digits"),
        pytest.param("2024-10-20Z", id="date-with-zone"),
        pytest.param("9999-12-31T23:00:00-02:00", id="utc-in-year-10000"),
        pytest.param("0001-01-01T00:30:00+01:00", id="utc-in-year-0"),
        pytest.param("", id="empty"),
        pytest.param("tomorrow", id="words"),
    ],
)
def test_given_an_impossible_or_malformed_date_when_parsed_then_it_is_rejected(value):
    with pytest.raises(ValueError):
        parse_when(value)
    assert code_of(DateValue, value) == "invalid-date"


@pytest.mark.parametrize("value", [20241020, None, ["2024-10-20"], True])
def test_given_a_date_that_is_not_a_string_when_parsed_then_invalid_type(value):
    assert code_of(DateValue, value) == "invalid-type"


def test_given_a_date_only_value_when_compared_then_it_is_midnight_utc_of_that_day():
    assert instant("2024-10-20") == datetime(2024, 10, 20, tzinfo=UTC)
    assert instant("2024-10-20") == instant("2024-10-20T00:00:00Z")
    assert instant("2024-10-20") < instant("2024-10-20T00:00:00.000001Z")
    assert instant("2024-10-20") > instant("2024-10-19T23:59:59Z")


# money ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, Decimal(0)),
        (1, Decimal(1)),
        (10**12, Decimal(10**12)),
        (Decimal("1E+12"), Decimal(10**12)),
        (Decimal("1293.50"), Decimal("1293.50")),
        (Decimal("0.0001"), Decimal("0.0001")),
        (Decimal("999999999999.9999"), Decimal("999999999999.9999")),
        (Decimal("12.300000"), Decimal("12.3")),  # extra zeros are not extra places
        (Decimal("1." + "0" * 45), Decimal(1)),  # written with 46 digits, still the amount 1
        (Decimal("-0"), Decimal(0)),
    ],
)
def test_given_an_exact_amount_when_parsed_then_its_value_is_kept_exactly(value, expected):
    parsed = parse_money(value)
    assert parsed == expected
    assert isinstance(parsed, Decimal)
    assert not parsed.is_signed()


@pytest.mark.parametrize(
    ("value", "code"),
    [
        pytest.param(Decimal("NaN"), "invalid-money", id="nan"),
        pytest.param(Decimal("Infinity"), "invalid-money", id="infinity"),
        pytest.param(Decimal("-Infinity"), "invalid-money", id="minus-infinity"),
        pytest.param(Decimal("1.00001"), "invalid-money", id="five-places"),
        pytest.param(Decimal("0.00001"), "invalid-money", id="tiny"),
        pytest.param(Decimal("1.00000000000000000000000000000001"), "invalid-money", id="32-places-no-rounding"),
        pytest.param(Decimal("1E-5"), "invalid-money", id="exponent-places"),
        pytest.param(-1, "out-of-range", id="negative"),
        pytest.param(Decimal("-0.01"), "out-of-range", id="negative-cent"),
        pytest.param(10**12 + 1, "out-of-range", id="above-10-12"),
        pytest.param(Decimal("1000000000000.0001"), "out-of-range", id="just-above-10-12"),
        pytest.param(Decimal("1E+13"), "out-of-range", id="exponent-above"),
        pytest.param("10.00", "invalid-type", id="string"),
        pytest.param("NaN", "invalid-type", id="string-nan"),
        pytest.param(True, "invalid-type", id="bool-true"),
        pytest.param(False, "invalid-type", id="bool-false"),
        pytest.param(10.5, "invalid-type", id="binary-float"),
        pytest.param(None, "invalid-type", id="null"),
        pytest.param([1], "invalid-type", id="array"),
        pytest.param({"amount": 1}, "invalid-type", id="object"),
    ],
)
def test_given_a_value_that_is_not_an_amount_when_parsed_then_the_money_code_says_why(value, code):
    with pytest.raises(Exception) as caught:
        parse_money(value)
    assert caught.value.type == code


@pytest.mark.parametrize(("value", "code"), [(0, "out-of-range"), (Decimal("0.0000"), "out-of-range"),
                                             (Decimal("-5"), "out-of-range"), (Decimal("0.0001"), None)])
def test_given_positive_money_when_zero_or_less_then_out_of_range(value, code):
    if code is None:
        assert accept(PositiveMoney, value) == value
    else:
        assert code_of(PositiveMoney, value) == code


PLACES = st.integers(min_value=0, max_value=10**16).map(lambda n: Decimal(n).scaleb(-4))
AMOUNTS = st.one_of(
    st.decimals(min_value=0, max_value=10**12, places=4, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=0, max_value=10**12, places=0, allow_nan=False, allow_infinity=False),
    PLACES.filter(lambda d: d <= 10**12),
    st.integers(min_value=0, max_value=10**12),
)


@given(AMOUNTS)
def test_property_any_amount_with_at_most_4_places_in_range_round_trips_exactly(amount):
    # Given an amount as a partner would send it, When it is parsed, written and read back as JSON
    parsed = parse_money(amount)
    again = jsonio.loads(jsonio.dumps({"amount": parsed}))["amount"]
    # Then the value never changes: no binary float on the way
    assert parsed == Decimal(amount)
    assert not isinstance(again, float)
    assert parse_money(again) == parsed
    assert jsonio.dumps(parse_money(again)) == jsonio.dumps(parsed)


@given(
    st.integers(min_value=1, max_value=10**20),
    st.integers(min_value=5, max_value=30),
)
def test_property_more_than_4_places_is_invalid_money(units, places):
    value = Decimal(units).scaleb(-places)
    if value.normalize().as_tuple().exponent >= -4 or value > 10**12:
        return  # trailing zeros only, or too big (covered below)
    with pytest.raises(Exception) as caught:
        parse_money(value)
    assert caught.value.type == "invalid-money"


@given(st.one_of(
    st.decimals(min_value=Decimal("1000000000000.0001"), allow_nan=False, allow_infinity=False, places=4),
    st.decimals(max_value=Decimal("-0.0001"), allow_nan=False, allow_infinity=False, places=4),
    st.integers(min_value=10**12 + 1),
    st.integers(max_value=-1),
))
def test_property_amounts_outside_0_to_10_12_are_out_of_range(value):
    with pytest.raises(Exception) as caught:
        parse_money(value)
    assert caught.value.type == "out-of-range"


# codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["EUR", "USD", "BRL", "JPY", "CHF"])
def test_given_an_iso_4217_code_when_parsed_then_accepted(value):
    assert accept(Currency, value) == value


@pytest.mark.parametrize("value", ["eur", "EURO", "EU", "ABC", "", " EUR", "€"])
def test_given_an_unknown_currency_when_parsed_then_invalid_currency(value):
    assert code_of(Currency, value) == "invalid-currency"


@pytest.mark.parametrize("value", ["DE", "BR", "US", "PT"])
def test_given_an_iso_3166_alpha_2_code_when_parsed_then_accepted(value):
    assert accept(Country, value) == value


@pytest.mark.parametrize("value", ["de", "DEU", "XX", "ZZ", "", "UK"])
def test_given_an_unknown_country_when_parsed_then_invalid_country(value):
    assert code_of(Country, value) == "invalid-country"


@pytest.mark.parametrize("value", [49, None, ["EUR"]])
def test_given_a_code_that_is_not_a_string_when_parsed_then_invalid_type(value):
    assert code_of(Currency, value) == "invalid-type"
    assert code_of(Country, value) == "invalid-type"


@pytest.mark.parametrize("value", ["ada@example.com", "a.b+tag@sub.example.co.uk"])
def test_given_an_email_address_when_parsed_then_accepted(value):
    assert accept(Email, value) == value


@pytest.mark.parametrize("value", ["ada", "ada@", "@example.com", "ada@@example.com", "ada example@x.com", ""])
def test_given_something_that_is_not_an_email_when_parsed_then_invalid_email(value):
    assert code_of(Email, value) == "invalid-email"


def test_given_an_email_longer_than_254_when_parsed_then_too_long():
    assert code_of(Email, "a" * 250 + "@x.io") == "too-long"


# text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "length", "code"), [
    (1000, 1000, None), (1000, 1001, "too-long"), (200, 200, None), (200, 201, "too-long"),
    (500, 500, None), (500, 501, "too-long"),
])
def test_given_text_at_and_beyond_its_limit_when_parsed_then_only_beyond_is_too_long(limit, length, code):
    value = "é" * length  # characters, not bytes
    if code is None:
        assert accept(text(limit), value) == value
    else:
        assert code_of(text(limit), value) == code


@pytest.mark.parametrize(("value", "code"), [("", "too-short"), ("   ", "too-short"), (5, "invalid-type"),
                                             (None, "invalid-type"), (["a"], "invalid-type")])
def test_given_empty_or_non_string_text_when_parsed_then_it_is_refused(value, code):
    assert code_of(text(), value) == code


# info -------------------------------------------------------------------------------------


def nested(depth: int) -> dict[str, Any]:
    """An info object `depth` levels deep (the info object itself is level 1)."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def test_given_info_5_levels_deep_when_parsed_then_accepted():
    assert accept(Info, nested(5)) == nested(5)
    assert accept(Info, {"a": [[[{"b": 1}]]]}) == {"a": [[[{"b": 1}]]]}  # arrays count as levels


@pytest.mark.parametrize("value", [nested(6), {"a": [[[[[1]]]]]}, {"a": [[[{"b": {}}]]]}])
def test_given_info_6_levels_deep_when_parsed_then_too_deep(value):
    assert code_of(Info, value) == "too-deep"


def sized(size: int) -> dict[str, str]:
    """An info object that serialises to exactly `size` bytes: {"k":"xxx..."}."""
    return {"k": "x" * (size - len('{"k":""}'))}


def test_given_info_of_exactly_16_kib_when_parsed_then_accepted_and_one_byte_more_is_too_large():
    assert len(jsonio.dumps(sized(INFO_MAX_BYTES)).encode()) == INFO_MAX_BYTES
    assert accept(Info, sized(INFO_MAX_BYTES))
    assert code_of(Info, sized(INFO_MAX_BYTES + 1)) == "too-large"


def test_given_info_with_multibyte_characters_when_measured_then_bytes_count_not_characters():
    value = {"k": "€" * 6000}  # 6,000 characters, 18,000 bytes
    assert code_of(Info, value) == "too-large"


@pytest.mark.parametrize("value", [[1, 2], "text", 5, True, None])
def test_given_info_that_is_not_an_object_when_parsed_then_invalid_type(value):
    assert code_of(Info, value) == "invalid-type"


@pytest.mark.parametrize("value", [
    pytest.param({"n": Decimal("NaN")}, id="nan"),
    pytest.param({"n": Decimal("Infinity")}, id="infinity"),
    pytest.param({"n": [Decimal("-Infinity")]}, id="nested-infinity"),
    pytest.param({"n": Decimal("1" * 39)}, id="39-digits"),
    pytest.param({"n": Decimal("1." + "0" * 45)}, id="46-written-digits"),
    pytest.param({"n": 10**41}, id="big-int"),
    pytest.param({"n": Decimal("1E+200")}, id="huge-exponent"),
    pytest.param({"n": Decimal("0E-200")}, id="zero-tiny-exponent"),
])
def test_given_info_numbers_that_cannot_be_stored_exactly_when_parsed_then_invalid_value(value):
    assert code_of(Info, value) == "invalid-value"


def test_given_info_with_any_json_values_when_parsed_then_kept_unchanged():
    value = {"score": Decimal("0.731"), "tags": ["a", "b"], "ok": True, "none": None, "n": 38, "s": ""}
    assert accept(Info, value) == value


# JSON text --------------------------------------------------------------------------------


def test_given_json_with_fractions_when_loaded_then_they_are_decimals_never_floats():
    assert jsonio.loads('{"a": 0.1, "b": 1e2, "c": 3}') == {"a": Decimal("0.1"), "b": Decimal("1e2"), "c": 3}
    assert isinstance(jsonio.loads("0.1"), Decimal)


def test_given_nan_and_infinity_as_raw_json_text_when_loaded_then_non_finite_decimals_reach_the_money_rule():
    loaded = jsonio.loads('{"a": NaN, "b": Infinity, "c": -Infinity}')
    assert all(isinstance(v, Decimal) and not v.is_finite() for v in loaded.values())


@pytest.mark.parametrize("raw", [
    pytest.param('{"a": 1, "a": 2}', id="duplicate-key"),
    pytest.param('{"d": {"x": 1, "x": 1}}', id="duplicate-nested-key"),
    pytest.param('{"a": "\\ud800"}', id="lone-surrogate-value"),
    pytest.param('{"\\udfff": 1}', id="lone-surrogate-key"),
    pytest.param("[" * 33 + "]" * 33, id="nested-33"),
    pytest.param("[" * 100_000 + "]" * 100_000, id="nested-100000"),
    pytest.param('{"a": 1', id="truncated"),
    pytest.param("", id="empty"),
])
def test_given_unusable_json_text_when_loaded_then_value_error(raw):
    with pytest.raises(ValueError):
        jsonio.loads(raw)


def test_given_json_32_levels_deep_or_surrogate_pairs_when_loaded_then_accepted():
    assert jsonio.loads("[" * 32 + "]" * 32)
    assert jsonio.loads('"\\ud83d\\ude00"') == "😀"


# properties of dates ----------------------------------------------------------------------

DAYS = st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31))
TIMES = st.times()
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60)


def iso_offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def stamp(day: date, at: time, offset_minutes: int | None) -> str:
    fraction = f".{at.microsecond:06d}" if at.microsecond else ""
    zone = "" if offset_minutes is None else iso_offset(offset_minutes)
    return f"{day.isoformat()}T{at.strftime('%H:%M:%S')}{fraction}{zone}"


@given(DAYS)
def test_property_a_date_only_value_is_0000z_of_that_day(day):
    normalised, missing = parse_when(day.isoformat())
    assert (normalised, missing) == (day.isoformat(), False)
    assert instant(normalised) == datetime.combine(day, time(0), tzinfo=UTC)


@given(DAYS, TIMES)
def test_property_timestamps_later_on_the_same_utc_day_sort_after_the_date(day, at):
    normalised, _ = parse_when(stamp(day, at, 0))
    if at == time(0):
        assert instant(normalised) == instant(day.isoformat())
    else:
        assert instant(normalised) > instant(day.isoformat())
        assert instant(normalised) < instant((day + timedelta(days=1)).isoformat())


@given(DAYS, TIMES, st.one_of(st.none(), OFFSETS))
def test_property_normalisation_is_idempotent_and_keeps_the_moment(day, at, offset):
    text_in = stamp(day, at, offset)
    normalised, missing = parse_when(text_in)
    assert missing is (offset is None)
    assert normalised.endswith("Z")
    # normalising again changes nothing and needs no assumption
    assert parse_when(normalised) == (normalised, False)
    # the instant is the same moment as the partner's text
    zone = timezone(timedelta(minutes=offset or 0))
    assert instant(normalised) == datetime.combine(day, at, tzinfo=zone)


@given(DAYS, TIMES, OFFSETS, DAYS, TIMES, OFFSETS)
def test_property_instants_order_like_the_moments_they_stand_for(d1, t1, o1, d2, t2, o2):
    a = datetime.combine(d1, t1, tzinfo=timezone(timedelta(minutes=o1)))
    b = datetime.combine(d2, t2, tzinfo=timezone(timedelta(minutes=o2)))
    na, _ = parse_when(stamp(d1, t1, o1))
    nb, _ = parse_when(stamp(d2, t2, o2))
    assert (instant(na) < instant(nb)) == (a < b)
    assert (instant(na) == instant(nb)) == (a == b)


def _written(amount: Decimal, form: str, zeros: int) -> str:
    """One way a partner may write `amount` in JSON: plain, with trailing zeros, or with an exponent."""
    plain = format(amount, "f")
    if form == "plain":
        return plain
    if form == "zeros":
        return plain + ("" if "." in plain else ".") + "0" * max(zeros, 1)
    return f"{amount.scaleb(-zeros):f}E{zeros:+d}" if zeros else f"{amount:E}"


PLAIN_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")


@given(AMOUNTS, st.sampled_from(["plain", "zeros", "exponent"]), st.integers(min_value=0, max_value=8))
def test_property_every_accepted_amount_is_written_back_as_a_plain_exact_number(amount, form, zeros):
    # Given an accepted amount written as the partner likes (10000.000000, 1E+3, 12.5e0 ...)
    text = _written(Decimal(amount), form, zeros)
    parsed = parse_money(jsonio.loads(f'{{"amount": {text}}}')["amount"])
    # When it is written back as JSON
    written = jsonio.dumps({"amount": parsed})
    number = written[len('{"amount":'):-1]
    # Then it is a plain JSON number, without exponent, of exactly the same value
    assert PLAIN_NUMBER.fullmatch(number), (text, number)
    assert Decimal(number) == Decimal(amount)


@pytest.mark.parametrize(("sent", "read_back"), [("10000.000000", "10000"), ("1000.00000", "1000"),
                                                 ("1E+3", "1000"), ("1e4", "10000"), ("12.50", "12.50"),
                                                 ("0.0001", "0.0001"), ("1E-4", "0.0001")])
def test_money_in_exponent_or_with_trailing_zeros_is_read_back_plain(sent, read_back):
    parsed = parse_money(jsonio.loads(f'{{"amount": {sent}}}')["amount"])
    assert jsonio.dumps({"amount": parsed}) == f'{{"amount":{read_back}}}'
