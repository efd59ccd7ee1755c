"""Numbers as people read them: at most three significant digits, plain notation, with a unit."""

from __future__ import annotations

import math

DIGITS = 3


def sig(value: float, digits: int = DIGITS, sign: bool = False) -> str:
    """``value`` to ``digits`` significant digits without exponents: 12,300; 1.23; 0.0123."""
    if value == 0 or not math.isfinite(value):
        return f"{value:+g}" if sign else f"{value:g}"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = digits - 1 - magnitude
    rounded = round(value, decimals)
    if rounded != 0 and math.floor(math.log10(abs(rounded))) > magnitude:  # 9.996 -> 10.0, not 10.00
        decimals -= 1
    return f"{rounded:{'+' if sign else ''},.{max(decimals, 0)}f}"


def percent(fraction: float, sign: bool = False) -> str:
    """A fraction as a percentage: 0.0512 -> 5.12%."""
    return f"{sig(fraction * 100, sign=sign)}%"
