"""A small periodic table (standard atomic weights, IUPAC abridged values) and a formula parser.

`parse_formula("CuSO4·5H2O")` -> {"Cu": 1, "S": 1, "O": 9, "H": 10}. Parentheses and
brackets nest (`Al2(SO4)3`, `K4[Fe(CN)6]`), and a hydrate part after `·`, `.` or `*`
may carry a leading count (`5H2O`).
"""

from __future__ import annotations

import re
from collections import Counter

ATOMIC_MASS = {
    "H": 1.008, "He": 4.003, "Li": 6.94, "Be": 9.012, "B": 10.81, "C": 12.011, "N": 14.007, "O": 15.999,
    "F": 18.998, "Ne": 20.180, "Na": 22.990, "Mg": 24.305, "Al": 26.982, "Si": 28.085, "P": 30.974,
    "S": 32.06, "Cl": 35.45, "Ar": 39.95, "K": 39.098, "Ca": 40.078, "Cr": 51.996, "Mn": 54.938,
    "Fe": 55.845, "Co": 58.933, "Ni": 58.693, "Cu": 63.546, "Zn": 65.38, "Br": 79.904, "Ag": 107.87,
    "Sn": 118.71, "I": 126.90, "Ba": 137.33, "Pb": 207.2,
}

_TOKEN = re.compile(r"([A-Z][a-z]?)|(\d+)|([(\[])|([)\]])")


class FormulaError(ValueError):
    """A chemical formula that cannot be read."""


def parse_formula(formula: str) -> Counter:
    """Element counts of `formula`; raises `FormulaError` naming the problem."""
    text = formula.strip().replace(" ", "")
    if not text:
        raise FormulaError("empty formula")
    total: Counter = Counter()
    for part in re.split(r"[·.*•]", text):
        match = re.match(r"\d+", part)
        count = int(match.group()) if match else 1
        total.update({el: n * count for el, n in _parse_group(part[match.end() if match else 0:], formula).items()})
    return total


def _parse_group(text: str, original: str) -> Counter:
    stack: list[Counter] = [Counter()]
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise FormulaError(f"unexpected {text[pos]!r} in {original!r}")
        element, _, opening, closing = match.groups()
        pos = match.end()
        multiplier = 1
        number = re.match(r"\d+", text[pos:])
        if number and (element or closing):
            multiplier, pos = int(number.group()), pos + number.end()
        if element:
            if element not in ATOMIC_MASS:
                raise FormulaError(f"unknown element {element!r} in {original!r}")
            stack[-1][element] += multiplier
        elif opening:
            stack.append(Counter())
        elif closing:
            if len(stack) == 1:
                raise FormulaError(f"unbalanced parenthesis in {original!r}")
            inner = stack.pop()
            for el, n in inner.items():
                stack[-1][el] += n * multiplier
        else:
            raise FormulaError(f"a number without an element in {original!r}")
    if len(stack) != 1 or not stack[0]:
        raise FormulaError(f"unbalanced parenthesis or no elements in {original!r}")
    return stack[0]


def molar_mass(formula: str) -> float:
    """Molar mass in g/mol."""
    return sum(ATOMIC_MASS[el] * n for el, n in parse_formula(formula).items())


def mass_breakdown(formula: str) -> str:
    """'2 x H (1.008) + 1 x O (15.999) = 18.015 g/mol' — the worked sum."""
    counts = parse_formula(formula)
    terms = " + ".join(f"{n} x {el} ({ATOMIC_MASS[el]})" for el, n in counts.items())
    return f"{terms} = {molar_mass(formula):.3f} g/mol"
