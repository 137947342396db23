"""Math answer checking: extraction, an exact fast path, then math-verify.

`check_math_answer(gold, completion)` is what every math env calls:

1. extraction (`extract_math_answer`): the last `\\boxed{...}` (nested braces), else the
   last "Answer: ..." line, else the last number of the completion;
2. the exact fast path (`parse_number`): integers, decimals, fractions (`a/b`,
   `\\frac{a}{b}`), percentages, negative numbers, thousands separators, with units and
   `$`/`\\text{}` stripped, compared as `fractions.Fraction`; no sympy involved;
3. math-verify (`math_verify.parse` / `verify`) for everything symbolic, with its
   signal-based timeouts switched off outside the main thread (they raise there) and
   every error turned into "not equal".

Listing candidates earns nothing: "1 2 3 4" is not an answer of 3 ("1, 2, 3, 4" is
refused against a single-number gold before math-verify, which would otherwise match
any element of a set).
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from fractions import Fraction

from distil_envs.answers import extract_answer_line, extract_boxed

# math-verify gets at most this much text: sympy on a megabyte of LaTeX, or on
# 9^9^9^9, never returns, and outside the main thread there is no timeout.
MAX_SYMBOLIC_CHARS = 400
_HUGE_POWER = re.compile(r"(\^|\*\*)\s*\{?\s*\(?\s*[-+]?\d{4,}|!\s*\d|\d{4,}\s*!|(\^|\*\*).*(\^|\*\*)")

_NUMBER_TOKEN = re.compile(r"(?<![\w.])[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?%?|(?<![\w.])[-+−]?\.\d+")
# Each pattern below splits its input in one way only: nested quantifiers over the same
# characters ("(?:[a-z]+\s*)+", "\s*\s\s*") backtrack exponentially on text that almost matches.
_LIST_OF_NUMBERS = re.compile(r"\s*[-+]?\d+(?:\.\d+)?(?:(?:\s*(?:,|;|\bor\b|\band\b)\s*|\s+)[-+]?\d+(?:\.\d+)?)+\s*")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_DECIMAL = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$")
_FRACTION = re.compile(r"^([-+]?)\s*(\d+)\s*/\s*(\d+)$")
_LATEX_FRAC = re.compile(r"^([-+]?)\s*\\[dt]?frac\s*\{\s*([-+]?\d+)\s*\}\s*\{\s*([-+]?\d+)\s*\}$")
_LATEX_FRAC_SHORT = re.compile(r"^([-+]?)\s*\\[dt]?frac\s*(\d)\s*(\d)$")
_TEXT_WRAPPER = re.compile(r"\\(?:text|textbf|mathrm|mbox|mathbf|operatorname)\s*\{([^{}]*)\}")
_UNIT_WORDS = re.compile(r"(?<=[\d\s.}])\s*[a-zA-Z][a-zA-Z.²³/]*(?:\s+[a-zA-Z][a-zA-Z.²³/]*)*\s*$")
_LEADING_VARIABLE = re.compile(r"^\s*[a-zA-Z]\s*=\s*(?=[-+.\d\\])")
_SPACING = re.compile(r"\\[,;:! ]|\\q?quad|~")


@dataclass(frozen=True)
class MathVerdict:
    """The outcome of checking one completion against a gold answer."""

    correct: bool
    extracted: str | None  # the answer text found in the completion, None if none
    where: str  # "boxed" | "answer_line" | "last_number" | "none"
    value: Fraction | None = None  # the exact number, when the answer is one


def extract_math_answer(completion: str) -> tuple[str | None, str]:
    """(answer text, where it was found): boxed > "Answer:" line > last number."""
    boxed = extract_boxed(completion)
    if boxed is not None:
        return boxed, "boxed"
    line = extract_answer_line(completion)
    if line:
        return line, "answer_line"
    numbers = _NUMBER_TOKEN.findall(completion[-2000:])
    if numbers:
        return numbers[-1].strip(), "last_number"
    return None, "none"


def _clean(text: str) -> str:
    """Strip the decoration around a number: $, \\text{}, units, spacing, "x =", a final period."""
    text = text.strip().replace("−", "-").replace("\\left", "").replace("\\right", "")
    text = text.strip("$ ").replace("\\$", "").replace("$", "")
    text = _SPACING.sub(" ", text)
    text = _TEXT_WRAPPER.sub(lambda m: " " + m.group(1) + " ", text)
    text = text.replace("\\%", "%").replace("^\\circ", "").replace("^{\\circ}", "").replace("°", "")
    text = _LEADING_VARIABLE.sub("", text)
    return text.strip().rstrip(".").strip()


@functools.lru_cache(maxsize=8192)  # gold answers are parsed on every step
def parse_number(text: str) -> tuple[Fraction, bool] | None:
    """(exact value, written as a percentage) of a plain number, or None.

    Accepts "-12", "3.0", "1,234.5", "3/4", "\\frac{3}{4}", "-\\dfrac{1}{2}", "25%",
    "12 cm", "\\$5", "x = 3". Anything else (expressions, lists, symbols) is None.
    """
    if len(text) > 200:
        return None
    text = _clean(text)
    percent = text.endswith("%")
    if percent:
        text = text[:-1].strip()
    elif not re.fullmatch(r"[-+]?[\d.,]+(?:\s*/\s*\d+)?", text):
        stripped = _UNIT_WORDS.sub("", text).strip()
        if stripped != text and re.search(r"\d", stripped):
            text = stripped
            percent = text.endswith("%")
            text = text.rstrip("%").strip()
    text = text.replace(" ", "") if re.fullmatch(r"[-+]?\s*[\d.,/\s]+", text) and "/" in text else text
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        if _DECIMAL.match(text):
            return Fraction(text), percent
        match = _FRACTION.match(text) or _LATEX_FRAC.match(text) or _LATEX_FRAC_SHORT.match(text)
        if match:
            sign, num, den = match.groups()
            if int(den) == 0:
                return None
            value = Fraction(int(num), int(den))
            return (-value if sign == "-" else value), percent
    except (ValueError, ZeroDivisionError):
        return None
    return None


def _decimal_places(text: str) -> int:
    match = re.search(r"\.(\d+)", text)
    return len(match.group(1)) if match else 0


def numbers_match(gold: Fraction, gold_percent: bool, pred: Fraction, pred_percent: bool, pred_text: str = "") -> bool:
    """Exact equality, with percent signs optional and rounded decimals of >= 4 places
    accepted for non-terminating rationals (1/3 as 0.3333)."""
    candidates = {gold}
    if gold_percent:
        candidates.add(gold / 100)
    if pred_percent:
        candidates |= {c * 100 for c in candidates}
    if pred in candidates:
        return True
    places = _decimal_places(pred_text)
    if places >= 4 and "/" not in pred_text and "frac" not in pred_text:
        unit = Fraction(1, 10 ** places)
        return any(abs(c - pred) <= unit / 2 for c in candidates)
    return False


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@functools.lru_cache(maxsize=1)
def _math_verify():
    """(parse, verify, extraction configs), imported once; None without math-verify."""
    try:
        from math_verify import parse, verify
        from math_verify.parser import ExprExtractionConfig, LatexExtractionConfig
    except ImportError:  # a core dependency; without it only the exact path answers
        return None
    return parse, verify, (LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig())


def _parse_symbolic(text: str, timeout: int | None) -> list:
    parse, _, configs = _math_verify()
    return parse(f"\\boxed{{{text}}}", extraction_config=list(configs), extraction_mode="first_match",
                 parsing_timeout=timeout)


@functools.lru_cache(maxsize=2048)
def _parse_gold(gold: str, timeout: int | None) -> tuple:
    """Gold answers are parsed once, not on every step (sympy parsing is most of the cost)."""
    return tuple(_parse_symbolic(gold, timeout))


def _clearly_different(gold: object, pred: object) -> bool:
    """Two plain numbers (no symbols, no sets) that differ by far more than any rounding, or
    a number against an expression with a variable: unequal without sympy's `simplify`,
    which is most of the cost of a wrong answer."""
    try:
        import sympy
        if not (isinstance(gold, sympy.Expr) and isinstance(pred, sympy.Expr)):
            return False
        if gold.is_number != pred.is_number:  # a number against an expression in a variable
            return bool(gold.free_symbols or pred.free_symbols)
        if not gold.is_number:
            return False
        x, y = complex(gold.evalf(30)), complex(pred.evalf(30))
        return abs(x - y) > 1e-4 * max(1.0, abs(x), abs(y))
    except Exception:  # noqa: BLE001 - anything odd goes to math-verify
        return False


def symbolic_equal(gold: str, pred: str) -> bool:
    """math-verify's verdict on two answer strings; never raises, never uses signals
    outside the main thread."""
    if len(pred) > MAX_SYMBOLIC_CHARS or len(gold) > 4 * MAX_SYMBOLIC_CHARS or _HUGE_POWER.search(pred):
        return False
    if _math_verify() is None:
        return False
    verify = _math_verify()[1]
    timeout = 3 if _in_main_thread() else None
    try:
        gold_parsed = list(_parse_gold(gold, timeout))
        pred_parsed = _parse_symbolic(pred, timeout)
        if not gold_parsed or not pred_parsed:
            return False
        if _clearly_different(gold_parsed[0], pred_parsed[0]):
            return False
        return bool(verify(gold_parsed, pred_parsed, timeout_seconds=timeout))
    except BaseException as error:  # noqa: BLE001 - sympy raises anything, including on timeout
        if isinstance(error, KeyboardInterrupt):
            raise
        return False


def answers_equal(gold: str, pred: str) -> bool:
    """Whether the answer text `pred` equals the gold answer `gold`."""
    gold_number = parse_number(gold)
    pred_number = parse_number(pred)
    if gold_number is not None and pred_number is not None:
        return numbers_match(*gold_number, *pred_number, pred_text=_clean(pred))
    if gold_number is not None:
        cleaned = _clean(pred)
        if _LIST_OF_NUMBERS.fullmatch(cleaned) or not cleaned:
            return False  # a list of candidates (or nothing) is not the number
    if _clean(gold) == _clean(pred):
        return True
    return symbolic_equal(gold, pred)


def check_math_answer(gold: str, completion: str) -> MathVerdict:
    """Extract the final answer of `completion` and compare it with `gold`."""
    extracted, where = extract_math_answer(completion)
    if extracted is None or not extracted.strip():
        return MathVerdict(False, None, "none")
    number = parse_number(extracted)
    value = number[0] if number is not None else None
    return MathVerdict(answers_equal(gold, extracted), extracted, where, value)


def mentions(message: str, answer: str) -> bool:
    """Whether `answer` appears in `message` as a token (what leakage tests look for):
    not preceded by a word character or ".", not followed by a word character.

    Plain `str.find` rather than a regex per answer: compiling one per task was a third
    of the arithmetic env's step time."""
    answer = answer.strip()
    if not answer:
        return False
    start = message.find(answer)
    while start != -1:
        end = start + len(answer)
        before = message[start - 1] if start else " "
        after = message[end] if end < len(message) else " "
        if not (before.isalnum() or before in "_.") and not (after.isalnum() or after == "_"):
            return True
        start = message.find(answer, start + 1)
    return False


def format_number(value: Fraction) -> str:
    """An exact number as text: "12", "-3/4"."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
