"""The rounding rule (docs/distributions.md): exact minor units, largest remainders, ties to the smaller holder_id."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerline.domain.distributions.money import (
    fits_currency,
    format_amount,
    minor_unit_exponent,
    parse_units,
)
from ledgerline.domain.distributions.prorata import allocate, ownership_percentage


def amounts(lines):
    return {line.holder_id: line.amount for line in lines}


def test_three_equal_holders_share_a_cent_left_over_by_the_smaller_holder_id():
    allocation = allocate(Decimal("100.00"), 2, {"b": Decimal(1), "c": Decimal(1), "a": Decimal(1)})

    assert amounts(allocation.lines) == {"a": Decimal("33.34"), "b": Decimal("33.33"), "c": Decimal("33.33")}
    assert [line.ownership_percentage for line in allocation.lines] == [Decimal("33.333333")] * 3
    assert allocation.total_units == 3


def test_left_over_minor_units_go_to_the_largest_remainders_first():
    # 1000 cents over 1 / 2 / 4 units: exact shares 142.857, 285.714, 571.428 cents;
    # floors 142 + 285 + 571 = 998; the 2 cents left go to the remainders .857 (h1) and .714 (h2).
    allocation = allocate(Decimal("10.00"), 2, {"h1": Decimal(1), "h2": Decimal(2), "h4": Decimal(4)})

    assert amounts(allocation.lines) == {"h1": Decimal("1.43"), "h2": Decimal("2.86"), "h4": Decimal("5.71")}


def test_holders_without_units_are_left_out_and_lines_are_ordered_by_holder_id():
    allocation = allocate(Decimal("7"), 0, {"z": Decimal("2.5"), "empty": Decimal(0), "a": Decimal("0.000001")})

    assert [line.holder_id for line in allocation.lines] == ["a", "z"]
    assert sum(amounts(allocation.lines).values()) == 7
    assert amounts(allocation.lines)["a"] == 0  # a tiny holder may round to nothing (a zero-amount-line warning)


def test_three_decimal_currency_splits_to_the_fils():
    allocation = allocate(Decimal("1.000"), 3, {"a": Decimal(1), "b": Decimal(2)})

    assert amounts(allocation.lines) == {"a": Decimal("0.333"), "b": Decimal("0.667")}


def test_no_holder_with_units_is_refused():
    with pytest.raises(ValueError):
        allocate(Decimal("1.00"), 2, {"a": Decimal(0)})


def test_ownership_percentage_has_six_decimals_rounded_half_to_even():
    assert ownership_percentage(1, 3) == Decimal("33.333333")
    assert ownership_percentage(2, 3) == Decimal("66.666667")
    assert ownership_percentage(1, 16_000_000) == Decimal("0.000006")  # 0.00000625 -> even
    assert ownership_percentage(3, 16_000_000) == Decimal("0.000019")  # 0.00001875 -> up
    assert str(ownership_percentage(1, 1)) == "100.000000"


@pytest.mark.parametrize(("currency", "exponent"), [("USD", 2), ("EUR", 2), ("JPY", 0), ("BHD", 3), ("KWD", 3),
                                                    ("CLF", 4), ("IQD", 3), ("XAU", None), ("ZZZ", None)])
def test_minor_unit_is_the_iso_4217_exponent(currency, exponent):
    assert minor_unit_exponent(currency) == exponent


def test_amounts_must_fit_the_minor_unit():
    assert fits_currency(Decimal("10.25"), "USD")
    assert fits_currency(Decimal("10.2500"), "USD")  # trailing zeros do not count
    assert not fits_currency(Decimal("10.255"), "USD")
    assert not fits_currency(Decimal("10.5"), "JPY")
    assert fits_currency(Decimal("1E+3"), "JPY")
    assert not fits_currency(Decimal("1"), "XAU")


def test_amounts_are_written_with_exactly_the_currency_decimals_never_in_exponent_form():
    assert format_amount(Decimal("12.3"), 2) == "12.30"
    assert format_amount(Decimal("1E+3"), 0) == "1000"
    assert format_amount(Decimal("0"), 3) == "0.000"


def test_units_have_at_most_six_decimals_and_are_stored_plain():
    assert parse_units(Decimal("1.500000")) == Decimal("1.5")
    assert str(parse_units(Decimal("1E+3"))) == "1000"
    for bad in (Decimal("1.0000001"), Decimal("-1"), Decimal("NaN"), "1", True, 1.5):
        with pytest.raises(ValueError):
            parse_units(bad)


CURRENCIES = {"JPY": 0, "USD": 2, "BHD": 3}


@st.composite
def distributions(draw):
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    exponent = CURRENCIES[currency]
    minor = draw(st.integers(min_value=1, max_value=10**12 * 10**exponent))
    holders = draw(st.dictionaries(
        st.text("abcdefgh0123456789", min_size=1, max_size=6),
        st.integers(min_value=0, max_value=10**15).map(lambda micro: Decimal(micro).scaleb(-6)),
        min_size=1, max_size=40,
    ).filter(lambda held: any(units > 0 for units in held.values())))
    return currency, Decimal(minor).scaleb(-exponent), holders


@settings(max_examples=300, deadline=None)
@given(distributions())
def test_lines_sum_exactly_each_within_one_minor_unit_of_its_share_and_deterministic(case):
    currency, amount, holders = case
    exponent = CURRENCIES[currency]
    allocation = allocate(amount, exponent, holders)

    assert sum(line.amount for line in allocation.lines) == amount
    minor = Decimal(1).scaleb(-exponent)
    total = sum(holders.values())
    for line in allocation.lines:
        exact_share = amount * line.units / total  # 28 digits is enough to compare against one minor unit
        assert abs(line.amount - exact_share) < minor
        assert line.amount >= 0 and fits_currency(line.amount, currency)
    assert allocate(amount, exponent, dict(reversed(list(holders.items())))) == allocation
