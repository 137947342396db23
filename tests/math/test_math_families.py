"""The six procedural math families: valid generators, difficulty, diagnostic feedback."""

from fractions import Fraction

import numpy as np
import pytest

from distil_envs.core import FeedbackKind
from distil_envs.math.arithmetic import ArithmeticEnv, evaluate as eval_tree
from distil_envs.math.linear import LinearEquationsEnv, parse_pair
from distil_envs.math.modular import ModularEnv
from distil_envs.math.polynomial import PolynomialEnv, evaluate as eval_poly
from distil_envs.math.rationals import FractionsEnv, evaluate as eval_fraction
from distil_envs.math.word_problems import WordProblemsEnv
from distil_envs.seeding import task_rng

FAMILIES = [ArithmeticEnv, LinearEquationsEnv, FractionsEnv, ModularEnv, PolynomialEnv, WordProblemsEnv]
SEEDS = range(300)


def independent_check(env, task):
    """Solve the task again without the family's own checker."""
    data, answer = task.data, task.answer
    if isinstance(env, ArithmeticEnv):
        value = eval_tree(data["tree"])
        return value.denominator == 1 and str(int(value)) == answer
    if isinstance(env, LinearEquationsEnv):
        if data["kind"] == "system":
            x, y = parse_pair(answer)
            return all(a * x + b * y == e for a, b, e in data["rows"])
        (a, b), (c, d) = data["sides"]
        x = Fraction(answer)
        return a * x + b == c * x + d
    if isinstance(env, FractionsEnv):
        value = Fraction(answer)
        return value == eval_fraction(data["tree"]) and answer == (
            f"{value.numerator}/{value.denominator}" if value.denominator > 1 else str(value.numerator))
    if isinstance(env, ModularEnv):
        x, kind = int(answer), data["kind"]
        if kind == "gcd":
            return data["a"] % x == 0 and data["b"] % x == 0 and all(
                data["a"] % d or data["b"] % d for d in range(x + 1, min(data["a"], data["b"]) + 1))
        if kind == "lcm":
            return x % data["a"] == 0 and x % data["b"] == 0 and all(
                v % data["a"] or v % data["b"] for v in range(max(data["a"], data["b"]), x))
        if kind == "remainder":
            return 0 <= x < data["n"] and (data["a"] - x) % data["n"] == 0
        if kind == "power":
            return x == pow(data["a"], data["k"], data["n"])
        if kind == "inverse":
            return 0 <= x < data["n"] and data["a"] * x % data["n"] == 1
        if kind == "congruence":
            solutions = [v for v in range(data["n"]) if data["a"] * v % data["n"] == data["b"] % data["n"]]
            return solutions and x == solutions[0]
        return all(x % m == r for r, m in data["rows"]) and all(
            any(v % m != r for r, m in data["rows"]) for v in range(x))
    if isinstance(env, PolynomialEnv):
        roots = [Fraction(r) for r in answer.split(", ")]
        numeric = {round(float(r.real), 6) for r in np.roots(data["coefficients"]) if abs(r.imag) < 1e-6}
        return all(eval_poly(data["coefficients"], r) == 0 for r in roots) and \
            numeric == {round(float(r), 6) for r in roots}
    if isinstance(env, WordProblemsEnv):
        return float(answer) > 0 and Fraction(answer) == data["problem"].steps[-1][1]
    raise AssertionError(type(env))


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda c: c.__name__)
def test_every_generated_task_is_solvable_and_its_reference_verifies(cls):
    for difficulty in range(1, cls.max_difficulty + 1):
        env = cls(difficulty=difficulty)
        for seed in SEEDS:
            task = env.generate(task_rng(seed, 0))
            assert independent_check(env, task), (difficulty, seed, task.prompt, task.answer)
            assert env.check(task, env.reference_completion(task)).correct, (difficulty, seed, task.prompt)
            assert "\\boxed" in task.prompt
            assert task.metadata["difficulty"] == difficulty and task.metadata["family"]


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda c: c.__name__)
def test_wrong_completion_is_a_well_formed_miss(cls):
    for difficulty in range(1, cls.max_difficulty + 1):
        env = cls(difficulty=difficulty)
        for seed in range(60):
            task = env.generate(task_rng(seed, 1))
            feedback = env.check(task, env.wrong_completion(task))
            assert feedback.kind is FeedbackKind.WRONG_ANSWER and feedback.message, (task.prompt, feedback)


def _stat(env, seeds=range(80)):
    """Mean prompt length and mean answer size: what harder tasks change."""
    tasks = [env.generate(task_rng(seed, 2)) for seed in seeds]
    return np.mean([len(t.prompt) for t in tasks]), {t.prompt for t in tasks}


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda c: c.__name__)
def test_difficulty_changes_the_distribution(cls):
    easy_len, easy = _stat(cls(difficulty=1))
    hard_len, hard = _stat(cls(difficulty=cls.max_difficulty))
    assert hard_len > easy_len
    assert len(easy & hard) < 5


def test_same_task_ids_for_the_same_draw_and_not_shifted_across_seeds():
    env = ArithmeticEnv(difficulty=2)
    assert env.generate(task_rng(3, 0)).task_id == env.generate(task_rng(3, 0)).task_id
    assert env.generate(task_rng(0, 1)).task_id != env.generate(task_rng(1, 0)).task_id


# ---------------------------------------------------------------- diagnostics on hand-made answers
def _task(env, prompt_fragment=None):
    for seed in range(2000):
        task = env.generate(task_rng(seed, 3))
        if prompt_fragment is None or prompt_fragment(task):
            return task
    raise AssertionError("no such task drawn")


