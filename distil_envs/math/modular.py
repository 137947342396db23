"""Modular arithmetic and elementary number theory."""

from __future__ import annotations

import math

import numpy as np

from distil_envs.core import Feedback, Task
from distil_envs.env import stable_task_id
from distil_envs.math.base import BOXED_INSTRUCTION, MathProceduralEnv

# difficulty -> task kinds drawn uniformly, and the size of the numbers
LEVELS = {1: (("gcd", "lcm", "remainder"), 99), 2: (("gcd", "lcm", "power"), 999),
          3: (("inverse", "power", "congruence"), 199), 4: (("inverse", "congruence", "crt"), 997)}


def euclid_steps(a: int, b: int) -> list[str]:
    steps = []
    while b:
        steps.append(f"{a} = {a // b}·{b} + {a % b}")
        a, b = b, a % b
    return steps


def square_and_multiply(a: int, k: int, n: int) -> list[str]:
    steps, power, square, result = [], 1, a % n, 1
    while power <= k:
        if k & power:
            result = result * square % n
        steps.append(f"{a}^{power} ≡ {square} (mod {n})")
        power, square = power * 2, square * square % n
    used = " + ".join(str(1 << i) for i in range(k.bit_length()) if k >> i & 1)
    steps.append(f"{k} = {used}, so multiply those powers mod {n}.")
    return steps


