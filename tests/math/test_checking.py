"""Math answer extraction and checking, table-driven, with the known traps."""

import threading
from fractions import Fraction

import pytest

from distil_envs.math.checking import (answers_equal, check_math_answer, extract_math_answer, parse_number,
                                       symbolic_equal)

# (gold, completion, verdict)
CASES = [
    # integers, boxed and not
    ("3", "\\boxed{3}", True),
    ("3", "The answer is \\boxed{3.0}", True),
    ("3.0", "\\boxed{3}", True),
    ("3", "\\boxed{4}", False),
    ("3", "Answer: 3", True),
    ("3", "**Final answer:** 3", True),
    ("3", "so we get 2 + 1 = 3", True),
    ("3", "1 2 3 4", False),
    ("3", "\\boxed{1, 2, 3, 4}", False),
    ("3", "\\boxed{3 or 4}", False),
    ("3", "Answer: 1 2 3 4", False),
    ("3", "no number at all", False),
    ("3", "\\boxed{}", False),
    # negative numbers
    ("-7", "\\boxed{-7}", True),
    ("-7", "\\boxed{7}", False),
    ("-7", "\\boxed{−7}", True),
    ("-7", "x = -7, so \\boxed{x = -7}", True),
    # thousands separators and decimals
    ("1234", "\\boxed{1,234}", True),
    ("1234567", "The total is 1,234,567 dollars.", True),
    ("1234", "\\boxed{1234.00}", True),
    ("0.5", "\\boxed{.5}", True),
    ("12.5", "\\boxed{12.50}", True),
    ("12.5", "\\boxed{12.6}", False),
    # fractions and rationals
    ("3/4", "\\boxed{\\frac{3}{4}}", True),
    ("3/4", "\\boxed{0.75}", True),
    ("3/4", "\\boxed{\\dfrac34}", True),
    ("-1/2", "\\boxed{-\\frac{1}{2}}", True),
    ("-1/2", "\\boxed{\\frac{-1}{2}}", True),
    ("1/3", "\\boxed{0.3333}", True),
    ("1/3", "\\boxed{0.33}", False),
    ("2/3", "\\boxed{3/2}", False),
    ("5", "\\boxed{10/2}", True),
    # percentages
    ("25%", "\\boxed{25}", True),
    ("25%", "\\boxed{25\\%}", True),
    ("25", "\\boxed{25\\%}", True),
    ("0.25", "\\boxed{25\\%}", True),
    ("25%", "\\boxed{0.25}", True),
    ("25%", "\\boxed{30\\%}", False),
    # units and currency stripped
    ("12", "\\boxed{12 \\text{ cm}}", True),
    ("12", "\\boxed{12\\text{cm}}", True),
    ("18", "Answer: $18", True),
    ("18", "\\boxed{\\$18}", True),
    ("18", "Answer: 18 dollars", True),
    ("90", "\\boxed{90^\\circ}", True),
    ("60", "\\boxed{60 \\text{ km/h}}", True),
    # symbolic (math-verify)
    ("\\sqrt{2}", "\\boxed{\\sqrt{2}}", True),
    ("\\frac{\\sqrt{3}}{2}", "\\boxed{\\frac{\\sqrt3}{2}}", True),
    ("\\sqrt{2}", "\\boxed{\\sqrt{3}}", False),
    ("2\\pi", "\\boxed{2 \\pi}", True),
    ("x^2 + 2x + 1", "\\boxed{(x+1)^2}", True),
    ("(1, 2)", "\\boxed{(1, 2)}", True),
    ("(1, 2)", "\\boxed{(2, 1)}", False),
    ("3", "\\boxed{9^{9^{9^{9}}}}", False),
    ("\\frac{1}{2}", "\\boxed{0.5}", True),
    ("\\frac{14}{3}", "\\boxed{\\frac{28}{6}}", True),
    # nested braces in the box
    ("\\frac{1}{2}", "first \\boxed{7} then \\boxed{\\frac{1}{2}}", True),
]


@pytest.mark.parametrize("gold,completion,verdict", CASES)
def test_table(gold, completion, verdict):
    assert check_math_answer(gold, completion).correct is verdict, (gold, completion)


def test_table_is_big_enough():
    assert len(CASES) >= 40


def test_extraction_prefers_boxed_then_answer_line_then_last_number():
    assert extract_math_answer("Answer: 5 \\boxed{\\frac{1}{\\sqrt{2}}}") == ("\\frac{1}{\\sqrt{2}}", "boxed")
    assert extract_math_answer("work 7\nAnswer: 9\nmore 11") == ("9", "answer_line")
    assert extract_math_answer("we had 3 then 12") == ("12", "last_number")
    assert extract_math_answer("nothing here") == (None, "none")


def test_parse_number_exact_values():
    assert parse_number("1,234.5") == (Fraction(2469, 2), False)
    assert parse_number("-\\frac{3}{4}") == (Fraction(-3, 4), False)
    assert parse_number("25\\%") == (Fraction(25), True)
    assert parse_number("x^2") is None and parse_number("1, 2") is None
    assert parse_number("3/0") is None


def test_symbolic_checking_works_outside_the_main_thread():
    results = []
    thread = threading.Thread(target=lambda: results.append((symbolic_equal("\\sqrt{8}", "2\\sqrt{2}"),
                                                             answers_equal("\\pi", "\\sqrt{2}"))))
    thread.start()
    thread.join(timeout=60)
    assert results == [(True, False)]


def test_huge_inputs_are_refused_quickly():
    assert not answers_equal("3", "(" * 5000 + "3" + ")" * 5000)
    assert not check_math_answer("3", "\\boxed{" * 5000).correct
