"""`FeedbackEnv`: the Gymnasium environment every task family is.

An episode is one task. `reset()` returns the prompt; `step(completion)` checks the
completion and returns the feedback message as the next observation, the score as
the reward, and `terminated` once the task is solved or `max_attempts` are used up
(multi-turn retry is the same env with `max_attempts > 1`).

A family implements two things: `sample_task(rng) -> Task` (or `generate` for
procedural families, `row_to_task` for datasets) and `check(task, completion) ->
Feedback`, the *full* feedback. This class does the rest, the same way for all:
coercing bad actions into format errors, catching checker bugs, applying the
feedback level, bookkeeping of attempts and chat messages, and `info`.
"""

from __future__ import annotations

import hashlib
import warnings
from typing import Any, ClassVar, Mapping

import gymnasium as gym
import numpy as np

from distil_envs.core import Feedback, FeedbackKind, FeedbackLevel, Task
from distil_envs.errors import CheckerWarning, ResetNeeded
from distil_envs.seeding import task_rng
from distil_envs.spaces import Unicode

# A completion longer than this is refused before any parsing: no checker should
# ever see a megabyte of text, and none should hang on one.
MAX_COMPLETION_CHARS = 200_000


def coerce_completion(action: Any, max_chars: int = MAX_COMPLETION_CHARS) -> tuple[str, str | None]:
    """(completion text, problem) for any action; `problem` is None when it can be checked."""
    if isinstance(action, (bytes, bytearray, memoryview)):
        action = bytes(action).decode("utf-8", errors="replace")
    if not isinstance(action, str):
        return "", f"The completion must be text (a str), not {type(action).__name__}."
    # Lone surrogates cannot be encoded, printed or stored: replace them.
    text = action.encode("utf-8", errors="replace").decode("utf-8").replace("\x00", "")
    if not text.strip():
        return text, "The completion is empty."
    if len(text) > max_chars:
        return text[:max_chars], f"The completion has {len(text):,} characters; the limit is {max_chars:,}."
    return text, None


