"""Metrics over evaluation samples: avg@k, unbiased pass@k, maj@k, bootstrap CIs.

Every metric is first computed per task (from that task's n samples), then averaged
over the tasks of an env, of a domain, or of the whole suite (a plain mean over tasks:
an env with more tasks weighs more). Confidence intervals resample *tasks* with
replacement, because tasks, not samples, are the independent draws.

avg@k and unbiased pass@k are defined in distil_envs/metrics.py (shared with the trainer's
held-out evaluation). With n samples of a task:

    maj@k  = accuracy of the majority answer of k samples, averaged over the floor(n/k)
             disjoint groups of k consecutive samples (ties: the answer seen first wins)

For code, `score` is 1 only when every test passes and `accuracy` is the fraction of
tests passed; they are kept under different keys and never mixed. maj@k is not defined
for code (programs do not vote) and is skipped there.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from distil_envs.answers import extract_final
from distil_envs.metrics import avg_at_k, pass_at_k


# ---------------------------------------------------------------------------- estimators
def maj_at_k(answers: Sequence[str | None], correct: Sequence[bool], k: int) -> float:
    """Majority-vote accuracy over floor(n/k) disjoint groups of k consecutive samples.

    `answers` are normalised answers (None: no answer, does not vote); a group whose
    samples give no answer at all counts as wrong. The majority answer is correct when
    the first sample that gave it was judged correct.
    """
    n = len(answers)
    if len(correct) != n:
        raise ValueError(f"{len(correct)} verdicts for {n} answers")
    if not 1 <= k <= n:
        raise ValueError(f"k={k} must be between 1 and the number of samples n={n}")
    groups = n // k
    wins = 0
    for g in range(groups):
        votes: Counter[str] = Counter()
        first: dict[str, int] = {}
        for i in range(g * k, (g + 1) * k):
            if answers[i] is None:
                continue
            votes[answers[i]] += 1
            first.setdefault(answers[i], i)
        if not votes:
            continue
        top = max(votes.values())
        winner = min((a for a, v in votes.items() if v == top), key=first.__getitem__)
        wins += bool(correct[first[winner]])
    return wins / groups


def bootstrap_ci(values: Sequence[float], *, resamples: int = 1000, confidence: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values` (seeded, so reports are stable)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return (float("nan"), float("nan"))
    if values.size == 1:
        return (float(values[0]), float(values[0]))
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(resamples, values.size))].mean(axis=1)
    alpha = (1.0 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return (float(low), float(high))


# ---------------------------------------------------------------------------- answers
_LATEX_NOISE = re.compile(r"\\left|\\right|\\!|\\,|\\;|\\ |\$|\\displaystyle")
_TEXT = re.compile(r"\\(?:text|mathrm|textbf|mbox)\{([^{}]*)\}")
_FRAC = re.compile(r"\\d?frac\{([^{}]+)\}\{([^{}]+)\}")
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_LETTER = re.compile(r"^\(?([A-Ja-j])\)?[.)]?$")


def _canonical_number(text: str) -> str | None:
    text = text.replace(",", "").replace(" ", "")
    fraction = re.fullmatch(r"([-+]?\d+)/(\d+)", text)
    try:
        if fraction:
            value = Fraction(int(fraction.group(1)), int(fraction.group(2)))
        elif _NUMBER.match(text):
            value = Fraction(text)
        else:
            return None
    except (ValueError, ZeroDivisionError):
        return None
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.9g}"


def normalize_math(text: str | None) -> str | None:
    """A canonical form of a math answer: exact numbers and fractions compare by value,
    other expressions by their text without LaTeX spacing and wrappers."""
    if text is None:
        return None
    text = _TEXT.sub(r"\1", _LATEX_NOISE.sub("", text)).strip().rstrip(".")
    text = _FRAC.sub(r"(\1)/(\2)", text)
    text = re.sub(r"^\((-?\d+)\)/\((\d+)\)$", r"\1/\2", text)
    number = _canonical_number(text)
    if number is not None:
        return number
    return re.sub(r"\s+", "", text).lower() or None


def normalize_science(text: str | None) -> str | None:
    """A canonical form of a science answer: a choice letter, or a quantity in SI base units
    rounded to 4 significant figures (read by the science envs' own quantity parser), or the
    lower-cased text."""
    from distil_envs.science.quantities import parse_quantity, registry

    if text is None:
        return None
    cleaned = _TEXT.sub(r"\1", _LATEX_NOISE.sub("", text)).strip().rstrip(".")
    letter = _LETTER.match(cleaned)
    if letter:
        return letter.group(1).upper()
    quantity, _ = parse_quantity(text)
    if quantity is not None:
        if quantity.units is None:
            return f"{quantity.value:.4g}"
        try:
            base = registry().Quantity(quantity.value, quantity.units).to_base_units()
        except Exception:  # pint raises many kinds of errors (offset units, odd dimensions)
            return f"{quantity.value:.4g} {quantity.unit_text.lower()}"
        return f"{base.magnitude:.4g} {base.units:~}"
    return re.sub(r"\s+", " ", cleaned).lower() or None


def normalize_answer(domain: str, completion: str) -> str | None:
    """The normalised final answer of a completion for majority voting; None for code."""
    if domain == "code":
        return None
    if domain == "science":
        return normalize_science(extract_final(completion or ""))
    from distil_envs.math.checking import extract_math_answer, parse_number  # the math suite's own reading

    text, _ = extract_math_answer(completion or "")
    if text is None:
        return None
    number = parse_number(text)
    if number is not None:
        value, percent = number
        return f"{value}%" if percent else str(value)
    return normalize_math(text)


# ---------------------------------------------------------------------------- aggregation
def task_metrics(samples: Sequence[Mapping[str, Any]], ks: Sequence[int], domain: str) -> dict[str, Any]:
    """Metrics of one task from its samples (ordered by sample index)."""
    n = len(samples)
    scores = [float(s["score"]) for s in samples]
    correct = [bool(s["correct"]) for s in samples]
    out: dict[str, Any] = {"n": n, "c": sum(correct), "score": float(np.mean(scores))}
    accuracies = [s.get("accuracy") for s in samples]
    if domain == "code" or any(a is not None for a in accuracies):
        out["accuracy"] = float(np.mean([a if a is not None else float(s["score"])
                                         for a, s in zip(accuracies, samples)]))
    answers = [s.get("answer") for s in samples]
    for k in ks:
        if k > n:
            continue
        out[f"avg@{k}"] = avg_at_k(scores, k)
        out[f"pass@{k}"] = pass_at_k(n, sum(correct), k)
        if domain != "code":
            out[f"maj@{k}"] = maj_at_k(answers, correct, k)
    attempts = [s.get("attempts_used") for s in samples]
    if all(a is not None for a in attempts) and samples and samples[0].get("max_attempts", 1) > 1:
        for j in range(1, int(samples[0]["max_attempts"]) + 1):
            out[f"solved@{j}"] = float(np.mean([c and a <= j for c, a in zip(correct, attempts)]))
    return out


def aggregate(per_task: Sequence[Mapping[str, Any]], *, seed: int = 0, resamples: int = 1000) -> dict[str, Any]:
    """Mean over tasks of every per-task metric, with a bootstrap CI, and the task count."""
    keys = sorted({k for t in per_task for k, v in t.items() if isinstance(v, float)})
    out: dict[str, Any] = {"tasks": len(per_task), "samples": int(sum(t["n"] for t in per_task))}
    for key in keys:
        values = [t[key] for t in per_task if key in t]
        low, high = bootstrap_ci(values, seed=seed, resamples=resamples)
        out[key] = {"mean": float(np.mean(values)), "ci": [low, high]}
    return out


def summarize(samples: Iterable[Mapping[str, Any]], ks: Sequence[int], *, seed: int = 0,
              resamples: int = 1000) -> dict[str, Any]:
    """Per env, per domain and overall metrics of a run's samples.

    Each sample needs `env_id`, `domain`, `task_key`, `sample`, `score`, `correct`, and
    optionally `accuracy` (code), `answer` (normalised, for maj@k) and `attempts_used`.
    """
    by_task: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    domains: dict[str, str] = {}
    for sample in samples:
        by_task[(sample["env_id"], str(sample["task_key"]))].append(sample)
        domains[sample["env_id"]] = sample["domain"]
    per_env: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (env_id, _), task_samples in sorted(by_task.items()):
        task_samples = sorted(task_samples, key=lambda s: int(s["sample"]))
        per_env[env_id].append(task_metrics(task_samples, ks, domains[env_id]))
    per_domain: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for env_id, tasks in per_env.items():
        per_domain[domains[env_id]].extend(tasks)
    # Overall: only metrics every domain defines (code has no maj@k, only code has accuracy).
    everything = [{k: v for k, v in t.items() if k != "accuracy" and not k.startswith("maj@")}
                  for tasks in per_env.values() for t in tasks]
    return {
        "overall": aggregate(everything, seed=seed, resamples=resamples),
        "domains": {d: aggregate(t, seed=seed, resamples=resamples) for d, t in sorted(per_domain.items())},
        "envs": {e: dict(aggregate(t, seed=seed, resamples=resamples), domain=domains[e])
                 for e, t in sorted(per_env.items())},
    }