class ModularEnv(MathProceduralEnv):
    """Modular arithmetic and number theory: gcd, lcm, remainders, powers, inverses, congruences.

    Description:
        One question per task, e.g. "Compute 7^45 mod 23.", "Find the inverse of 17
        modulo 60.", "Find the smallest non-negative x with 14x ≡ 6 (mod 32)." The kinds
        drawn depend on the difficulty.

    Observation:
        The prompt: the question, "answer with a non-negative integer" and the
        \\boxed{...} instruction.

    Action:
        The completion text; the answer is the last \\boxed{...}, else an "Answer:" line,
        else the last number.

    Reward:
        1 if the integer is exactly right, else 0.

    Episode end:
        When correct or after `max_attempts` attempts.

    Feedback:
        format_error: no final answer / not an integer.
        wrong_answer (diagnostic): checks of the submitted number against the definition:
        "41 does not divide 123"; "divides both, but is not the greatest"; "is a common
        multiple but not the least"; "17·23 = 391 ≡ 31 (mod 60), not 1"; out of the range
        0..n-1; a congruence that fails with its remainder. The value only appears at level
        `correction`, with Euclid / square-and-multiply / CRT steps.

    Arguments:
        difficulty: 1 (gcd, lcm, remainders of 2-digit numbers) to 4 (inverses, linear
        congruences and the Chinese remainder theorem up to about 1000).

    Version history:
        v0: initial version.
    """

    family = "modular"
    max_difficulty = 4

    def generate(self, rng: np.random.Generator) -> Task:
        kinds, size = LEVELS[self.difficulty]
        kind = kinds[int(rng.integers(len(kinds)))]

        def draw(low: int = 2, high: int = size) -> int:
            return int(rng.integers(low, high + 1))

        if kind in ("gcd", "lcm"):
            factor = draw(2, max(3, int(size ** 0.5)))
            a, b = factor * draw(2, size // factor), factor * draw(2, size // factor)
            while a == b:
                b = factor * draw(2, size // factor + 1)
            g = math.gcd(a, b)
            if kind == "gcd":
                question, answer = f"Compute gcd({a}, {b}).", g
                solution = "Euclid's algorithm:\n" + "\n".join(euclid_steps(max(a, b), min(a, b))) + f"\ngcd = {g}."
            else:
                question, answer = f"Compute lcm({a}, {b}).", a * b // g
                solution = (f"gcd({a}, {b}) = {g} (Euclid), so lcm = {a}·{b} / {g} = {a * b // g}.")
            data = {"kind": kind, "a": a, "b": b}
        elif kind == "remainder":
            a, n = draw(100, 9999), draw(3, 30)
            question, answer = f"Compute {a} mod {n}.", a % n
            solution = f"{a} = {a // n}·{n} + {a % n}, so {a} mod {n} = {a % n}."
            data = {"kind": kind, "a": a, "n": n}
        elif kind == "power":
            n = draw(5, 60 if self.difficulty == 2 else size)
            a, k = draw(2, n - 1), draw(5, 30 if self.difficulty == 2 else 1000)
            question, answer = f"Compute {a}^{k} mod {n}.", pow(a, k, n)
            solution = "Square and multiply:\n" + "\n".join(square_and_multiply(a, k, n)) + f"\nResult: {pow(a, k, n)}."
            data = {"kind": kind, "a": a, "k": k, "n": n}
        elif kind == "inverse":
            n = draw(7, size)
            a = draw(2, n - 1)
            while math.gcd(a, n) != 1:
                a = draw(2, n - 1)
            inverse = pow(a, -1, n)
            question, answer = f"Find the inverse of {a} modulo {n}, as an integer from 0 to {n - 1}.", inverse
            solution = ("Extended Euclid on ({n}, {a}):\n".format(n=n, a=a) + "\n".join(euclid_steps(n, a))
                        + f"\nBack-substituting gives {a}·{inverse} ≡ 1 (mod {n}), so the inverse is {inverse}.")
            data = {"kind": kind, "a": a, "n": n}
        elif kind == "congruence":
            g = draw(1, 4) if self.difficulty == 4 else 1
            n = g * draw(max(3, 8 // g), size // g)
            a = g * draw(1, n // g - 1)
            while math.gcd(a // g, n // g) != 1:
                a = g * draw(1, n // g - 1)
            b = a * draw(0, n - 1) % n
            m = n // g
            x = (b // g) * pow(a // g, -1, m) % m
            question = f"Find the smallest non-negative integer x with {a}x ≡ {b} (mod {n})."
            answer = x
            solution = (f"gcd({a}, {n}) = {g}, which divides {b}; divide by it: {a // g}x ≡ {b // g} (mod {m}). "
                        f"The inverse of {a // g} mod {m} is {pow(a // g, -1, m) if m > 1 else 0}, so "
                        f"x ≡ {x} (mod {m}); the smallest non-negative solution is {x}.")
            data = {"kind": kind, "a": a, "b": b, "n": n}
        else:  # crt
            m1 = draw(3, 40)
            m2 = draw(3, 40)
            while math.gcd(m1, m2) != 1:
                m2 = draw(3, 40)
            r1, r2 = draw(0, m1 - 1), draw(0, m2 - 1)
            x = next(v for v in range(m1 * m2) if v % m1 == r1 and v % m2 == r2)
            question = f"Find the smallest non-negative integer x with x ≡ {r1} (mod {m1}) and x ≡ {r2} (mod {m2})."
            answer = x
            solution = (f"x = {r1} + {m1}t. Then {m1}t ≡ {r2} - {r1} (mod {m2}); the inverse of {m1 % m2} mod {m2} is "
                        f"{pow(m1, -1, m2)}, so t ≡ {(r2 - r1) * pow(m1, -1, m2) % m2} and x = {x} "
                        f"(unique mod {m1 * m2}).")
            data = {"kind": kind, "rows": ((r1, m1), (r2, m2))}
        return Task(task_id=stable_task_id("math-modular", question), prompt=f"{question} Answer with a non-negative "
                    f"integer.\n\n{BOXED_INSTRUCTION}", answer=str(answer), solution=solution, data=data,
                    metadata=self.metadata_for(kind=kind))

    def check(self, task: Task, completion: str) -> Feedback:
        verdict, early = self.screen(task, completion, "an integer", integer=True)
        if early is not None:
            return early
        got, d, kind = int(verdict.value), task.data, task.data["kind"]
        parts: list[str] = []
        if got < 0:
            parts.append("The answer is a non-negative integer.")
        if kind == "gcd":
            missing = [v for v in (d["a"], d["b"]) if got == 0 or v % got]
            parts.append(f"{got} does not divide {' or '.join(map(str, missing))}." if missing else
                         f"{got} divides both numbers, but it is not the greatest common divisor.")
        elif kind == "lcm":
            missing = [v for v in (d["a"], d["b"]) if got == 0 or got % v]
            parts.append(f"{got} is not a multiple of {' or '.join(map(str, missing))}." if missing else
                         f"{got} is a common multiple, but not the least one.")
        elif kind in ("remainder", "power", "inverse", "congruence"):
            n = d["n"]
            if not 0 <= got < n:
                parts.append(f"The answer must be between 0 and {n - 1}.")
            if kind == "power" and got == d["a"] * d["k"] % n:
                parts.append(f"That is {d['a']}·{d['k']} mod {n}: the question raises {d['a']} to the power "
                             f"{d['k']}, it does not multiply.")
            if kind == "remainder" and got == d["a"] // n:
                parts.append(f"That is the quotient of {d['a']} ÷ {n}; the question asks for the remainder.")
            elif kind == "remainder" and 0 <= got < n:
                parts.append(f"{d['a']} - {got} = {d['a'] - got} is not a multiple of {n}.")
            if kind == "inverse":
                parts.append(f"{d['a']}·{got} = {d['a'] * got} ≡ {d['a'] * got % n} (mod {n}), not 1.")
            if kind == "congruence":
                residue = d["a"] * got % n
                parts.append(f"{d['a']}·{got} ≡ {residue} (mod {n}), not {d['b']}." if residue != d["b"] % n else
                             "It satisfies the congruence, but it is not the smallest non-negative solution.")
        else:
            for r, m in d["rows"]:
                if got % m != r:
                    parts.append(f"{got} mod {m} = {got % m}, not {r}.")
            if len(parts) == (got < 0):
                parts.append("It satisfies both congruences, but it is not the smallest non-negative one.")
        if kind not in ("gcd", "lcm") and got >= 0:
            parts.append(f"Your answer is too {'large' if got > int(task.answer) else 'small'}.")
        return self.wrong(task, parts, "That is not the right integer.")

    def wrong_completion(self, task: Task) -> str:
        gold, d = int(task.answer), task.data
        near = {"gcd": gold * 2 if gold * 2 <= min(d.get("a", 0), d.get("b", 0)) else max(1, gold // 2),
                "lcm": gold * 2, "remainder": gold + 1, "power": gold + 1, "inverse": gold + 1,
                "congruence": gold + 1, "crt": gold + 1}[d["kind"]]
        if near == gold:
            near = gold + 1
        return f"Carefully computing, the result is {near}.\n\n\\boxed{{{near}}}"
