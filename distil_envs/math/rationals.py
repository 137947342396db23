"""Fractions and rational arithmetic, answers in lowest terms."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np

from distil_envs.core import Feedback, Task
from distil_envs.env import stable_task_id
from distil_envs.math.arithmetic import APPLY, PRECEDENCE, Op
from distil_envs.math.base import BOXED_INSTRUCTION, MathProceduralEnv, num
from distil_envs.math.checking import _clean, check_math_answer

# difficulty -> (operand count, max denominator, operators, negative operands)
LEVELS = {1: (2, 9, "+-", False), 2: (2, 12, "+-×÷", False), 3: (3, 12, "+-×÷", False), 4: (3, 20, "+-×÷", True)}


def show(value: Fraction) -> str:
    """A fraction as the prompt writes it: "(3/4)", "(-2/5)", "2"."""
    return num(value) if value.denominator == 1 and value >= 0 else f"({num(value)})"


def evaluate(node) -> Fraction:
    if isinstance(node, Fraction):
        return node
    return APPLY[node.op](evaluate(node.left), evaluate(node.right))


def render(node, parent: int = 0, right_of: str = "") -> str:
    if isinstance(node, Fraction):
        return show(node)
    text = f"{render(node.left, PRECEDENCE[node.op])} {node.op} {render(node.right, PRECEDENCE[node.op], node.op)}"
    needs = PRECEDENCE[node.op] < parent or (PRECEDENCE[node.op] == parent and right_of in ("-", "÷"))
    return f"[{text}]" if needs else text


def step_text(a: Fraction, op: str, b: Fraction) -> str:
    """One worked operation on two fractions."""
    result = APPLY[op](a, b)
    if op in "+-":
        common = math.lcm(a.denominator, b.denominator)
        left, right = a * common, b * common
        raw = f"{int(left)}/{common} {op} {show(Fraction(int(right)))}/{common}"
        text = f"{show(a)} {op} {show(b)} = {raw} = {int(result * common)}/{common}"
        return text if result.denominator == common else f"{text} = {num(result)}"
    if op == "×":
        raw = Fraction(a.numerator * b.numerator), a.denominator * b.denominator
        text = f"{show(a)} × {show(b)} = ({show(Fraction(a.numerator))}·{show(Fraction(b.numerator))})/({raw[1]})"
        return f"{text} = {num(raw[0])}/{raw[1]}" + ("" if result.denominator == raw[1] else f" = {num(result)}")
    return f"{show(a)} ÷ {show(b)} = {show(a)} × {show(1 / b)} = {num(result)}"


def mistakes(node) -> list[tuple[str, str, Fraction]]:
    """(kind, sub-expression, total) for the classic slips, one node at a time."""
    found = []

    def walk(n, rebuild):
        if isinstance(n, Fraction):
            return
        a, b = evaluate(n.left), evaluate(n.right)
        where = f"{render(n.left, 3)} {n.op} {render(n.right, 3)}"
        wrong = []
        if n.op in "+-":
            wrong.append(("numerators", Fraction(APPLY[n.op](a.numerator, b.numerator), a.denominator + b.denominator)))
        if n.op == "÷" and a != 0:
            wrong.append(("inverted", (1 / a) * b))
        if n.op == "÷":
            wrong.append(("no_invert", a * b))
        for kind, value in wrong:
            try:
                found.append((kind, where, evaluate(rebuild(value))))
            except ZeroDivisionError:
                pass
        walk(n.left, lambda x, n=n: rebuild(Op(n.op, x, n.right)))
        walk(n.right, lambda x, n=n: rebuild(Op(n.op, n.left, x)))

    walk(node, lambda x: x)
    return found


MISTAKE_TEXT = {
    "numerators": "It looks like you added (or subtracted) numerators and denominators separately in `{}`; "
                  "bring the fractions to a common denominator first.",
    "inverted": "It looks like you inverted the wrong fraction in `{}`: dividing multiplies by the reciprocal "
                "of the divisor (the second fraction).",
    "no_invert": "It looks like you multiplied instead of dividing in `{}`: multiply by the reciprocal of the "
                 "divisor.",
}


class FractionsEnv(MathProceduralEnv):
    """Fraction arithmetic with the result in lowest terms.

    Description:
        "Compute (3/4) + (5/6) × (2/3)." Operands are fractions (negative at difficulty 4);
        the usual precedence holds and square brackets group.

    Observation:
        The prompt: the expression, "give the result as a fraction in lowest terms (or an
        integer)" and the \\boxed{...} instruction.

    Action:
        The completion text; the answer is the last \\boxed{...}, else an "Answer:" line,
        else the last number. "7/12", "\\frac{7}{12}" and exact decimals are read.

    Reward:
        1 if the value is exactly right and, when written as a fraction, in lowest terms.

    Episode end:
        When correct or after `max_attempts` attempts.

    Feedback:
        format_error: no final answer / not a number.
        wrong_answer (diagnostic): "your fraction is not in lowest terms" (divide by the
        gcd), wrong sign, reciprocal of the value, adding numerators and denominators,
        inverting the wrong fraction when dividing, too large / too small. The value is
        shown only at level `correction`, with the worked steps.

    Arguments:
        difficulty: 1 (two fractions, + -) to 4 (three fractions, all operators,
        negatives, denominators up to 20).

    Version history:
        v0: initial version.
    """

    family = "fractions"
    max_difficulty = 4

    def _fraction(self, rng: np.random.Generator, max_den: int, negatives: bool) -> Fraction:
        den = int(rng.integers(2, max_den + 1))
        value = Fraction(int(rng.integers(1, 2 * den)), den)
        if value.denominator == 1:
            value += Fraction(1, den)
        return -value if negatives and rng.random() < 0.35 else value

    def _expression(self, rng: np.random.Generator, operands: int, max_den: int, ops: str, negatives: bool):
        values = [self._fraction(rng, max_den, negatives) for _ in range(operands)]
        chosen = [ops[int(rng.integers(len(ops)))] for _ in range(operands - 1)]
        tree = values[0]
        if operands == 3 and (PRECEDENCE[chosen[1]] > PRECEDENCE[chosen[0]] or rng.random() < 0.3):
            tree = Op(chosen[0], values[0], Op(chosen[1], values[1], values[2]))
        else:
            for op, value in zip(chosen, values[1:]):
                tree = Op(op, tree, value)
        return tree

    def generate(self, rng: np.random.Generator) -> Task:
        operands, max_den, ops, negatives = LEVELS[self.difficulty]
        while True:  # redraw the rare degenerate task (a zero result, a division by zero)
            tree = self._expression(rng, operands, max_den, ops, negatives)
            try:
                if evaluate(tree) != 0:
                    break
            except ZeroDivisionError:
                continue
        steps, node = [], tree
        while not isinstance(node, Fraction):  # reduce the innermost operation, leftmost first
            path, cursor = [], node
            while not (isinstance(cursor.left, Fraction) and isinstance(cursor.right, Fraction)):
                side = "left" if not isinstance(cursor.left, Fraction) else "right"
                path.append(side)
                cursor = getattr(cursor, side)
            steps.append(step_text(cursor.left, cursor.op, cursor.right))
            node = self._replace(node, path, APPLY[cursor.op](cursor.left, cursor.right))
        value = evaluate(tree)
        expression = render(tree)
        return Task(
            task_id=stable_task_id("math-fractions", expression),
            prompt=f"Compute {expression}. Give the result as a fraction in lowest terms (or an integer)."
                   f"\n\n{BOXED_INSTRUCTION}",
            answer=num(value),
            solution="\n".join(steps),
            data={"expression": expression, "tree": tree},
            metadata=self.metadata_for(operands=operands),
        )

    def _replace(self, node, path: list[str], value: Fraction):
        if not path:
            return value
        if path[0] == "left":
            return Op(node.op, self._replace(node.left, path[1:], value), node.right)
        return Op(node.op, node.left, self._replace(node.right, path[1:], value))

    def check(self, task: Task, completion: str) -> Feedback:
        verdict = check_math_answer(task.answer, completion)
        if verdict.extracted is None:
            return self.no_answer()
        if verdict.value is None and not verdict.correct:
            return self.unreadable(verdict.extracted, "a fraction or an integer")
        written = re.fullmatch(r"[-+]?\s*(\d+)\s*/\s*(\d+)|[-+]?\\[dt]?frac\s*\{\s*-?(\d+)\s*\}\s*\{\s*(\d+)\s*\}",
                               _clean(verdict.extracted))
        groups = [g for g in written.groups() if g is not None] if written else []
        unreduced = len(groups) == 2 and math.gcd(int(groups[0]), int(groups[1])) > 1
        if verdict.correct and not unreduced:
            return Feedback.right()
        gold, got = Fraction(task.answer), verdict.value
        if got is None:
            return self.unreadable(verdict.extracted, "a fraction or an integer")
        parts = []
        if unreduced:
            g = math.gcd(int(groups[0]), int(groups[1]))
            parts.append(f"Your fraction is not in lowest terms: numerator and denominator share the factor {g}.")
            if got == gold:
                return self.wrong(task, parts + ["Its value is right; reduce it."])
        if got == -gold:
            parts.append("Your answer has the wrong sign.")
        elif got != 0 and 1 / got == gold:
            parts.append("Your answer is the reciprocal of the value.")
        else:
            for kind, where, total in mistakes(task.data["tree"]):
                if total == got:
                    parts.append(MISTAKE_TEXT[kind].format(where))
                    break
        if got != -gold:
            parts.append(f"Your answer is too {'large' if got > gold else 'small'}.")
        return self.wrong(task, parts)

    def wrong_completion(self, task: Task) -> str:
        gold = Fraction(task.answer)
        for kind, _, total in mistakes(task.data["tree"]):
            if total != gold:
                return f"Working it through, I get {num(total)}.\n\n\\boxed{{{num(total)}}}"
        near = gold + 1
        return f"So the result is {num(near)}.\n\n\\boxed{{{num(near)}}}"
