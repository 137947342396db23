"""Linear equations in one unknown and 2x2 linear systems."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np

from distil_envs.core import Feedback, Task
from distil_envs.env import stable_task_id
from distil_envs.math.base import BOXED_INSTRUCTION, MathProceduralEnv, num
from distil_envs.math.checking import extract_math_answer, parse_number

# difficulty -> (kind, coefficient bound, solution bound)
LEVELS = {1: ("single", 9, 10), 2: ("both_sides", 12, 20), 3: ("system", 6, 10), 4: ("system", 15, 30)}


def linear_text(coefficients: list[int], names: str, constant: int = 0) -> str:
    """`3x - y + 4` from ([3, -1], "xy", 4); "0" when everything is zero."""
    text = ""
    for coefficient, name in zip(coefficients, names):
        if coefficient == 0:
            continue
        magnitude = "" if abs(coefficient) == 1 else str(abs(coefficient))
        sign = ("-" if coefficient < 0 else "") if not text else (" - " if coefficient < 0 else " + ")
        text += f"{sign}{magnitude}{name}"
    if constant or not text:
        text += (f" - {abs(constant)}" if constant < 0 else f" + {constant}") if text else str(constant)
    return text


def par(value: int) -> str:
    """A number as a factor: negatives in parentheses."""
    return f"({value})" if value < 0 else str(value)


def parse_pair(text: str) -> tuple[Fraction, Fraction] | None:
    """(x, y) from "(3, -2)", "x = 3, y = -2", "y=-2; x=3" or "3, -2"; None otherwise."""
    text = text.replace("\\left", "").replace("\\right", "").replace("\\{", "").replace("\\}", "")
    named = dict(re.findall(r"\b([xy])\s*=\s*([^,;]+?)\s*(?=[,;]|\band\b|$)", text))
    if set(named) == {"x", "y"}:
        x, y = parse_number(named["x"]), parse_number(named["y"])
        return (x[0], y[0]) if x and y else None
    parts = [p for p in re.split(r"\s*[,;]\s*|\s+and\s+", text.strip().strip("()[] ")) if p]
    if len(parts) != 2:
        return None
    x, y = parse_number(parts[0]), parse_number(parts[1])
    return (x[0], y[0]) if x and y else None


class LinearEquationsEnv(MathProceduralEnv):
    """Linear equations in one unknown, and 2x2 linear systems.

    Description:
        Solve "4x - 7 = 2x + 9" for x (difficulties 1-2, integer solutions) or a system
        "2x + 3y = 12, x - y = 1" for (x, y) (difficulties 3-4).

    Observation:
        The prompt: the equation(s), the requested form ("\\boxed{x}" or "\\boxed{(x, y)}").

    Action:
        The completion text; the answer is the last \\boxed{...} (or "Answer:" line, or
        last number for one unknown). "x = 3" and "(3, -2)" / "x = 3, y = -2" are read.

    Reward:
        1 if the value(s) solve the equation(s) exactly, else 0.

    Episode end:
        When correct or after `max_attempts` attempts.

    Feedback:
        format_error: no final answer; an answer that is not a number (or pair).
        wrong_answer (diagnostic): the submitted solution substituted back, side by side
        ("with x = 3 the left side is 11, the right side 14"; for systems, which equation
        fails and by how much its left side differs), never the solution. The solution
        appears only at level `correction`, with the worked elimination.

    Arguments:
        difficulty: 1 `ax + b = c`; 2 unknowns on both sides; 3 a 2x2 system with small
        integer solutions; 4 a 2x2 system with larger coefficients and solutions.

    Version history:
        v0: initial version.
    """

    family = "linear"
    max_difficulty = 4

    def generate(self, rng: np.random.Generator) -> Task:
        kind, coefficient_bound, bound = LEVELS[self.difficulty]

        def nonzero(limit: int) -> int:
            value = int(rng.integers(1, limit + 1))
            return -value if rng.random() < 0.4 else value

        if kind == "system":
            while True:
                a, b, c, d = (int(v) for v in rng.integers(-coefficient_bound, coefficient_bound + 1, size=4))
                if a * d - b * c != 0 and 0 not in (a, c) and (b, d) != (0, 0):
                    break
            x, y = (int(v) for v in rng.integers(-bound, bound + 1, size=2))
            e, f = a * x + b * y, c * x + d * y
            equations = [f"{linear_text([a, b], 'xy')} = {e}", f"{linear_text([c, d], 'xy')} = {f}"]
            prompt = (f"Solve the system of equations\n\n    {equations[0]}\n    {equations[1]}\n\n"
                      f"for x and y. {BOXED_INSTRUCTION} Write the answer as \\boxed{{(x, y)}}.")
            det = a * d - b * c
            solution = (f"The determinant is {par(a)}·{par(d)} - {par(b)}·{par(c)} = {det}. By Cramer's rule\n"
                        f"x = ({par(e)}·{par(d)} - {par(b)}·{par(f)}) / {par(det)} = {e * d - b * f} / {par(det)} = {x},\n"
                        f"y = ({par(a)}·{par(f)} - {par(e)}·{par(c)}) / {par(det)} = {a * f - e * c} / {par(det)} = {y}.\n"
                        f"So (x, y) = ({x}, {y}).")
            data = {"kind": "system", "rows": [(a, b, e), (c, d, f)]}
            answer = f"({x}, {y})"
            key: tuple = (equations[0], equations[1])
        else:
            x = int(rng.integers(-bound, bound + 1))
            a = nonzero(coefficient_bound)
            c = 0 if kind == "single" else nonzero(coefficient_bound)
            while c == a:
                c = nonzero(coefficient_bound)
            b = int(rng.integers(-3 * coefficient_bound, 3 * coefficient_bound + 1))
            d = (a - c) * x + b
            if kind == "single":
                equation = f"{linear_text([a], 'x', b)} = {d}"
                solution = f"Move the constant to the right: {a}x = {d} - {par(b)} = {d - b}. Divide by {a}: x = {x}."
            else:
                d = int(rng.integers(-3 * coefficient_bound, 3 * coefficient_bound + 1))
                b = d - (a - c) * x
                equation = f"{linear_text([a], 'x', b)} = {linear_text([c], 'x', d)}"
                solution = (f"Collect x on the left and numbers on the right: ({a} - {par(c)})x = {d} - {par(b)}, "
                            f"so {a - c}x = {d - b} and x = {x}.")
            prompt = f"Solve for x:\n\n    {equation}\n\n{BOXED_INSTRUCTION}"
            data = {"kind": "single", "sides": ((a, b), (c, d))}
            answer = str(x)
            key = (equation,)
        return Task(task_id=stable_task_id("math-linear", *key), prompt=prompt, answer=answer, solution=solution,
                    data=data, metadata=self.metadata_for(kind=kind))

    def check(self, task: Task, completion: str) -> Feedback:
        if task.data["kind"] == "system":
            return self._check_system(task, completion)
        verdict, early = self.screen(task, completion, "a number (the value of x)")
        if early is not None:
            return early
        (a, b), (c, d) = task.data["sides"]
        x = verdict.value
        left, right = a * x + b, c * x + d
        parts = [f"With x = {num(x)} the left side is {num(left)}, the right side {num(right)}."]
        if x.denominator != 1:
            parts.append("The solution is an integer.")
        fallback = f"With x = {num(x)} the two sides are not equal."
        return self.wrong(task, parts, fallback)

    def _check_system(self, task: Task, completion: str) -> Feedback:
        extracted, _ = extract_math_answer(completion)
        if extracted is None or not extracted.strip():
            return self.no_answer()
        pair = parse_pair(extracted) if len(extracted) < 200 else None
        if pair is None:
            return self.unreadable(extracted, "a pair of numbers (x, y)")
        x, y = pair
        parts, fallback = [], []
        for number, (a, b, e) in enumerate(task.data["rows"], start=1):
            left = a * x + b * y
            if left == e:
                parts.append(f"Equation {number} holds.")
                fallback.append(f"Equation {number} holds.")
            else:
                parts.append(f"With x = {num(x)}, y = {num(y)} the left side of equation {number} is {num(left)}, "
                             f"not {e}.")
                fallback.append(f"Equation {number} does not hold.")
        if all(p.endswith("holds.") for p in parts):
            return Feedback.right()
        return self.wrong(task, parts, " ".join(fallback))

    def reference_completion(self, task: Task) -> str:
        return f"{task.solution}\n\nFinal answer: \\boxed{{{task.answer}}}"

    def wrong_completion(self, task: Task) -> str:
        if task.data["kind"] == "system":
            x, y = (int(v) for v in task.answer.strip("()").split(","))
            return f"Solving, I get x = {y}, y = {x + 1}.\n\n\\boxed{{({y}, {x + 1})}}"
        (a, b), (c, d) = task.data["sides"]
        near = int(task.answer) + (1 if b >= 0 else -1)  # the usual slip: the sign of the moved constant
        return f"Moving the constant across, x = {near}.\n\n\\boxed{{{near}}}"
