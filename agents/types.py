"""The data passed between policies, experts, losses and the trainer.

Alignment convention (everything below relies on it): a completion of T tokens
y_0..y_{T-1}; position t of every per-token tensor refers to the distribution over
y_t given the prompt and y_<t. Batches are right-padded to the longest completion;
`mask` is 0 on padding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import torch

from distil_envs.core import Feedback, Task


@dataclass(frozen=True)
class SamplingConfig:
    """How completions are sampled."""

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0  # 0 = off
    max_new_tokens: int = 256
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"SamplingConfig.temperature={self.temperature} must be >= 0 (0 = greedy)")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"SamplingConfig.top_p={self.top_p} must be in (0, 1]")
        if self.max_new_tokens < 1:
            raise ValueError(f"SamplingConfig.max_new_tokens={self.max_new_tokens} must be >= 1")


@dataclass
class Completion:
    """One sampled completion: its tokens, the sampling log-probabilities, and why it stopped."""

    text: str
    token_ids: list[int]
    logprobs: list[float]
    finish_reason: str  # "stop" (EOS or a stop string) | "length"
    prompt_token_ids: list[int] = field(default_factory=list)


@dataclass
class Rollout:
    """A completion after the environment judged it. Rollouts of one prompt share `group_id`."""

    env_id: str
    task: Task
    prompt: str  # the env's prompt text (before any chat template)
    completion: Completion
    feedback: Feedback
    reward: float
    group_id: int
    seed: int | None = None


@dataclass
class TeacherTargets:
    """The expert's next-token distributions on the student's own completion tokens.

    Shapes (B = rollouts, T = longest completion, K = top-k, V = vocabulary):
        topk_ids        (B, T, K) long   token ids of the kept entries
        topk_logprobs   (B, T, K) float  teacher log-probabilities of those ids (not renormalised)
        tail_logprob    (B, T) float     log(1 - sum exp(topk_logprobs)), the mass outside top-k; or None
        full_logprobs   (B, T, V) float  exact mode: the teacher's whole distribution; or None
        mask            (B, T) float     1 where the position is a real token AND the teacher has a signal
        signals         per rollout: which signals the teacher context used, e.g.
                        {"feedback": True, "sibling": False, "correction": False}
    """

    topk_ids: torch.Tensor
    topk_logprobs: torch.Tensor
    mask: torch.Tensor
    tail_logprob: torch.Tensor | None = None
    full_logprobs: torch.Tensor | None = None
    signals: list[dict[str, bool]] = field(default_factory=list)

    def to(self, device: torch.device | str) -> "TeacherTargets":
        move = lambda t: t.to(device) if t is not None else None  # noqa: E731
        return TeacherTargets(move(self.topk_ids), move(self.topk_logprobs), move(self.mask),
                              move(self.tail_logprob), move(self.full_logprobs), list(self.signals))


class Policy(Protocol):
    """What the trainer and the evaluator need from a model."""

    tokenizer: Any

    def generate(self, prompts: Sequence[str | list[dict[str, str]]], n: int = 1,
                 sampling: SamplingConfig = SamplingConfig()) -> list[list[Completion]]:
        """n completions per prompt (a string, or chat messages), in prompt order."""
        ...

    def score(self, contexts: Sequence[list[int]], completions: Sequence[list[int]]) -> list[torch.Tensor]:
        """Per-token log-probabilities of each completion given its context (teacher forcing)."""
        ...
