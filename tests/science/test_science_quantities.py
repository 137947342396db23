"""Quantity checking: parsing, equivalent units, tolerance and the error diagnosis, table-driven."""

import re

import pytest

from distil_envs.science.quantities import check_quantity, format_value, parse_quantity

# (completion, expected value, expected unit, verdict kind)
CASES = [
    # correct, in many spellings
    ("\\boxed{12.5 m/s}", 12.5, "m/s", "correct"),
    ("\\boxed{12.5\\,\\mathrm{m\\,s^{-1}}}", 12.5, "m/s", "correct"),
    ("\\boxed{12.5 \\text{m/s}}", 12.5, "m/s", "correct"),
    ("\\boxed{12.5 m s^-1}", 12.5, "m/s", "correct"),
    ("\\boxed{12.5 m·s⁻¹}", 12.5, "m/s", "correct"),
    ("\\boxed{45 km/h}", 12.5, "m/s", "correct"),  # equivalent unit
    ("Answer: 12.5 m/s", 12.5, "m/s", "correct"),
    ("**Answer:** 12.5 m/s", 12.5, "m/s", "correct"),
    ("\\boxed{v = 12.5 m/s}", 12.5, "m/s", "correct"),
    ("\\boxed{12.6 m/s}", 12.5, "m/s", "correct"),  # 0.8 %, inside 1 %
    ("\\boxed{1.2 \\times 10^{3} J}", 1200, "J", "correct"),
    ("\\boxed{1.2e3 J}", 1200, "J", "correct"),
    ("\\boxed{1.2 kJ}", 1200, "J", "correct"),
    ("\\boxed{1,200 J}", 1200, "J", "correct"),
    ("\\boxed{3.0 × 10³ N}", 3000, "N", "correct"),
    ("\\boxed{4.7 kΩ}", 4700, "Ω", "correct"),
    ("\\boxed{4700 \\Omega}", 4700, "Ω", "correct"),
    ("\\boxed{4700 ohm}", 4.7, "kΩ", "correct"),
    ("\\boxed{22 µF}", 2.2e-5, "F", "correct"),
    ("\\boxed{25 °C}", 298.15, "K", "correct"),
    ("\\boxed{298 K}", 25, "°C", "correct"),
    ("\\boxed{25^\\circ C}", 25, "degC", "correct"),
    ("\\boxed{2.5 m²}", 2.5, "m^2", "correct"),
    ("\\boxed{2.5 m^{2}}", 25000, "cm^2", "correct"),
    ("\\boxed{18.02 g/mol}", 18.015, "g/mol", "correct"),
    ("\\boxed{−3.5 m/s^2}", -3.5, "m/s^2", "correct"),
    ("\\boxed{8.31 J/(mol K)}", 8.314, "J/(mol*K)", "correct"),
    ("\\boxed{2 mA}", 0.002, "A", "correct"),
    # tolerance edge
    ("\\boxed{12.7 m/s}", 12.5, "m/s", "wrong_value"),  # 1.6 %
    # missing unit
    ("\\boxed{12.5}", 12.5, "m/s", "missing_unit"),
    ("Answer: 300", 300, "K", "missing_unit"),
    # dimension errors
    ("\\boxed{12.5 m}", 12.5, "m/s", "dimension"),
    ("\\boxed{40 J}", 40, "W", "dimension"),
    ("\\boxed{18 g}", 18.015, "g/mol", "dimension"),
    ("\\boxed{3 A}", 3, "V", "dimension"),
    # power of ten
    ("\\boxed{125 m/s}", 12.5, "m/s", "power_of_ten"),
    ("\\boxed{1.25 m/s}", 12.5, "m/s", "power_of_ten"),
    ("\\boxed{1200 kJ}", 1200, "J", "power_of_ten"),
    ("\\boxed{0.0045 L}", 4.5, "L", "power_of_ten"),
    # sign
    ("\\boxed{3.5 m/s^2}", -3.5, "m/s^2", "sign"),
    ("\\boxed{-9.8 m/s^2}", 9.8, "m/s^2", "sign"),
    # wrong value
    ("\\boxed{20 m/s}", 12.5, "m/s", "wrong_value"),
    ("\\boxed{0 °C}", 25, "°C", "wrong_value"),  # 0 °C is 273 K: not a sign or power-of-ten slip
    # unreadable
    ("\\boxed{fast}", 12.5, "m/s", "unparseable"),
    ("\\boxed{12.5 zorgs}", 12.5, "m/s", "unparseable"),
    ("\\boxed{12.5 m/s north-east-ish}", 12.5, "m/s", "unparseable"),
    ("I think it is about twelve.", 12.5, "m/s", "no_answer"),
    ("\\boxed{}", 12.5, "m/s", "unparseable"),
    ("\\boxed{1e999 m}", 1.0, "m", "unparseable"),
    ("\\boxed{" + "9" * 300 + " m}", 1.0, "m", "unparseable"),
    ("\\boxed{5 m/s/(}", 5, "m/s", "unparseable"),
    ("\\boxed{5 __import__('os')}", 5, "m/s", "unparseable"),
]


