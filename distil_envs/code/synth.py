"""Procedural programming tasks: `distil/code-synth-v0`.

Each template draws its parameters (a constant, a letter, a word pair...) and its test
inputs from the rng, and carries two independent implementations: the reference
*source* the model should write, and a plain Python function that computes the
expected outputs. tests/code/test_synth.py checks, for thousands of seeds, that the
two agree, so every task's reference passes its own tests.

Difficulty 1 tasks have one-line reference bodies (a tiny model can learn them on a
CPU); 2 adds loops and state; 3 small algorithms.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np

from distil_envs.code.base import CodeEnv, code_fence, expected_value, function_test
from distil_envs.core import Task
from distil_envs.env import ProceduralEnv, stable_task_id

LETTERS = "abcdefghijklmnopqrstuvwxyz"
WORDS = ("apple", "river", "stone", "cloud", "tiger", "lemon", "north", "pixel", "green", "delta", "ocean",
         "maple", "robot", "sugar", "amber", "quiet", "level", "radar", "noon", "kayak")
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


@dataclass(frozen=True)
class Spec:
    """One drawn task: what the prompt says, the reference source, and the expected-value oracle."""

    name: str
    params: str  # "xs: list[int]"
    returns: str  # "list[int]"
    description: str  # completes "It ..."
    body: str  # the reference body, indented by 4 spaces
    oracle: Callable[..., Any]  # independent implementation that computes expected outputs
    inputs: list[tuple]  # argument tuples; the first `public` are shown as examples

    @property
    def signature(self) -> str:
        return f"def {self.name}({self.params}) -> {self.returns}:"

    @property
    def reference(self) -> str:
        return f"{self.signature}\n{self.body}"


def _int(rng: np.random.Generator, lo: int, hi: int) -> int:
    return int(rng.integers(lo, hi + 1))


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _int_list(rng, lo=-9, hi=20, min_len=0, max_len=7) -> list[int]:
    return [_int(rng, lo, hi) for _ in range(_int(rng, min_len, max_len))]


def _lists(rng, count, short=2, lo=-9, hi=20, min_len=0, max_len=7) -> list[tuple]:
    """`count` argument tuples holding one int list; the first `short` (the examples) have 2-4 elements."""
    examples = [(_int_list(rng, lo, hi, max(min_len, 2), min(max_len, 4)),) for _ in range(short)]
    return examples + [(_int_list(rng, lo, hi, min_len, max_len),) for _ in range(count - short)]


def _word(rng) -> str:
    return _pick(rng, WORDS)


def _text(rng, max_words=5) -> str:
    return " ".join(_word(rng) for _ in range(_int(rng, 1, max_words)))


# ---------------------------------------------------------------- difficulty 1: one-line references
def add_constant(rng):
    k = _int(rng, 1, 9)
    return Spec("add_all", "xs: list[int]", "list[int]", f"returns a new list with {k} added to every element of xs.",
                f"    return [x + {k} for x in xs]", lambda xs: [x + k for x in xs], _lists(rng, 7))


def multiply_all(rng):
    k = _int(rng, 2, 9)
    return Spec("multiply_all", "xs: list[int]", "list[int]", f"returns a new list with every element of xs times {k}.",
                f"    return [x * {k} for x in xs]", lambda xs: list(map(lambda x: k * x, xs)), _lists(rng, 7))


def count_above(rng):
    t = _int(rng, 0, 10)
    return Spec("count_above", "xs: list[int]", "int", f"returns how many elements of xs are greater than {t}.",
                f"    return sum(1 for x in xs if x > {t})", lambda xs: len([x for x in xs if not x <= t]),
                _lists(rng, 7))


def sum_parity(rng):
    even = bool(rng.integers(2))
    word, test = ("even", "x % 2 == 0") if even else ("odd", "x % 2 == 1")
    return Spec(f"sum_{word}", "xs: list[int]", "int", f"returns the sum of the {word} numbers in xs.",
                f"    return sum(x for x in xs if {test})",
                lambda xs: sum(filter(lambda x: (x % 2 == 0) == even, xs)), _lists(rng, 7))


def reverse_text(rng):
    inputs = [(_word(rng),), (_text(rng, 3),)] + [(_text(rng),) for _ in range(4)] + [("",)]
    return Spec("reverse_text", "s: str", "str", "returns s reversed.", "    return s[::-1]",
                lambda s: "".join(reversed(s)), inputs)


def repeat_text(rng):
    k = _int(rng, 2, 5)
    sep = _pick(rng, ["", "-", " ", ","])
    said = "nothing" if not sep else repr(sep)
    inputs = [(_word(rng),) for _ in range(6)] + [("",)]
    return Spec("repeat_text", "s: str", "str", f"returns s repeated {k} times, joined by {said}.",
                f"    return {sep!r}.join([s] * {k})", lambda s: sep.join(s for _ in range(k)), inputs)


def spread(rng):
    return Spec("spread", "xs: list[int]", "int", "returns the largest element of xs minus the smallest (xs is not empty).",
                "    return max(xs) - min(xs)", lambda xs: sorted(xs)[-1] - sorted(xs)[0],
                _lists(rng, 7, min_len=1, lo=-50, hi=50))


def count_letter(rng):
    c = _pick(rng, "aeiolnrst")
    inputs = [(_word(rng),), (_text(rng, 3),)] + [(_text(rng),) for _ in range(5)]
    return Spec("count_letter", "s: str", "int", f"returns how many times the letter {c!r} occurs in s.",
                f"    return s.count({c!r})", lambda s: sum(ch == c for ch in s), inputs)


def digit_sum(rng):
    inputs = [(_int(rng, 10, 999),) for _ in range(2)] + [(_int(rng, 0, 10 ** _int(rng, 1, 9)),) for _ in range(5)]
    return Spec("digit_sum", "n: int", "int", "returns the sum of the decimal digits of n (n >= 0).",
                "    return sum(int(d) for d in str(n))", _digit_sum, inputs + [(0,)])


def _digit_sum(n):
    total = 0
    while n:
        n, d = divmod(n, 10)
        total += d
    return total


def is_palindrome(rng):
    pals = ["level", "radar", "noon", "kayak", "abba", "x", "", "racecar", "stats"]
    inputs = [(_pick(rng, pals),), (_word(rng),)] + [(_pick(rng, pals) if rng.integers(2) else _word(rng),)
                                                     for _ in range(5)] + [("ab",), ("aba",)]
    return Spec("is_palindrome", "s: str", "bool", "returns True if s reads the same forwards and backwards.",
                "    return s == s[::-1]", lambda s: all(s[i] == s[-1 - i] for i in range(len(s) // 2)), inputs)


def take_first(rng):
    k = _int(rng, 1, 4)
    return Spec("take_first", "xs: list[int]", "list[int]", f"returns the first {k} elements of xs (all of xs if it is shorter).",
                f"    return xs[:{k}]", lambda xs: [x for i, x in enumerate(xs) if i < k], _lists(rng, 7))


def keep_multiples(rng):
    k = _int(rng, 2, 5)
    return Spec("keep_multiples", "xs: list[int]", "list[int]", f"returns the elements of xs that are divisible by {k}, in order.",
                f"    return [x for x in xs if x % {k} == 0]", lambda xs: [x for x in xs if math.gcd(x, k) == k],
                _lists(rng, 7, lo=0, hi=30))


# ---------------------------------------------------------------- difficulty 2: loops and state
def running_sum(rng):
    body = "    out, total = [], 0\n    for x in xs:\n        total += x\n        out.append(total)\n    return out"
    return Spec("running_sum", "xs: list[int]", "list[int]", "returns the running sums of xs: element i is xs[0] + ... + xs[i].",
                body, lambda xs: [sum(xs[: i + 1]) for i in range(len(xs))], _lists(rng, 8, short=3))


def dedupe(rng):
    body = "    seen, out = set(), []\n    for x in xs:\n        if x not in seen:\n            seen.add(x)\n            out.append(x)\n    return out"
    return Spec("dedupe", "xs: list[int]", "list[int]", "returns xs without repeated elements, keeping the first occurrence of each, in order.",
                body, lambda xs: list(dict.fromkeys(xs)), _lists(rng, 8, short=3, lo=0, hi=5, max_len=9))


def rotate_left(rng):
    k = _int(rng, 1, 4)
    body = f"    if not xs:\n        return []\n    k = {k} % len(xs)\n    return xs[k:] + xs[:k]"
    return Spec("rotate_left", "xs: list[int]", "list[int]",
                f"returns xs rotated left by {k} positions (the first element moves to the end, {k} times).",
                body, lambda xs: _rotate(xs, k), _lists(rng, 8, short=3))


def _rotate(xs, k):
    xs = list(xs)
    for _ in range(k if xs else 0):
        xs.append(xs.pop(0))
    return xs


def caesar(rng):
    k = _int(rng, 1, 25)
    body = (f"    return ''.join(chr((ord(c) - ord('a') + {k}) % 26 + ord('a')) if c.islower() else c for c in s)")
    inputs = [(_word(rng),), (_text(rng, 3),)] + [(_text(rng),) for _ in range(6)]
    return Spec("caesar", "s: str", "str",
                f"shifts every lowercase letter of s forward by {k} in the alphabet, wrapping from z to a; "
                "other characters stay as they are.", body,
                lambda s: "".join(LETTERS[(LETTERS.index(c) + k) % 26] if c in LETTERS else c for c in s), inputs)


def fizzbuzz(rng):
    a, b = _pick(rng, [(2, 3), (3, 5), (2, 5), (3, 4), (4, 7)])
    wa, wb = _pick(rng, [("Fizz", "Buzz"), ("Foo", "Bar"), ("Ping", "Pong")])
    body = (f"    out = []\n    for i in range(1, n + 1):\n        word = ''\n        if i % {a} == 0:\n"
            f"            word += {wa!r}\n        if i % {b} == 0:\n            word += {wb!r}\n"
            f"        out.append(word or str(i))\n    return out")
    oracle = lambda n: [(wa if i % a == 0 else "") + (wb if i % b == 0 else "") or str(i) for i in range(1, n + 1)]
    inputs = [(_int(rng, 3, 6),), (_int(rng, 7, 12),)] + [(_int(rng, 0, 30),) for _ in range(6)]
    return Spec("fizzbuzz", "n: int", "list[str]",
                f"returns, for i = 1..n, {wa!r} if i is divisible by {a}, {wb!r} if by {b}, {wa + wb!r} if by both, "
                "else str(i).", body, oracle, inputs)


def run_length(rng):
    body = ("    out, i = '', 0\n    while i < len(s):\n        j = i\n        while j < len(s) and s[j] == s[i]:\n"
            "            j += 1\n        out += s[i] + str(j - i)\n        i = j\n    return out")

    def oracle(s):
        groups = []
        for c in s:
            if groups and groups[-1][0] == c:
                groups[-1][1] += 1
            else:
                groups.append([c, 1])
        return "".join(f"{c}{n}" for c, n in groups)

    letters = _pick(rng, ["ab", "abc", "xyz", "aab"])
    inputs = [("".join(_pick(rng, letters) for _ in range(_int(rng, 3, 10))),) for _ in range(8)] + [("",)]
    return Spec("run_length", "s: str", "str", "returns the run-length encoding of s: each run of equal characters "
                "becomes the character followed by the run's length (\"aaab\" -> \"a3b1\").", body, oracle, inputs)


def second_largest(rng):
    body = "    return sorted(set(xs))[-2]"
    inputs = []
    while len(inputs) < 8:
        xs = _int_list(rng, lo=-20, hi=20, min_len=2, max_len=8 if inputs else 4)
        if len(set(xs)) >= 2:
            inputs.append((xs,))
    return Spec("second_largest", "xs: list[int]", "int",
                "returns the second largest distinct value in xs (xs holds at least two distinct values).",
                body, lambda xs: max(x for x in xs if x != max(xs)), inputs)


def gcd_of(rng):
    body = "    while b:\n        a, b = b, a % b\n    return a"

    def oracle(a, b):
        return max(d for d in range(1, max(a, b) + 1) if a % d == 0 and b % d == 0) if a or b else 0

    inputs = [(_int(rng, 2, 30), _int(rng, 2, 30)) for _ in range(2)]
    inputs += [(g * _int(rng, 1, 20), g * _int(rng, 1, 20)) for g in (_int(rng, 1, 12) for _ in range(5))] + [(0, 7)]
    return Spec("gcd", "a: int, b: int", "int", "returns the greatest common divisor of a and b (a, b >= 0).",
                body, oracle, inputs)


# ---------------------------------------------------------------- difficulty 3: small algorithms
def merge_sorted(rng):
    body = ("    i = j = 0\n    out = []\n    while i < len(a) and j < len(b):\n        if a[i] <= b[j]:\n"
            "            out.append(a[i])\n            i += 1\n        else:\n            out.append(b[j])\n"
            "            j += 1\n    return out + a[i:] + b[j:]")
    inputs = [(sorted(_int_list(rng, max_len=4 if i < 3 else 8)), sorted(_int_list(rng, max_len=4 if i < 3 else 8)))
              for i in range(9)]
    return Spec("merge_sorted", "a: list[int], b: list[int]", "list[int]",
                "merges two sorted lists into one sorted list without calling sort or sorted.",
                body, lambda a, b: sorted(a + b), inputs)


def balanced(rng):
    pairs = _pick(rng, ["()", "()[]", "()[]{}"])
    opens, closes = pairs[0::2], pairs[1::2]
    body = (f"    match = {dict(zip(closes, opens))!r}\n    stack = []\n    for c in s:\n        if c in {opens!r}:\n"
            "            stack.append(c)\n        elif c in match:\n            if not stack or stack.pop() != match[c]:\n"
            "                return False\n    return not stack")

    def oracle(s):
        s = "".join(c for c in s if c in pairs)
        previous = None
        while previous != s:
            previous = s
            for i in range(0, len(pairs), 2):
                s = s.replace(pairs[i: i + 2], "")
        return s == ""

    def draw(valid_bias):
        if rng.random() < valid_bias:
            s = ""
            for _ in range(_int(rng, 1, 4)):
                i = 2 * _int(rng, 0, len(opens) - 1)
                s = _pick(rng, [pairs[i] + s + pairs[i + 1], s + pairs[i: i + 2]])
            return s
        return "".join(_pick(rng, pairs) for _ in range(_int(rng, 1, 8)))

    inputs = [(draw(1.0),), (draw(0.0),)] + [(draw(0.5),) for _ in range(7)] + [("",)]
    return Spec("balanced", "s: str", "bool",
                f"returns True if the brackets {' '.join(pairs[i:i + 2] for i in range(0, len(pairs), 2))} in s are "
                "balanced and properly nested.", body, oracle, inputs)


def longest_run(rng):
    body = ("    best = cur = 0\n    for i, x in enumerate(xs):\n        cur = cur + 1 if i and x > xs[i - 1] else 1\n"
            "        best = max(best, cur)\n    return best")

    def oracle(xs):
        return max((j - i for i in range(len(xs)) for j in range(i + 1, len(xs) + 1)
                    if all(xs[t] < xs[t + 1] for t in range(i, j - 1))), default=0)

    return Spec("longest_run", "xs: list[int]", "int",
                "returns the length of the longest strictly increasing run of consecutive elements of xs.",
                body, oracle, _lists(rng, 9, short=3, max_len=10))


def two_sum(rng):
    body = ("    seen = {}\n    for j, x in enumerate(xs):\n        if target - x in seen:\n"
            "            return [seen[target - x], j]\n        seen[x] = j\n    return []")

    def oracle(xs, target):
        return next(([i, j] for j in range(len(xs)) for i in range(j) if xs[i] + xs[j] == target), [])

    inputs = []
    for n in (4, 5, 6, 7, 8, 9, 10, 6):
        xs = [int(v) for v in rng.choice(np.arange(-20, 40), size=n, replace=False)]
        i, j = sorted(int(v) for v in rng.choice(n, size=2, replace=False))
        inputs.append((xs, xs[i] + xs[j]))
    inputs.append(([1, 2], 100))
    return Spec("two_sum", "xs: list[int], target: int", "list[int]",
                "returns [i, j] with i < j and xs[i] + xs[j] == target, choosing the pair with the smallest j "
                "(then the smallest i); [] if there is none. The values in xs are distinct.", body, oracle, inputs)


def transpose(rng):
    body = "    return [list(row) for row in zip(*m)]"
    inputs = []
    for i in range(8):
        rows, cols = _int(rng, 1, 3 if i < 2 else 4), _int(rng, 1, 3 if i < 2 else 4)
        inputs.append(([[_int(rng, 0, 9) for _ in range(cols)] for _ in range(rows)],))
    return Spec("transpose", "m: list[list[int]]", "list[list[int]]",
                "returns the transpose of the non-empty rectangular matrix m (rows become columns).",
                body, lambda m: [[m[r][c] for r in range(len(m))] for c in range(len(m[0]))], inputs)


def primes_up_to(rng):
    body = ("    return [p for p in range(2, n + 1) if all(p % d for d in range(2, int(p ** 0.5) + 1))]")

    def oracle(n):
        sieve = [True] * (n + 1)
        for p in range(2, n + 1):
            for q in range(2 * p, n + 1, p):
                sieve[q] = False
        return [p for p in range(2, n + 1) if sieve[p]]

    inputs = [(_int(rng, 5, 12),), (_int(rng, 13, 20),)] + [(_int(rng, 0, 120),) for _ in range(6)] + [(1,)]
    return Spec("primes_up_to", "n: int", "list[int]", "returns the primes p <= n, in increasing order.",
                body, oracle, inputs)


def fib_mod(rng):
    m = _pick(rng, [10, 100, 7, 13, 1000])
    body = f"    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, (a + b) % {m}\n    return a"

    def oracle(n):
        phi = (1 + 5 ** 0.5) / 2
        if n < 40:
            return round(phi ** n / 5 ** 0.5) % m
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        return a % m

    inputs = [(_int(rng, 3, 9),), (_int(rng, 10, 15),)] + [(_int(rng, 0, 300),) for _ in range(6)] + [(0,)]
    return Spec("fib_mod", "n: int", "int",
                f"returns the n-th Fibonacci number (fib(0) = 0, fib(1) = 1) modulo {m}.", body, oracle, inputs)


def most_common_word(rng):
    body = ("    counts = {}\n    for w in s.split():\n        counts[w] = counts.get(w, 0) + 1\n"
            "    return min(counts, key=lambda w: (-counts[w], w))")

    def oracle(s):
        words = s.split()
        return sorted(set(words), key=lambda w: (-words.count(w), w))[0]

    vocab = [_word(rng) for _ in range(4)]
    inputs = [(" ".join(_pick(rng, vocab) for _ in range(_int(rng, 2, 5 if i < 2 else 12))),) for i in range(9)]
    return Spec("most_common_word", "s: str", "str",
                "returns the word that occurs most often in s (words are separated by spaces; s has at least one); "
                "ties go to the alphabetically smallest word.", body, oracle, inputs)


TEMPLATES: dict[int, tuple[Callable[[np.random.Generator], Spec], ...]] = {
    1: (add_constant, multiply_all, count_above, sum_parity, reverse_text, repeat_text, spread, count_letter,
        digit_sum, is_palindrome, take_first, keep_multiples),
    2: (running_sum, dedupe, rotate_left, caesar, fizzbuzz, run_length, second_largest, gcd_of),
    3: (merge_sorted, balanced, longest_run, two_sum, transpose, primes_up_to, fib_mod, most_common_word),
}
PUBLIC_EXAMPLES = {1: 2, 2: 3, 3: 3}


def build_task(template: Callable[[np.random.Generator], Spec], rng: np.random.Generator, difficulty: int) -> Task:
    """Draw `template`'s parameters and tests from `rng` and make the task (expected outputs from the oracle)."""
    spec = template(rng)
    public = PUBLIC_EXAMPLES[difficulty]
    tests = []
    for i, args in enumerate(spec.inputs):
        expected = spec.oracle(*json.loads(json.dumps(args)))  # the oracle sees a copy, as the program will
        tests.append(function_test(spec.name, args, expected, hidden=i >= public))
    examples = "\n".join(f">>> {spec.name}({', '.join(repr(a) for a in t.input)})\n{repr(expected_value(t))}"
                         for t in tests[:public])
    prompt = (f"Write a Python function\n\n    {spec.signature}\n\nthat {spec.description}\n\n"
              f"Examples:\n{examples}\n\nPut your solution in a ```python block.")
    reference = spec.reference
    task_id = stable_task_id("code-synth", template.__name__, spec.description,
                             json.dumps([t.input for t in tests]))
    return Task(task_id=task_id, prompt=prompt, answer=reference, solution=code_fence(reference),
                data={"tests": tuple(tests), "fn_name": spec.name, "signature": spec.signature},
                metadata={"source": "code-synth", "family": template.__name__, "difficulty": difficulty})


