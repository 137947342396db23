"""reasoning-gym's procedural generators behind our feedback levels."""

from __future__ import annotations

import difflib
import json
from typing import Any, Mapping

import numpy as np

from distil_envs.answers import extract_final
from distil_envs.core import Feedback, FeedbackKind, Task
from distil_envs.env import FeedbackEnv, stable_task_id
from distil_envs.errors import MissingDependencyError
from distil_envs.math.checking import mentions
from distil_envs.seeding import task_seed

INSTRUCTION = "End with the final answer as \\boxed{...}."


def _reasoning_gym():
    try:
        import reasoning_gym
    except ImportError:
        raise MissingDependencyError("distil/math-reasoning-gym-v0", "reasoning-gym") from None
    return reasoning_gym


class ReasoningGymEnv(FeedbackEnv):
    """reasoning-gym's procedural tasks (any of its ~100 generators) with our feedback levels.

    Description:
        Each task is one item of a reasoning-gym dataset (`task=`, default
        "basic_arithmetic"), generated from a per-item seed derived from the pair
        (catalogue seed, index) with `distil_envs.seeding.task_seed`, never `seed + index`.

    Observation:
        The prompt: reasoning-gym's question followed by "End with the final answer as
        \\boxed{...}."

    Action:
        The completion text; the answer is the last \\boxed{...}, else an "Answer:" line.

    Reward:
        1 if reasoning-gym's own scorer gives the extracted answer full marks, else 0
        (its partial scores are reported in the message and `details`, not rewarded).

    Episode end:
        When correct or after `max_attempts` attempts.

    Feedback:
        format_error: no \\boxed{...} or "Answer:" line.
        wrong_answer (diagnostic): which answer was read and the score reasoning-gym's
        scorer gave it (e.g. "partially right: 0.5 of 1"); never its answer.
        At level `correction`: reasoning-gym's reference answer.

    Arguments:
        task: a reasoning-gym dataset name (`reasoning_gym.factory.DATASETS`).
        task_config: keyword arguments of that dataset's config (its difficulty knobs).
        catalogue_seed: the stream `options={"index": i}` and seeded resets draw from.
        Plus `feedback`, `max_attempts`. Needs the `reasoning-gym` extra.

    Version history:
        v0: initial version (reasoning-gym 0.1.x).
    """

    domain = "math"
    source = "procedural"
    feedback_kinds = (FeedbackKind.CORRECT, FeedbackKind.FORMAT_ERROR, FeedbackKind.WRONG_ANSWER)

    def __init__(self, *, task: str = "basic_arithmetic", task_config: Mapping[str, Any] | None = None,
                 catalogue_seed: int = 0, **kwargs: Any):
        super().__init__(**kwargs)
        rg = _reasoning_gym()
        from reasoning_gym.factory import DATASETS

        if task not in DATASETS:
            close = difflib.get_close_matches(task, list(DATASETS), n=3)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise ValueError(f"task={task!r} is not a reasoning-gym dataset{hint}")
        self.rg_task, self.task_config = task, dict(task_config or {})
        self.catalogue_seed = int(catalogue_seed)
        try:
            self._scorer = rg.create_dataset(task, seed=0, size=1, **self.task_config)
        except TypeError as error:
            raise ValueError(f"task_config={self.task_config!r} does not fit reasoning-gym's {task!r}: {error}") from None
        self._cache: dict[int, Task] = {}

    def _item(self, seed: int, index: int) -> Task:
        dataset = _reasoning_gym().create_dataset(self.rg_task, seed=seed, size=1, **self.task_config)
        entry = dataset[0]
        answer = str(entry["answer"])
        return Task(
            task_id=stable_task_id("math-reasoning-gym", self.rg_task, entry["question"]),
            prompt=f"{entry['question']}\n\n{INSTRUCTION}",
            answer=answer,
            solution="",
            data={"entry": entry},
            metadata={"family": "reasoning_gym", "task": self.rg_task, "source": "reasoning-gym",
                      "index": index, "item_seed": seed,
                      # a JSON string: metadata values must be immutable (infos must not share objects)
                      "difficulty": json.dumps(entry.get("metadata", {}).get("difficulty"), sort_keys=True, default=str)},
        )

    def task_at(self, index: int) -> Task:
        if index not in self._cache:
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[index] = self._item(task_seed(self.catalogue_seed, index), index)
        return self._cache[index]

    def sample_task(self, rng: np.random.Generator) -> Task:
        return self.task_at(int(rng.integers(1 << 62)))

    def check(self, task: Task, completion: str) -> Feedback:
        extracted = extract_final(completion)
        if extracted is None or not extracted.strip():
            return Feedback.format_error("No final answer found: end with \\boxed{...}.")
        try:
            score = float(self._scorer.score_answer(extracted, task.data["entry"]))
        except Exception as error:  # a scorer that chokes on odd input scores 0, with the reason
            return Feedback.wrong(f"reasoning-gym's {self.rg_task} scorer could not score the answer "
                                  f"({type(error).__name__}).", details={"rg_score": 0.0})
        if score >= 1.0:
            return Feedback.right(details={"rg_score": score})
        shown = extracted if len(extracted) <= 80 else extracted[:77] + "..."
        verdict = f"partially right: {score:.2f} of 1" if score > 0 else "wrong"
        message = f"Read the answer {shown!r}; reasoning-gym's {self.rg_task} scorer says it is {verdict}."
        if mentions(message, task.answer) and task.answer not in extracted:
            message = f"reasoning-gym's {self.rg_task} scorer says the answer is {verdict}."
        return Feedback.wrong(message, details={"rg_score": score})

    def reference_completion(self, task: Task) -> str:
        return f"The answer is \\boxed{{{task.answer}}}"

    def wrong_completion(self, task: Task) -> str:
        answer = task.answer.strip()
        candidates = []
        try:
            candidates.append(str(int(answer) + 1))
        except ValueError:
            candidates += [answer[::-1], answer + " 1", "none"]
        for candidate in candidates:
            if float(self._scorer.score_answer(candidate, task.data["entry"])) < 1.0:
                return f"I believe the answer is \\boxed{{{candidate}}}"
        return "I believe the answer is \\boxed{?}"