def test_arithmetic_diagnostics():
    from distil_envs.math.arithmetic import Op
    env = ArithmeticEnv()
    tree = Op("+", 3, Op("×", 4, 5))  # 3 + 4 × 5 = 23
    task = env.generate(task_rng(0, 0))
    task = type(task)(task_id="t", prompt="Compute 3 + 4 × 5.", answer="23", data={"expression": "3 + 4 × 5", "tree": tree})
    assert "left to right" in env.check(task, "\\boxed{35}").message  # (3 + 4) × 5
    assert "wrong sign" in env.check(task, "\\boxed{-23}").message
    assert "should be an integer" in env.check(task, "\\boxed{23.5}").message
    assert "check `4 × 5`" in env.check(task, "\\boxed{12}").message  # 3 + (4 + 5)
    message = env.check(task, "\\boxed{230}").message
    assert "too large" in message and "2 digits" in message and "23" not in message.replace("230", "")
    assert env.check(task, "I give up").kind is FeedbackKind.FORMAT_ERROR
    assert "end with \\boxed" in env.check(task, "I give up").message
    assert env.check(task, "\\boxed{23.0}").correct


def test_linear_substitutes_the_answer_back():
    env = LinearEquationsEnv(difficulty=2)
    task = env.generate(task_rng(0, 0))
    (a, b), (c, d) = task.data["sides"]
    x = int(task.answer) + 2
    message = env.check(task, f"\\boxed{{x = {x}}}").message
    assert message.startswith(f"With x = {x} the left side is {a * x + b}, the right side {c * x + d}.")
    system = LinearEquationsEnv(difficulty=3).generate(task_rng(0, 0))
    (a, b, e), (c, d, f) = system.data["rows"]
    x, y = parse_pair(system.answer)
    message = LinearEquationsEnv(difficulty=3).check(system, f"\\boxed{{({x}, {y + 1})}}").message
    assert f"equation 1 is {a * x + b * (y + 1)}, not {e}" in message or "Equation 1 holds" in message
    assert "(x, y)" in LinearEquationsEnv(difficulty=3).check(system, "\\boxed{5}").message


def test_fraction_diagnostics():
    env = FractionsEnv(difficulty=2)
    task = _task(env, lambda t: "/" in t.answer and not t.answer.startswith("-"))
    gold = Fraction(task.answer)
    unreduced = env.check(task, f"\\boxed{{{gold.numerator * 3}/{gold.denominator * 3}}}")
    assert not unreduced.correct and "not in lowest terms" in unreduced.message and "value is right" in unreduced.message
    assert "reciprocal" in env.check(task, f"\\boxed{{{gold.denominator}/{gold.numerator}}}").message
    assert "wrong sign" in env.check(task, f"\\boxed{{-{task.answer}}}").message
    assert env.check(task, f"\\boxed{{\\frac{{{gold.numerator}}}{{{gold.denominator}}}}}").correct
    from distil_envs.math.arithmetic import Op
    add = type(task)(task_id="t", prompt="", answer="5/6", data={"tree": Op("+", Fraction(1, 2), Fraction(1, 3))})
    assert "numerators and denominators" in env.check(add, "\\boxed{2/5}").message


def test_modular_diagnostics():
    env = ModularEnv(difficulty=3)
    inverse = _task(env, lambda t: t.data["kind"] == "inverse")
    a, n = inverse.data["a"], inverse.data["n"]
    wrong = (int(inverse.answer) + 1) % n
    assert f"{a}·{wrong} = {a * wrong} ≡ {a * wrong % n} (mod {n}), not 1." in env.check(inverse, f"\\boxed{{{wrong}}}").message
    assert f"between 0 and {n - 1}" in env.check(inverse, f"\\boxed{{{n + 3}}}").message
    gcd_env = ModularEnv(difficulty=1)
    gcd = _task(gcd_env, lambda t: t.data["kind"] == "gcd" and int(t.answer) > 1)
    assert "divides both numbers, but it is not the greatest" in gcd_env.check(gcd, "\\boxed{1}").message
    lcm = _task(gcd_env, lambda t: t.data["kind"] == "lcm")
    assert "common multiple, but not the least" in gcd_env.check(lcm, f"\\boxed{{{int(lcm.answer) * 2}}}").message


def test_polynomial_evaluates_the_submitted_roots():
    env = PolynomialEnv(difficulty=1)
    task = env.generate(task_rng(0, 0))
    roots = task.data["roots"]
    bad = max(roots) + 1
    value = eval_poly(task.data["coefficients"], bad)
    message = env.check(task, f"\\boxed{{{roots[0]}, {bad}}}").message
    assert f"p({bad}) = {value}, not 0" in message and "2 distinct real roots" in message
    assert "you gave 1" in env.check(task, f"\\boxed{{{roots[0]}}}").message
    assert not env.check(task, f"\\boxed{{{roots[0]}, {roots[1]}, {bad}}}").correct  # no credit for extra candidates
    assert env.check(task, f"\\boxed{{x = {roots[1]} \\text{{ or }} x = {roots[0]}}}").correct


def test_word_problem_names_the_intermediate_quantity():
    env = WordProblemsEnv(difficulty=3)
    task = _task(env, lambda t: t.metadata["template"] == "shopping")
    steps = task.data["problem"].steps
    total = steps[2][1]
    message = env.check(task, f"\\boxed{{{total}}}").message
    assert "That is the total price; the question asks for the change." in message
    bags = _task(WordProblemsEnv(difficulty=2), lambda t: t.metadata["template"] == "baking"
                 and t.data["problem"].slips[-1][1].denominator != 1)
    slip = bags.data["problem"].slips[-1][1]
    message = WordProblemsEnv(difficulty=2).check(bags, f"\\boxed{{{float(slip)}}}").message
    assert "whole number of bags" in message and "round up" in message
