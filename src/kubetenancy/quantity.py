"""Kubernetes resource quantities as exact numbers ("500m" → 1/2, "2Gi" → 2147483648). Pure."""

from __future__ import annotations

import re
from fractions import Fraction

_SUFFIXES = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)(?:[eE]([+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$")


def parse(value: str | int) -> Fraction:
    match = _QUANTITY.match(str(value).strip())
    if match is None:
        raise ValueError(f'"{value}" is not a Kubernetes quantity')
    number, exponent, suffix = match.groups()
    if exponent is not None:
        return Fraction(number) * Fraction(10) ** int(exponent)
    return Fraction(number) * _SUFFIXES[suffix or ""]


def format_quantity(value: Fraction) -> str:
    """Whole numbers as they are, fractions in milli-units (how Kubernetes prints CPU)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{round(value * 1000)}m"
