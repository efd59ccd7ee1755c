"""How numbers are written in messages: three significant digits, plain notation, units."""

from __future__ import annotations

import pytest

from mlgate.report.numbers import percent, sig


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (12345.6, "12,300"),
        (0.012345, "0.0123"),
        (9.996, "10.0"),
        (-0.05, "-0.0500"),
        (57307626.94, "57,300,000"),
        (float("inf"), "inf"),
    ],
)
def test_sig_keeps_three_significant_digits_without_exponents(value: float, text: str) -> None:
    assert sig(value) == text


def test_percent_and_signs() -> None:
    assert percent(0.05123) == "5.12%"
    assert percent(0.05123, sign=True) == "+5.12%"
    assert sig(-1.5, sign=True) == "-1.50" and sig(0, sign=True) == "+0"
