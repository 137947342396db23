"""Roots of polynomials with rational roots (factoring)."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np

from distil_envs.core import Feedback, Task
from distil_envs.env import stable_task_id
from distil_envs.math.base import BOXED_INSTRUCTION, MathProceduralEnv, num
from distil_envs.math.checking import extract_math_answer, parse_number

# difficulty -> (degree, leading-coefficient bound, root bound, one rational non-integer root)
LEVELS = {1: (2, 1, 9, False), 2: (2, 4, 9, True), 3: (3, 1, 6, False), 4: (3, 3, 6, True)}
NONZERO = {bound: np.array([v for v in range(-bound, bound + 1) if v]) for bound in (6, 9)}


def poly_text(coefficients: list[int]) -> str:
    """"2x^3 - x + 6" from [2, 0, -1, 6] (highest degree first)."""
    degree, text = len(coefficients) - 1, ""
    for power, c in zip(range(degree, -1, -1), coefficients):
        if c == 0:
            continue
        magnitude = "" if abs(c) == 1 and power else str(abs(c))
        variable = "" if power == 0 else ("x" if power == 1 else f"x^{power}")
        sign = ("-" if c < 0 else "") if not text else (" - " if c < 0 else " + ")
        text += f"{sign}{magnitude}{variable}"
    return text or "0"


def evaluate(coefficients: list[int], x: Fraction) -> Fraction:
    value = Fraction(0)
    for c in coefficients:
        value = value * x + c
    return value


def factor_text(root: Fraction) -> str:
    """(x - 3), (x + 2), (2x - 1) for the roots 3, -2, 1/2."""
    q, p = root.denominator, root.numerator
    lead = "x" if q == 1 else f"{q}x"
    return f"({lead} - {p})" if p > 0 else (f"({lead} + {-p})" if p < 0 else f"{lead}")


def parse_roots(text: str) -> list[Fraction] | None:
    """The numbers of "-2, 3", "x = -2 or x = 3", "\\{-2, 3\\}", "\\pm 2"; None if any part is not a number."""
    text = re.sub(r"\\(?:text|mathrm|mbox)\s*\{([^{}]*)\}", r" \1 ", text)
    text = re.sub(r"\\[{}]|\\left|\\right|[{}]", " ", text)
    text = text.replace("\\pm", "±").replace("+-", "±")
    parts = [p.strip() for p in re.split(r",|;|\bor\b|\band\b", text) if p.strip()]
    if not parts or len(parts) > 12:
        return None
    roots = []
    for part in parts:
        part = re.sub(r"^[a-zA-Z_]\w*\s*=\s*", "", part).strip()
        plus_minus = part.startswith("±")
        value = parse_number(part.lstrip("±").strip())
        if value is None:
            return None
        roots += [value[0], -value[0]] if plus_minus else [value[0]]
    return roots


class PolynomialEnv(MathProceduralEnv):
    """Real roots of polynomials that factor over the rationals.

    Description:
        "Find all real roots of p(x) = x^3 - 2x^2 - 5x + 6." Quadratics (difficulties 1-2)
        and cubics (3-4); from difficulty 2 one root may be a fraction, and cubics may have
        a repeated root.

    Observation:
        The prompt: the polynomial and "list each distinct root once, separated by commas,
        as \\boxed{r_1, r_2, ...}".

    Action:
        The completion text; the answer is the last \\boxed{...} (or "Answer:" line). Roots
        may be written "x = 2 or x = -3", "\\{-3, 2\\}", "\\pm 2", fractions "1/2" / "\\frac12".

    Reward:
        1 if the set of submitted roots equals the set of real roots exactly (no credit for
        extra candidates or for a subset), else 0.

    Episode end:
        When correct or after `max_attempts` attempts.

    Feedback:
        format_error: no final answer / a value that is not a number.
        wrong_answer (diagnostic): the polynomial evaluated at each submitted value that is
        not a root ("p(4) = 18, not 0"), and, when every submitted value is a root, how
        many distinct real roots there are. The roots appear only at level `correction`,
        with the factorisation.

    Arguments:
        difficulty: 1 (monic quadratics) to 4 (cubics with a leading coefficient and a
        fractional root).

    Version history:
        v0: initial version.
    """

    family = "polynomial"
    max_difficulty = 4

    def generate(self, rng: np.random.Generator) -> Task:
        degree, lead_bound, bound, rational = LEVELS[self.difficulty]
        while True:
            # nonzero roots, so the constant term is never 0 and the rational root theorem applies as written
            roots = [Fraction(int(r)) for r in rng.choice(NONZERO[bound], size=degree)]
            if rational:
                q = int(rng.integers(2, lead_bound + 1))
                p = int(rng.choice([v for v in NONZERO[bound] if v % q]))
                roots[0] = Fraction(p, q)
            if len(set(roots)) >= 2:
                break
        extra = int(rng.integers(1, lead_bound + 1)) if lead_bound > 1 and not rational else 1
        coefficients = [Fraction(extra)]
        for root in roots:  # multiply by (denominator·x - numerator)
            q, p = root.denominator, root.numerator
            coefficients = [a * q for a in coefficients] + [Fraction(0)]
            coefficients = [c - p * (coefficients[i - 1] / q if i else 0) for i, c in enumerate(coefficients)]
        coefficients = [int(c) for c in coefficients]
        distinct = sorted(set(roots))
        polynomial = poly_text(coefficients)
        factored = ("" if extra == 1 else str(extra)) + "".join(factor_text(r) for r in sorted(roots))
        checks = ", ".join(f"p({num(r)}) = 0" for r in distinct)
        solution = (f"By the rational root theorem, candidates are ± (divisors of {abs(coefficients[-1])}) / "
                    f"(divisors of {abs(coefficients[0])}). Testing them: {checks}. Dividing out the factors "
                    f"gives p(x) = {factored}, so the distinct real roots are {', '.join(num(r) for r in distinct)}.")
        return Task(
            task_id=stable_task_id("math-polynomial", polynomial),
            prompt=(f"Find all real roots of p(x) = {polynomial}. List each distinct root once, separated by "
                    f"commas, as \\boxed{{r_1, r_2, ...}}.\n\n{BOXED_INSTRUCTION}"),
            answer=", ".join(num(r) for r in distinct),
            solution=solution,
            data={"coefficients": coefficients, "roots": distinct},
            metadata=self.metadata_for(degree=degree, repeated=len(distinct) < degree),
        )

    def check(self, task: Task, completion: str) -> Feedback:
        extracted, _ = extract_math_answer(completion)
        if extracted is None or not extracted.strip():
            return self.no_answer()
        got = parse_roots(extracted) if len(extracted) <= 300 else None
        if got is None:
            return self.unreadable(extracted, "a comma-separated list of numbers")
        roots, coefficients = set(task.data["roots"]), task.data["coefficients"]
        if set(got) == roots:
            return Feedback.right()
        parts = [f"p({num(r)}) = {num(evaluate(coefficients, r))}, not 0, so {num(r)} is not a root."
                 for r in dict.fromkeys(got) if r not in roots]
        missing = len(roots - set(got))
        if not parts:
            parts.append(f"Each value you gave is a root, but p has {len(roots)} distinct real roots; "
                         f"you gave {len(set(got))}.")
        elif missing:
            parts.append(f"p has {len(roots)} distinct real roots.")
        return self.wrong(task, parts, "That is not the set of real roots.")

    def wrong_completion(self, task: Task) -> str:
        roots = task.data["roots"]
        near = sorted({-r for r in roots})
        if set(near) == set(roots):
            near = sorted({r + 1 for r in roots})
        text = ", ".join(num(r) for r in near)
        return f"Reading the roots off the factors, x = {text}.\n\n\\boxed{{{text}}}"
