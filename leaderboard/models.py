"""What `distil eval` can evaluate: a model, a server, or one of two reference answerers.

Every model answers the same question: for each conversation (the env's chat messages
so far, with the task in context), give `n` completions. The task and its env are
passed along so that the reference answerers need no model at all:

- `oracle`: the env's `reference_completion` (an upper bound that checks the checkers:
  it must score 1.0 everywhere; anything less is a checker bug).
- `random`: seeded junk text (a lower bound: it should score about 0).
- a local directory, a Hub id, or "tiny": an `agents.policy.HFPolicy`.
- `--api-base URL --api-model NAME`: any OpenAI-compatible server (see `leaderboard.api`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

import numpy as np

from agents.types import SamplingConfig
from distil_envs.core import Task

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Context:
    """The task behind a conversation, for answerers that need it (oracle) and for logging."""

    env: Any  # the unwrapped FeedbackEnv
    task: Task


@dataclass(frozen=True)
class Generated:
    text: str
    tokens: int | None  # completion tokens, None when the backend does not say


class EvalModel(Protocol):
    name: str

    def complete(self, conversations: Sequence[Messages], contexts: Sequence[Context], n: int,
                 sampling: SamplingConfig) -> list[list[Generated]]:
        """n completions per conversation, in order; `sampling.seed` fixes the randomness."""
        ...


class OracleModel:
    """Answers with the env's reference completion (multi-turn: the same on every attempt)."""

    name = "oracle"

    def complete(self, conversations, contexts, n, sampling):
        out = []
        for context in contexts:
            text = context.env.reference_completion(context.task)
            out.append([Generated(text, len(text.split())) for _ in range(n)])
        return out


_JUNK_WORDS = ("lorem", "ipsum", "banana", "qux", "maybe", "the", "zebra", "42x", "foo(", "}", "perhaps", "##")


class RandomModel:
    """Seeded junk: a few random words and no usable answer."""

    name = "random"

    def complete(self, conversations, contexts, n, sampling):
        rng = np.random.default_rng(sampling.seed)
        out = []
        for _ in conversations:
            group = []
            for _ in range(n):
                words = rng.choice(_JUNK_WORDS, size=int(rng.integers(3, 12)))
                group.append(Generated(" ".join(words), len(words)))
            out.append(group)
        return out


def transcript(messages: Messages) -> str:
    """Chat turns as plain text, for tokenizers without a chat template."""
    if len(messages) == 1:
        return messages[0]["content"]
    return "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages) + "\n\nAssistant:"


class PolicyModel:
    """An `agents.policy.HFPolicy` (a local directory, a Hub id, or the offline "tiny" model)."""

    def __init__(self, policy: Any, name: str):
        self.policy = policy
        self.name = name
        self.chat = bool(getattr(policy.tokenizer, "chat_template", None))

    @classmethod
    def load(cls, name_or_path: str, device: str = "cpu", dtype: str = "float32") -> "PolicyModel":
        from agents.policy import HFPolicy
        return cls(HFPolicy.from_pretrained(name_or_path, device=device, dtype=dtype), name_or_path)

    def complete(self, conversations, contexts, n, sampling):
        prompts = [list(c) if self.chat else transcript(c) for c in conversations]
        groups = self.policy.generate(prompts, n=n, sampling=sampling)
        return [[Generated(c.text, len(c.token_ids)) for c in group] for group in groups]


def load_model(spec: str, *, api_base: str | None = None, api_model: str | None = None,
               device: str = "cpu", dtype: str = "float32") -> EvalModel:
    """The model named by `distil eval --model` (or the server named by --api-base)."""
    if api_base:
        from leaderboard.api import ApiModel
        if not api_model:
            raise ValueError("--api-base needs --api-model NAME (the model name the server serves)")
        return ApiModel(api_base, api_model)
    if spec == "oracle":
        return OracleModel()
    if spec == "random":
        return RandomModel()
    return PolicyModel.load(spec, device=device, dtype=dtype)
