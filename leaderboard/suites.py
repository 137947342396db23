"""Evaluation suites: named, versioned groups of envs with fixed held-out tasks.

Procedural envs are evaluated on seeds `EVAL_SEED_BASE + i` (2,000,000,000 + i). The
trainer draws its training seeds from `TRAIN_SEEDS` (below 10**9) and the warm start
from `SFT_SEEDS`, so no evaluation task is ever a training task. Dataset-backed envs are evaluated on the rows of a fixed split (all of them, or
the first `limit`), and appear only in `full`, because they need the Hugging Face Hub
or a local copy: `suite.tasks(paths={env_id: local_file})` reads the local file.

Bump a suite's version whenever its tasks change, so results stay comparable only
with results of the same version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import distil_envs
# The seed ranges are shared with the trainer (agents/config.py is their single source):
# evaluation seeds are EVAL_SEED_BASE + i, training seeds lie in TRAIN_SEEDS (below 10**9).
from agents.config import EVAL_SEED_BASE, EVAL_SEEDS, SFT_SEEDS, TRAIN_SEEDS

__all__ = ["EVAL_SEED_BASE", "EVAL_SEEDS", "SFT_SEEDS", "TRAIN_SEEDS", "EvalTask", "Suite", "SuiteEntry", "SUITES",
           "get_suite"]


@dataclass(frozen=True)
class SuiteEntry:
    """One env of a suite: `seeds` held-out procedural tasks, or the rows of a dataset split.

    `rows=True` means "the env's catalogue" (a dataset split or packaged problems), the
    first `limit` rows or all of them; `kwargs` go to `distil_envs.make`.
    """

    env_id: str
    seeds: int = 0
    rows: bool = False
    split: str | None = None
    limit: int | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rows == (self.seeds > 0):
            raise ValueError(f"SuiteEntry({self.env_id!r}): give either seeds=N (procedural) or rows=True (catalogue)")


@dataclass(frozen=True)
class EvalTask:
    """One task of a suite run: an env id and either a seed or a catalogue row."""

    env_id: str
    seed: int | None = None
    index: int | None = None
    split: str | None = None

    @property
    def key(self) -> str:
        """The task's identity in `samples.jsonl` (with the sample index, the resume key)."""
        return f"seed={self.seed}" if self.seed is not None else f"row={self.index}"

    def reset_kwargs(self) -> dict[str, Any]:
        return {"seed": self.seed} if self.seed is not None else {"options": {"index": self.index}}


@dataclass(frozen=True)
class Suite:
    name: str
    version: int
    description: str
    entries: tuple[SuiteEntry, ...]

    @property
    def env_ids(self) -> list[str]:
        return [e.env_id for e in self.entries]

    def env_kwargs(self, env_id: str, paths: Mapping[str, str | Path] | None = None) -> dict[str, Any]:
        """Keyword arguments for `distil_envs.make(env_id, ...)` in this suite."""
        entry = next(e for e in self.entries if e.env_id == env_id)
        kwargs = dict(entry.kwargs)
        if entry.rows and entry.split is not None:
            kwargs["split"] = entry.split
        if paths and env_id in paths:
            kwargs["path"] = str(paths[env_id])
        return kwargs

    def tasks(self, paths: Mapping[str, str | Path] | None = None) -> list[EvalTask]:
        """Every task of the suite, in a fixed order. Catalogue entries are sized by loading the env."""
        unknown = sorted(set(paths or {}) - set(self.env_ids))
        if unknown:
            raise ValueError(f"paths= names envs that are not in suite {self.name!r}: {unknown}")
        out: list[EvalTask] = []
        for entry in self.entries:
            if entry.seeds:
                out += [EvalTask(entry.env_id, seed=EVAL_SEED_BASE + i) for i in range(entry.seeds)]
                continue
            env = distil_envs.make(entry.env_id, **self.env_kwargs(entry.env_id, paths))
            total = env.unwrapped.num_tasks()
            env.close()
            count = min(total, entry.limit) if entry.limit else total
            out += [EvalTask(entry.env_id, index=i, split=entry.split) for i in range(count)]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "envs": self.env_ids}


def _seeds(env_ids: list[str], n: int) -> tuple[SuiteEntry, ...]:
    return tuple(SuiteEntry(env_id, seeds=n) for env_id in env_ids)


MATH_PROCEDURAL = ["distil/math-arithmetic-v0", "distil/math-linear-v0", "distil/math-fractions-v0",
                   "distil/math-modular-v0", "distil/math-polynomial-v0", "distil/math-word-problems-v0"]
SCIENCE_PROCEDURAL = ["distil/science-kinematics-v0", "distil/science-newton-v0", "distil/science-energy-v0",
                      "distil/science-circuits-v0", "distil/science-ideal-gas-v0",
                      "distil/science-unit-conversion-v0", "distil/science-molar-mass-v0",
                      "distil/science-stoichiometry-v0", "distil/science-balancing-v0"]
# Benchmark datasets, evaluated in `full` on each env's default split (its `default_split`).
DATASETS = ["distil/math-gsm8k-v0", "distil/math-math500-v0", "distil/math-aime2024-v0", "distil/math-aime2025-v0",
            "distil/math-amc2023-v0", "distil/science-sciknoweval-v0", "distil/science-gpqa-diamond-v0",
            "distil/science-sciq-v0", "distil/science-arc-challenge-v0", "distil/code-mbpp-v0",
            "distil/code-livecodebench-v0"]

QUICK = Suite("quick", 1, "A smoke test: a few procedural tasks per domain; well under a minute without a model.", (
    SuiteEntry("distil/math-arithmetic-v0", seeds=3),
    SuiteEntry("distil/math-linear-v0", seeds=2),
    SuiteEntry("distil/math-fractions-v0", seeds=2),
    SuiteEntry("distil/science-unit-conversion-v0", seeds=3),
    SuiteEntry("distil/science-kinematics-v0", seeds=2),
    SuiteEntry("distil/science-molar-mass-v0", seeds=2),
    SuiteEntry("distil/code-synth-v0", seeds=3),
))
MATH = Suite("math", 1, "Every procedural math family, 32 held-out seeds each.", _seeds(MATH_PROCEDURAL, 32))
SCIENCE = Suite("science", 1, "Every procedural physics and chemistry family, 32 held-out seeds each.",
                _seeds(SCIENCE_PROCEDURAL, 32))
CODE = Suite("code", 1, "Procedural programming tasks (64 seeds) and all 164 HumanEval problems.",
             (SuiteEntry("distil/code-synth-v0", seeds=64), SuiteEntry("distil/code-humaneval-v0", rows=True)))
FULL = Suite("full", 1, "math + science + code, plus the benchmark datasets (the Hub, or paths= local files).",
             MATH.entries + SCIENCE.entries + CODE.entries
             + tuple(SuiteEntry(env_id, rows=True) for env_id in DATASETS))

SUITES: dict[str, Suite] = {s.name: s for s in (QUICK, MATH, SCIENCE, CODE, FULL)}


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        raise ValueError(f"suite={name!r} is unknown; use one of {sorted(SUITES)}")
    return SUITES[name]