@pytest.mark.parametrize("completion, value, unit, kind", CASES)
def test_check_quantity_table(completion, value, unit, kind):
    verdict = check_quantity(completion, value, unit)
    assert verdict.kind == kind, (completion, verdict)
    assert verdict.correct == (kind == "correct")
    if not verdict.correct:
        assert verdict.message.strip()


@pytest.mark.parametrize("completion, value, unit, kind", [c for c in CASES if c[3] != "correct"])
def test_diagnosis_never_states_the_expected_value(completion, value, unit, kind):
    message = check_quantity(completion, value, unit).message.replace(completion, "")
    assert re.search(rf"(?<![\w.]){re.escape(format_value(value, 3))}(?![\w.])", message) is None, message


def test_dimension_message_names_both_quantities():
    message = check_quantity("\\boxed{12.5 m/s}", 12.5, "m").message
    assert "a speed (m/s)" in message and "a distance" in message


def test_missing_unit_example_is_never_the_true_value():
    for value in (12.5, 3.7, 480.0, 12.4):
        message = check_quantity("\\boxed{7}", value, "m").message
        example = message.split("\\boxed{")[1].split(" ")[0]
        assert abs(float(example) - value) / value > 0.5


def test_tolerance_is_configurable():
    assert check_quantity("\\boxed{12.7 m/s}", 12.5, "m/s", rel_tol=0.05).correct
    assert not check_quantity("\\boxed{12.55 m/s}", 12.5, "m/s", rel_tol=1e-3).correct


def test_require_unit_rejects_equivalent_quantity_in_another_unit():
    verdict = check_quantity("\\boxed{20 m/s}", 72, "km/h", require_unit=True)
    assert verdict.kind == "wrong_unit" and "km/h" in verdict.message
    assert check_quantity("\\boxed{72 km/h}", 72, "km/h", require_unit=True).correct


def test_traps_name_the_mistake():
    verdict = check_quantity("\\boxed{160 m}", 80, "m", traps=[(160, "Check the factor 1/2.")])
    assert verdict.kind == "trap" and verdict.message == "Check the factor 1/2."


def test_parse_quantity_reads_value_and_unit():
    quantity, problem = parse_quantity("3.2 \\times 10^{-3}\\,\\mathrm{kg}")
    assert problem == "" and quantity.value == pytest.approx(3.2e-3) and str(quantity.units) == "kilogram"
    assert parse_quantity("kg")[0] is None


@pytest.mark.parametrize("value, text", [(12.5, "12.5"), (18.015, "18"), (1234.5, "1234"), (0.012345, "0.0123"),
                                         (3.04e-18, "3.04e-18"), (2.5e7, "2.5e7"), (-6.667, "-6.67")])
def test_format_value(value, text):
    assert format_value(value, 3 if value != 1234.5 else 4) == text
