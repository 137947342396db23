"""Quantities with units: parsing, equivalence within a tolerance, and error diagnosis.

`check_quantity(text, expected_value, expected_unit)` reads the final answer of a
completion ("\\boxed{12.5 m/s}", "Answer: 45 km/h", LaTeX such as
`3.2 \\times 10^{3}\\,\\mathrm{J}`, unicode such as `4.7 kΩ` or `25 °C`), converts it to
the expected unit with `pint`, and says what is wrong without ever stating the
expected value:

    correct          within `rel_tol` of the expected value (any equivalent unit)
    missing_unit     a bare number where a unit is needed
    unparseable      no number, or a unit pint does not know
    dimension        a speed where a distance is asked for
    wrong_unit       equivalent, but the question asks for a specific unit
    trap             a known mistake (family-specific hint, e.g. "the reactant in excess")
    sign             the right magnitude with the wrong sign
    power_of_ten     off by a factor 10^k, k != 0 (a prefix or conversion slip)
    wrong_value      the right kind of quantity, the wrong value (too large / too small)

pint's registry takes a quarter of a second to build, so one is created lazily on
first use and shared; unit strings are parsed once and cached. pint never raises
out of this module: every failure becomes an `unparseable` verdict.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

from distil_envs.answers import extract_final

DEFAULT_REL_TOL = 1e-2
MAX_QUANTITY_CHARS = 200

_NUMBER = re.compile(r"""^\s*(?P<sign>[-+])?\s*
    (?P<mant>(?:\d+(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)
    (?:\s*(?:[eE](?P<e>[-+]?\d+)|(?:\*|x|×|\\times|\\cdot|·)\s*10\s*(?:\^|\*\*)\s*\{?\s*(?P<p>[-+]?\d+)\s*\}?))?
    """, re.VERBOSE)
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")

# What a unit measures, in the words a student would use; keyed by pint dimensionality on first use.
_DIMENSION_NAMES = {
    "m": "a distance", "s": "a time", "kg": "a mass", "K": "a temperature", "mol": "an amount of substance",
    "A": "a current", "m/s": "a speed", "m/s^2": "an acceleration", "N": "a force", "J": "an energy",
    "W": "a power", "Pa": "a pressure", "m^3": "a volume", "m^2": "an area", "Hz": "a frequency",
    "g/mol": "a molar mass", "kg/m^3": "a density", "mol/L": "a concentration", "C": "a charge",
    "V": "a voltage", "ohm": "a resistance", "kg*m/s": "a momentum", "N/m": "a spring constant",
    "F": "a capacitance", "J/K": "a heat capacity", "J/(mol*K)": "a molar heat capacity",
}

@dataclass(frozen=True)
class Quantity:
    """A parsed answer: magnitude, pint unit (None when the answer had no unit) and the unit text."""

    value: float
    units: Any
    unit_text: str


@dataclass(frozen=True)
class QuantityVerdict:
    """The outcome of checking one answer; `message` never contains the expected value."""

    correct: bool
    kind: str
    message: str
    given: Quantity | None = None


@functools.lru_cache(maxsize=1)
def registry():
    """The shared pint `UnitRegistry` (created on first use: it is slow to build)."""
    import pint

    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


@functools.lru_cache(maxsize=4096)
def parse_units(text: str):
    """pint units for a unit string (LaTeX and unicode allowed); None if pint cannot read it."""
    text = normalize_unit_text(text)
    if not text or len(text) > 60 or not re.fullmatch(r"[\w °Ωµμ/*().^+-]+", text):
        return None
    try:
        units = registry().parse_units(text)
    except Exception:  # pint raises many types (UndefinedUnitError, DefinitionSyntaxError, TypeError...)
        return None
    return units


def normalize_unit_text(text: str) -> str:
    """LaTeX-ish unit text in pint's syntax: `\\mathrm{m\\,s^{-1}}` -> `m s^-1`."""
    text = re.sub(r"\^\s*\{([^{}]*)\}", r"^\1", text)
    text = re.sub(r"\\(?:text|mathrm|rm|mathit|operatorname|textrm|unit|si)\s*\{([^{}]*)\}", r"\1", text)
    text = text.replace("\\,", " ").replace("\\;", " ").replace("\\!", "").replace("~", " ")
    text = text.replace("\\cdot", "*").replace("·", "*").replace("⋅", "*").replace("\\times", "*")
    text = text.replace("\\Omega", "Ω").replace("\\mu", "µ").replace("\\circ", "°").replace("^\\circ", "°")
    text = text.replace("\\%", "%").replace("$", "").replace("\\ ", " ")
    text = re.sub(r"\^\s*\{([^{}]*)\}", r"^\1", text).replace("{", "").replace("}", "")
    text = text.replace("^°", "°").replace("° C", "°C").replace("° F", "°F").replace("º", "°")
    text = re.sub(r"\bper\b", "/", text)
    text = re.sub(r"[⁰¹²³⁴-⁹⁻⁺]+", lambda m: "^" + m.group().translate(_SUPERSCRIPTS), text)
    return re.sub(r"\s+", " ", text).strip(" .")


def parse_quantity(text: str) -> tuple[Quantity | None, str]:
    """(quantity, problem): the quantity in `text`, or None with the reason it cannot be read."""
    text = text.strip()
    if len(text) > MAX_QUANTITY_CHARS:
        return None, f"the final answer has {len(text)} characters; give just a number and a unit"
    text = re.sub(r"\\(?:text|mathrm)\s*\{\s*([-+]?[\d.]+)\s*\}", r"\1", text)  # \text{12} -> 12
    text = text.replace("−", "-").replace("–", "-").replace("{,}", ",").replace("\\!", "").replace("$", "")
    text = re.sub(r"[⁰¹²³⁴-⁹⁻⁺]+", lambda m: "^" + m.group().translate(_SUPERSCRIPTS), text)
    text = re.sub(r"^[A-Za-z][\w{}\\]{0,12}\s*=\s*", "", text)  # "v = 12 m/s" -> "12 m/s"
    text = re.sub(r"^\\(?:approx|sim)\s*|^(?:≈|~)\s*", "", text).strip()
    match = _NUMBER.match(text)
    if not match:
        return None, "the final answer does not start with a number"
    mantissa = float(match["mant"].replace(",", ""))
    exponent = int(match["e"] or match["p"] or 0)
    if abs(exponent) > 300:
        return None, "the exponent is out of range"
    value = mantissa * 10.0 ** exponent * (-1 if match["sign"] == "-" else 1)
    rest = text[match.end():].strip()
    if not rest:
        return Quantity(value, None, ""), ""
    units = parse_units(rest)
    if units is None:
        return None, f"the unit {rest[:40]!r} is not one I can read (write units like m/s, kJ, g/mol, °C)"
    return Quantity(value, units, rest), ""


@functools.lru_cache(maxsize=1)
def _names_by_dimension() -> dict:
    names = {registry().get_dimensionality(parse_units(unit)): name for unit, name in _DIMENSION_NAMES.items()}
    names[registry().get_dimensionality(registry().dimensionless)] = "a pure number"
    return names


def dimension_name(units) -> str:
    """'a speed' style name of what a unit measures."""
    dimensionality = registry().get_dimensionality(units)
    return _names_by_dimension().get(dimensionality, f"a quantity of dimension {dimensionality}")


def example_quantity(unit: str, avoid: float) -> str:
    """An example answer in `unit` whose number is far from `avoid` (never the true value)."""
    for number in (12.5, 3.7, 480.0):
        if avoid == 0 or abs(number - abs(avoid)) / abs(avoid) > 0.5:
            return f"\\boxed{{{number:g} {unit}}}"
    return f"\\boxed{{{1e6:g} {unit}}}"


def compare(given: Quantity, expected_value: float, expected_unit: str, *, rel_tol: float = DEFAULT_REL_TOL,
            require_unit: bool = False, traps: Sequence[tuple[float, str]] = ()) -> QuantityVerdict:
    """Check a parsed quantity against `expected_value` in `expected_unit`."""
    want = parse_units(expected_unit)
    if want is None:
        raise ValueError(f"expected_unit={expected_unit!r} is not a unit pint can read")
    wanted_kind = dimension_name(want)
    if given.units is None:
        if wanted_kind == "a pure number":
            given = Quantity(given.value, want, expected_unit)
        else:
            return QuantityVerdict(False, "missing_unit", "Your answer has no unit; give one, e.g. "
                                   f"{example_quantity(expected_unit, expected_value)}.", given)
    given_kind = dimension_name(given.units)
    if registry().get_dimensionality(given.units) != registry().get_dimensionality(want):
        return QuantityVerdict(False, "dimension", f"You gave {given_kind} ({given.unit_text}); the question asks "
                               f"for {wanted_kind}. Check which quantity is asked for and the formula's units.", given)
    try:
        value = registry().Quantity(given.value, given.units).to(want).magnitude
    except Exception:
        return QuantityVerdict(False, "unparseable", f"Could not convert {given.unit_text!r} to the asked unit.", given)
    if _close(value, expected_value, rel_tol):
        if require_unit and parse_units(given.unit_text) != want:
            return QuantityVerdict(False, "wrong_unit", f"Your quantity is equivalent, but the question asks for it "
                                   f"in {expected_unit}, not {given.unit_text}.", given)
        return QuantityVerdict(True, "correct", "Correct.", given)
    for trap_value, hint in traps:
        if _close(value, trap_value, rel_tol):
            return QuantityVerdict(False, "trap", hint, given)
    # Signs and ratios on an absolute scale (kelvin, not °C), so 0 °C is not "zero".
    base_given, base_expected = _absolute(value, want), _absolute(expected_value, want)
    if base_expected != 0 and _close(-base_given, base_expected, rel_tol):
        return QuantityVerdict(False, "sign", "Your value has the wrong sign; check the direction of the "
                               "quantity and the signs in your formula.", given)
    if base_given != 0 and base_expected != 0:
        ratio = abs(base_given / base_expected)
        power = round(math.log10(ratio))
        if power != 0 and abs(power) <= 15 and _close(ratio, 10.0 ** power, rel_tol):
            direction = "too large" if power > 0 else "too small"
            return QuantityVerdict(False, "power_of_ten", f"Your value is off by a power of ten ({direction}); "
                                   "check unit prefixes and conversions (km vs m, g vs kg, mL vs L).", given)
    direction = "too large" if base_given > base_expected else "too small"
    return QuantityVerdict(False, "wrong_value", f"You gave {wanted_kind} in a valid unit, but the value is "
                           f"{direction} (outside the {rel_tol:.1%} tolerance). Recheck the formula and arithmetic.",
                           given)


def check_quantity(completion: str, expected_value: float, expected_unit: str, *,
                   rel_tol: float = DEFAULT_REL_TOL, require_unit: bool = False,
                   traps: Sequence[tuple[float, str]] = ()) -> QuantityVerdict:
    """Extract the final answer of `completion` (last \\boxed{} or "Answer:" line) and check it."""
    final = extract_final(completion)
    if final is None:
        return QuantityVerdict(False, "no_answer", "No final answer found: end with the value and its unit in "
                               "\\boxed{...}, e.g. " + example_quantity(expected_unit, expected_value) + ".")
    given, problem = parse_quantity(final)
    if given is None:
        return QuantityVerdict(False, "unparseable", f"Could not read a quantity from your final answer: {problem}.")
    return compare(given, expected_value, expected_unit, rel_tol=rel_tol, require_unit=require_unit, traps=traps)


def _close(a: float, b: float, rel_tol: float) -> bool:
    if b == 0:
        return abs(a) < 1e-12
    return math.isclose(a, b, rel_tol=rel_tol)


def _absolute(value: float, units) -> float:
    """`value` in `units` on an absolute scale (offset temperatures -> kelvin)."""
    try:
        quantity = registry().Quantity(value, units)
        return float(quantity.to_base_units().magnitude) if "degree" in str(units) else value
    except Exception:
        return value


def format_value(value: float, sig: int = 4) -> str:
    """`value` with `sig` significant figures, plain notation for everyday sizes, else 1.23e-05 style."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e6:
        digits = max(sig - 1 - math.floor(math.log10(abs(value))), 0)
        text = f"{value:.{digits}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, exponent = f"{value:.{sig - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    return f"{mantissa}e{int(exponent)}"
