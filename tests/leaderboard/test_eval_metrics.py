"""Metrics against brute force: pass@k over every k-subset, maj@k by hand, stable bootstrap."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from leaderboard.metrics import (avg_at_k, bootstrap_ci, maj_at_k, normalize_answer, pass_at_k, summarize,
                                 task_metrics)


def brute_pass_at_k(outcomes: list[bool], k: int) -> float:
    subsets = list(itertools.combinations(outcomes, k))
    return sum(any(s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", range(1, 9))
def test_pass_at_k_equals_enumeration_over_all_k_subsets(n):
    for c in range(n + 1):
        outcomes = [True] * c + [False] * (n - c)
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(brute_pass_at_k(outcomes, k), abs=1e-12)
            assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k), abs=1e-12)


def test_pass_at_k_is_stable_for_large_n():
    value = pass_at_k(2000, 3, 100)
    assert 0 < value < 1 and np.isfinite(value)
    assert pass_at_k(2000, 3, 100) == pytest.approx(1 - math.comb(1997, 100) / math.comb(2000, 100), rel=1e-9)


def test_pass_at_k_rejects_bad_arguments():
    with pytest.raises(ValueError, match="k=5"):
        pass_at_k(4, 1, 5)
    with pytest.raises(ValueError, match="c=5"):
        pass_at_k(4, 5, 1)


def test_avg_at_k_is_the_mean_over_every_k_subset():
    scores = [1.0, 0.0, 0.5, 1.0, 0.0]
    for k in range(1, 6):
        brute = np.mean([np.mean(s) for s in itertools.combinations(scores, k)])
        assert avg_at_k(scores, k) == pytest.approx(brute)


def test_maj_at_k_by_hand():
    # groups of 3: ["4","4","5"] -> "4" (correct); ["5","5","4"] -> "5" (wrong)
    answers = ["4", "4", "5", "5", "5", "4"]
    correct = [a == "4" for a in answers]
    assert maj_at_k(answers, correct, 3) == 0.5
    assert maj_at_k(answers, correct, 1) == pytest.approx(0.5)
    assert maj_at_k(answers, correct, 6) == 1.0  # 3 vs 3 tie: "4" was seen first
    # tie broken by first appearance: "5" appears before "4"
    assert maj_at_k(["5", "4"], [False, True], 2) == 0.0
    assert maj_at_k([None, None, "4"], [False, False, True], 3) == 1.0  # no answer does not vote
    assert maj_at_k([None, None], [False, False], 2) == 0.0


def test_maj_at_k_uses_math_normalisation():
    completions = ["\\boxed{1/2}", "so the answer is \\boxed{\\frac{1}{2}}", "\\boxed{0.5}", "\\boxed{3}"]
    answers = [normalize_answer("math", c) for c in completions]
    assert answers[0] == answers[1] == answers[2] != answers[3]
    assert maj_at_k(answers, [True, True, True, False], 4) == 1.0


def test_science_normalisation_letters_and_units():
    assert normalize_answer("science", "\\boxed{(b)}") == normalize_answer("science", "Answer: B") == "B"
    assert normalize_answer("science", "\\boxed{3 km}") == normalize_answer("science", "\\boxed{3000 m}")
    assert normalize_answer("science", "\\boxed{3 km}") != normalize_answer("science", "\\boxed{3 m}")
    assert normalize_answer("science", "\\boxed{1.2 \\times 10^{3} J}") == normalize_answer("science", "\\boxed{1.2 kJ}")
    assert normalize_answer("science", "\\boxed{18 km/h}") == normalize_answer("science", "\\boxed{5 m/s}")
    assert normalize_answer("code", "def f(): pass") is None


def test_bootstrap_is_seeded_and_brackets_the_mean():
    values = np.random.default_rng(1).random(50)
    low, high = bootstrap_ci(values, seed=3)
    assert (low, high) == bootstrap_ci(values, seed=3)
    assert low < values.mean() < high
    assert bootstrap_ci([0.7]) == (0.7, 0.7)


def _record(env, domain, task, sample, score, correct, accuracy=None, answer=None):
    return {"env_id": env, "domain": domain, "task_key": task, "sample": sample, "score": score,
            "correct": correct, "accuracy": accuracy, "answer": answer}


def test_code_score_and_accuracy_are_never_confused():
    # Two code tasks: one passes 3/4 tests on every sample (score 0, accuracy 0.75), one passes all.
    records = [_record("distil/code-x-v0", "code", "t1", s, 0.0, False, 0.75) for s in range(4)]
    records += [_record("distil/code-x-v0", "code", "t2", s, 1.0, True, 1.0) for s in range(4)]
    summary = summarize(records, [1, 4])
    code = summary["domains"]["code"]
    assert code["avg@4"]["mean"] == 0.5 and code["score"]["mean"] == 0.5
    assert code["accuracy"]["mean"] == pytest.approx(0.875)
    assert "maj@1" not in code  # no voting for programs
    assert "accuracy" not in summary["overall"]


def test_summary_levels_and_attempts():
    records = [_record("distil/math-a-v0", "math", "t1", s, float(s % 2), bool(s % 2), answer=str(s % 2))
               for s in range(4)]
    records += [_record("distil/science-b-v0", "science", "t1", s, 0.0, False, answer="A") for s in range(4)]
    summary = summarize(records, [1, 2, 4])
    assert summary["envs"]["distil/math-a-v0"]["pass@2"]["mean"] == pytest.approx(pass_at_k(4, 2, 2))
    assert summary["envs"]["distil/math-a-v0"]["domain"] == "math"
    assert summary["overall"]["avg@1"]["mean"] == pytest.approx(0.25)
    assert summary["overall"]["tasks"] == 2 and summary["overall"]["samples"] == 8
    multi = [dict(r, attempts_used=a, max_attempts=3) for r, a in zip(records[:4], [1, 2, 3, 1])]
    metrics = task_metrics(multi, [1], "math")
    assert metrics["solved@1"] == 0.25 and metrics["solved@2"] == 0.5 and metrics["solved@3"] == 0.5
