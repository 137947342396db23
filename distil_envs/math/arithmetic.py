"""Multi-digit arithmetic with order of operations."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Union

import numpy as np

from distil_envs.core import Feedback, Task
from distil_envs.env import stable_task_id
from distil_envs.math.base import BOXED_INSTRUCTION, MathProceduralEnv

PRECEDENCE = {"+": 1, "-": 1, "×": 2, "÷": 2}


def _divide(a, b):
    """Exact division that stays an int when it can (ints are much faster than Fractions)."""
    if type(a) is int and type(b) is int and b and a % b == 0:
        return a // b
    return Fraction(a) / b


APPLY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "×": lambda a, b: a * b, "÷": _divide}


@dataclass(frozen=True)
class Op:
    op: str
    left: "Node"
    right: "Node"


Node = Union[int, Op]

# difficulty -> (operand count, max digits, operators, negative operands allowed)
LEVELS = {1: (3, 2, "+-×", False), 2: (4, 2, "+-×", False), 3: (5, 3, "+-×÷", False), 4: (6, 3, "+-×÷", True)}


def evaluate(node: Node) -> int | Fraction:
    if isinstance(node, int):
        return node
    return APPLY[node.op](evaluate(node.left), evaluate(node.right))


def render(node: Node, parent: int = 0, right_of: str = "") -> str:
    if isinstance(node, int):
        return f"({node})" if node < 0 else str(node)
    text = f"{render(node.left, PRECEDENCE[node.op])} {node.op} {render(node.right, PRECEDENCE[node.op], node.op)}"
    needs = PRECEDENCE[node.op] < parent or (PRECEDENCE[node.op] == parent and right_of in ("-", "÷"))
    return f"({text})" if needs else text


def left_to_right(node: Node) -> int | Fraction | None:
    """The value when operators are applied left to right, ignoring precedence (parentheses kept)."""
    def flat(n: Node, parent: int = 0, right_of: str = "") -> list:
        if isinstance(n, int):
            return [n]
        inner = flat(n.left, PRECEDENCE[n.op]) + [n.op] + flat(n.right, PRECEDENCE[n.op], n.op)
        needs = PRECEDENCE[n.op] < parent or (PRECEDENCE[n.op] == parent and right_of in ("-", "÷"))
        return [run(inner)] if needs else inner

    def run(tokens: list) -> int | Fraction:
        value = tokens[0]
        for op, operand in zip(tokens[1::2], tokens[2::2]):
            if op == "÷" and operand == 0:
                raise ZeroDivisionError
            value = APPLY[op](value, operand)
        return value

    try:
        return run(flat(node))
    except ZeroDivisionError:
        return None


def swapped_values(node: Node) -> list[tuple[str, Fraction]]:
    """(sub-expression, total) when exactly one operator is mistaken for its usual confusion."""
    confusions = {"+": "-×", "-": "+", "×": "+", "÷": "×"}
    found: list[tuple[str, Fraction]] = []

    def walk(n: Node, rebuild) -> None:
        if isinstance(n, int):
            return
        for other in confusions[n.op]:
            try:
                found.append((f"{render(n.left, 3)} {n.op} {render(n.right, 3)}", evaluate(rebuild(Op(other, n.left, n.right)))))
            except ZeroDivisionError:
                pass
        walk(n.left, lambda x, n=n: rebuild(Op(n.op, x, n.right)))
        walk(n.right, lambda x, n=n: rebuild(Op(n.op, n.left, x)))

    walk(node, lambda x: x)
    return found


def solution_steps(node: Node) -> list[str]:
    """Evaluate the leftmost innermost operation, one step at a time."""
    steps = [render(node)]

    def reduce_once(n: Node) -> Node:
        if isinstance(n, int):
            return n
        if isinstance(n.left, int) and isinstance(n.right, int):
            return int(evaluate(n))
        if not isinstance(n.left, int):
            return Op(n.op, reduce_once(n.left), n.right)
        return Op(n.op, n.left, reduce_once(n.right))

    while not isinstance(node, int):
        node = reduce_once(node)
        steps.append(render(node))
    return steps


class ArithmeticEnv(MathProceduralEnv):
    """Multi-digit integer arithmetic with order of operations.

    Description:
        An expression over integers with +, -, ×, ÷ and parentheses, e.g.
        "Compute 47 + 12 × (35 - 8)." Every division is exact, so the value is an integer.

    Observation:
        The prompt: the expression and "end with the final answer as \\boxed{...}".
        After a step, the feedback message.

    Action:
        The completion text. The answer is the last \\boxed{...}, else an "Answer:" line,
        else the last number.

    Reward:
        1 if the answer equals the value exactly ("3.0" counts as 3), else 0.

    Episode end:
        When correct or after `max_attempts` attempts.

    Feedback:
        format_error: "No final answer found: end with \\boxed{...}." / unreadable answer.
        wrong_answer (diagnostic): "the answer should be an integer"; "you worked left to
        right ..." when the answer equals the value with precedence ignored; "`a × b` seems
        to have been added" when one mistaken operator explains the answer; wrong sign;
        too large / too small and the number of digits. The value itself only appears
        at level `correction` (with the step-by-step evaluation).

    Arguments:
        difficulty: 1 (3 operands, 2 digits, + - ×) to 4 (6 operands, 3 digits, ÷,
        negative operands). Plus `feedback` and `max_attempts` of every env.

    Version history:
        v0: initial version.
    """

    family = "arithmetic"
    max_difficulty = 4

    def _leaf(self, rng: np.random.Generator, digits: int, negatives: bool) -> int:
        value = int(rng.integers(1, 10 ** digits))
        return -value if negatives and rng.random() < 0.25 else value

    def _sum(self, rng: np.random.Generator, leaves: int, parens: bool) -> Node:
        """A sum/difference of terms using exactly `leaves` numbers."""
        _, digits, _, negatives = LEVELS[self.difficulty]
        if leaves == 1:
            return self._leaf(rng, digits, negatives)
        terms = int(rng.integers(max(1, (leaves + 2) // 3), min(leaves, 4) + 1))  # terms of <= ~3 numbers
        cuts = sorted(int(c) for c in rng.choice(np.arange(1, leaves), size=terms - 1, replace=False))
        sizes = [b - a for a, b in zip([0] + cuts, cuts + [leaves])]
        node = self._term(rng, sizes[0], parens)
        for size in sizes[1:]:
            node = Op("+" if rng.random() < 0.5 else "-", node, self._term(rng, size, parens))
        return node

    def _term(self, rng: np.random.Generator, leaves: int, parens: bool) -> Node:
        """A product or exact quotient using exactly `leaves` numbers."""
        _, digits, ops, negatives = LEVELS[self.difficulty]
        if leaves == 1:
            return self._leaf(rng, digits, negatives)
        if "÷" in ops and leaves == 2 and rng.random() < 0.5:
            divisor = int(rng.integers(2, 13))
            return Op("÷", divisor * int(rng.integers(1, 10 ** min(digits, 2))), divisor)
        if parens and leaves >= 3 and rng.random() < 0.6:  # a parenthesised sum times a short factor
            inner = self._sum(rng, leaves - 1, parens=False)
            if isinstance(inner, int) or inner.op not in "+-":
                inner = Op("+", inner, self._leaf(rng, digits, negatives)) if leaves - 1 == 1 else inner
            factor = int(rng.integers(2, 13))
            return Op("×", factor, inner) if rng.random() < 0.5 else Op("×", inner, factor)
        node: Node = self._leaf(rng, digits, negatives)
        for _ in range(leaves - 1):
            node = Op("×", node, int(rng.integers(2, 13)))
        return node

    def generate(self, rng: np.random.Generator) -> Task:
        leaves, digits, ops, negatives = LEVELS[self.difficulty]
        tree = self._sum(rng, leaves, parens=self.difficulty >= 2)
        value = evaluate(tree)
        expression = render(tree)
        steps = solution_steps(tree)
        return Task(
            task_id=stable_task_id("math-arithmetic", expression),
            prompt=f"Compute {expression}.\n\n{BOXED_INSTRUCTION}",
            answer=str(int(value)),
            solution="Multiplication and division before addition and subtraction, innermost parentheses first:\n"
                     + "\n= ".join(steps),
            data={"expression": expression, "tree": tree},
            metadata=self.metadata_for(operands=leaves),
        )

    def check(self, task: Task, completion: str) -> Feedback:
        verdict, early = self.screen(task, completion, "a number")
        if early is not None:
            return early
        gold, got, tree = Fraction(int(task.answer)), verdict.value, task.data["tree"]
        parts = []
        if got.denominator != 1:
            parts.append("The answer should be an integer: every division in this expression is exact.")
        if got == -gold:
            parts.append("Your answer has the wrong sign; check the subtractions and negative numbers.")
        elif got == left_to_right(tree):
            parts.append("It looks like you worked left to right: multiplication and division come before "
                         "addition and subtraction.")
        else:
            for sub, total in swapped_values(tree):
                if total == got:
                    parts.append(f"One operation looks wrong: check `{sub}`.")
                    break
        if got != -gold:
            size = "too large" if got > gold else "too small"
            parts.append(f"Your answer is {size}.")
            gold_digits, got_digits = len(str(abs(int(gold)))), len(str(abs(int(got))))
            if gold_digits != got_digits:
                parts.append(f"The value has {gold_digits} digit{'s' * (gold_digits > 1)} (ignoring the sign); "
                             f"yours has {got_digits}.")
        return self.wrong(task, parts)

    def wrong_completion(self, task: Task) -> str:
        gold = int(task.answer)
        near = left_to_right(task.data["tree"])
        if near is None or near == gold or near.denominator != 1:
            near = Fraction(gold + 10)
        return f"Working left to right, {task.data['expression']} = {int(near)}.\n\n\\boxed{{{int(near)}}}"