class CodeSynthEnv(CodeEnv, ProceduralEnv):
    """Procedural Python function-writing tasks at three difficulty levels.

    ## Description
    Each episode is one generated task from one of 28 templates (12 at difficulty 1,
    8 at 2, 8 at 3), parameterised by the rng (a constant, a letter, words, a modulus)
    so prompts vary: list, string and number manipulation at level 1 (one-line
    reference bodies, e.g. "add 3 to every element"), loops and state at level 2
    (running sums, run-length encoding, Caesar shifts), small algorithms at level 3
    (merging, bracket matching, two-sum, primes). Each task has a reference solution,
    2-3 public examples shown in the prompt and 5-7 hidden tests, all function-call
    tests run in the sandbox.

    ## Observation
    The prompt: the signature, a one-sentence spec, `>>>` examples and "Put your
    solution in a ```python block.". After a step: the feedback message.

    ## Action
    A completion containing the function (a ```python block, preferably).

    ## Reward
    1 when every test passes, else 0 (`reward="partial"`: the fraction passed).
    Feedback kinds: correct, format_error (no code), compile_error (with line
    number), runtime_error (the user's frames), timeout, failed_test. Failing public
    tests are shown with input / expected / got; hidden ones only as "hidden test k
    failed: ...". The reference solution is shown only at level `correction`.

    ## Episode end
    Terminated when correct or after `max_attempts` attempts.

    ## Arguments
    difficulty: 1-3 (default 1); reward: "binary" | "partial"; limits: sandbox
    `Limits`; sandbox: a sandbox or pool to run on; feedback; max_attempts.

    ## Version history
    v0: initial release.
    """

    max_difficulty: ClassVar[int] = 3

    def generate(self, rng: np.random.Generator) -> Task:
        templates = TEMPLATES[self.difficulty]
        template = templates[int(rng.integers(len(templates)))]
        return build_task(template, rng, self.difficulty)

    def wrong_completion(self, task: Task) -> str:
        signature = task.data["signature"]
        return f"```python\n{signature}\n    return None\n```"