class FeedbackEnv(gym.Env[str, str]):
    """Base class of every distil-envs environment.

    Arguments:
        feedback: "binary", "diagnostic" (default) or "correction"; see `FeedbackLevel`.
        max_attempts: attempts per task; the episode ends when one is correct or all are used.
        render_mode: None, "ansi" (`render()` returns the transcript) or "human" (prints it).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 1}

    # What `distil envs list` shows, set by each family.
    domain: ClassVar[str] = ""
    source: ClassVar[str] = "procedural"  # procedural | dataset | package
    feedback_kinds: ClassVar[tuple[FeedbackKind, ...]] = (
        FeedbackKind.CORRECT, FeedbackKind.FORMAT_ERROR, FeedbackKind.WRONG_ANSWER)
    # Appended to format-error messages: how the answer must be written.
    answer_format: ClassVar[str] = "End your answer with \\boxed{...}."

    def __init__(self, *, feedback: str | FeedbackLevel = "diagnostic", max_attempts: int = 1,
                 render_mode: str | None = None):
        self.feedback_level = FeedbackLevel.parse(feedback)
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, (int, np.integer)) or max_attempts < 1:
            raise ValueError(f"max_attempts={max_attempts!r} must be an integer >= 1")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode={render_mode!r}; use one of {self.metadata['render_modes']} or None")
        self.max_attempts = int(max_attempts)
        self.render_mode = render_mode
        self.observation_space = Unicode()
        self.action_space = Unicode()
        self.task: Task | None = None
        self.attempt = 0
        self._done = True
        self._messages: list[dict[str, str]] = []

    # ------------------------------------------------------------------ family API
    def sample_task(self, rng: np.random.Generator) -> Task:
        """Draw a task using only `rng`."""
        raise NotImplementedError

    def task_at(self, index: int) -> Task:
        """The `index`-th task of this env's catalogue (a dataset row, or a fixed procedural draw)."""
        raise NotImplementedError

    def num_tasks(self) -> int | None:
        """How many distinct tasks there are; None for procedural generators."""
        return None

    def check(self, task: Task, completion: str) -> Feedback:
        """Full feedback (with the correction) on a non-empty completion of bounded size."""
        raise NotImplementedError

    def reference_completion(self, task: Task) -> str:
        """A completion that scores 1: the worked solution and the answer in the expected format.

        Used by the oracle policy, supervised warm-starts and the registry-wide tests."""
        return f"{task.solution}\n\nFinal answer: \\boxed{{{task.answer}}}".strip()

    def wrong_completion(self, task: Task) -> str:
        """A well-formed completion that scores 0 (families override with a realistic near miss)."""
        return "I think the answer is \\boxed{-98765.4321}."

    # ------------------------------------------------------------------ Gymnasium API
    def reset(self, *, seed: int | None = None, options: Mapping[str, Any] | None = None) -> tuple[str, dict]:
        """Start an episode on a new task.

        `options`: {"index": i} picks task i of the catalogue; {"task": Task} replays a
        given task. Otherwise the task is drawn from `self.np_random`, so the same seed
        gives the same task.
        """
        super().reset(seed=seed)
        options = dict(options or {})
        if options.get("task") is not None:
            task = options["task"]
            if not isinstance(task, Task):
                raise TypeError(f"options['task'] must be a distil_envs.Task, not {type(task).__name__}")
        elif options.get("index") is not None:
            task = self.task_at(int(options["index"]))
        else:
            task = self.sample_task(self.np_random)
        self.task, self.attempt, self._done = task, 0, False
        self._messages = [{"role": "user", "content": task.prompt}]
        if self.render_mode == "human":
            self.render()
        return task.prompt, self._info(None)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        if self.task is None or self._done:
            raise ResetNeeded("call reset() before step(); the episode has ended or not started")
        feedback = self.evaluate(action)
        self.attempt += 1
        self._done = feedback.correct or self.attempt >= self.max_attempts
        self._messages += [{"role": "assistant", "content": action if isinstance(action, str) else str(action)},
                           {"role": "user", "content": feedback.message}]
        if self.render_mode == "human":
            self.render()
        return feedback.message, float(feedback.score), self._done, False, self._info(feedback)

    def evaluate(self, completion: Any, task: Task | None = None) -> Feedback:
        """Feedback at this env's level for `completion` on `task` (default: the current
        task), without using an attempt. Never raises on bad input."""
        task = task or self.task
        if task is None:
            raise ResetNeeded("call reset() first, or pass task=")
        text, problem = coerce_completion(completion)
        if problem is not None:
            full = Feedback.format_error(f"{problem} {self.answer_format}".strip())
        else:
            try:
                full = self.check(task, text)
            except Exception as error:  # a checker bug must not crash a training run
                warnings.warn(CheckerWarning(f"{type(self).__name__}.check raised {error!r} on task {task.task_id}"),
                              stacklevel=2)
                full = Feedback.format_error(f"The completion could not be checked ({type(error).__name__}). "
                                             f"{self.answer_format}")
        return full.at_level(self.feedback_level, task)

    def render(self) -> str | None:
        text = "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self._messages)
        if self.render_mode == "human":
            print(text)
            return None
        return text

    # ------------------------------------------------------------------ helpers
    def _info(self, feedback: Feedback | None) -> dict[str, Any]:
        task = self.task
        assert task is not None
        info: dict[str, Any] = {
            "task_id": task.task_id,
            "attempt": self.attempt,
            "max_attempts": self.max_attempts,
            "feedback_level": self.feedback_level.value,
            "metadata": dict(task.metadata),
            "messages": [dict(m) for m in self._messages],
        }
        if feedback is not None:
            info.update(correct=bool(feedback.correct), score=float(feedback.score), feedback=feedback.to_dict())
        return info


def stable_task_id(prefix: str, *parts: Any) -> str:
    """A short id that depends only on the task's content."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:12]
    return f"{prefix}/{digest}"


class ProceduralEnv(FeedbackEnv):
    """A family of generated tasks with a difficulty knob.

    Subclasses set `max_difficulty` and implement `generate(rng) -> Task` using
    `self.difficulty` (1 = easiest) and `check`. The catalogue task `i` is the draw
    from the generator seeded by the pair (0, i), so `options={"index": i}` is stable.
    """

    source = "procedural"
    max_difficulty: ClassVar[int] = 3

    def __init__(self, *, difficulty: int = 1, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(difficulty, bool) or not isinstance(difficulty, (int, np.integer)) \
                or not 1 <= difficulty <= self.max_difficulty:
            raise ValueError(f"difficulty={difficulty!r} must be an integer from 1 to {self.max_difficulty} "
                             f"for {type(self).__name__}")
        self.difficulty = int(difficulty)

    def generate(self, rng: np.random.Generator) -> Task:
        raise NotImplementedError

    def sample_task(self, rng: np.random.Generator) -> Task:
        return self.generate(rng)

    def task_at(self, index: int) -> Task:
        return self.generate(task_rng(0, index))
