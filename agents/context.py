"""Teacher contexts: the prompt plus what the environment said, as the teacher reads it.

A self-teacher is the student model conditioned on more information than the
student had. `ContextBuilder` writes that context for each rollout of a batch:

    <prompt>

    The following is a correct solution to the question:      (sibling)
    <a successful sibling's completion, never the sample itself>

    The following is feedback from your unsuccessful earlier attempt:   (feedback)
    <the sample's own feedback message>

    The following is the reference solution:                  (correction)
    <the correction>

    Correctly solve the original question.

as one user turn of the tokenizer's chat template followed by the generation
prompt, so that the student's completion tokens can be scored right after it.

Which signals appear is configured (`signals`) and decided per sample (`rule`):
- rule="all": every configured signal that is available;
- rule="sdpo": SDPO's rule — a successful sibling if one exists, otherwise the
  sample's own feedback (plus the correction if configured).
A sample that ends up with no signal gets `signals == {...: False}`; experts mask it
(teacher == student there, so there is nothing to learn and the future-credit term
would be pure entropy minimisation; see PAPER.md).

When `max_tokens` is set and the context is too long, the *feedback* is cut in the
middle with a marker; then, if still needed, the sibling and the correction. The
prompt, the instruction and the generation prompt are never cut.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Sequence

from agents.types import Rollout

SIGNALS = ("feedback", "sibling", "correction")
RULES = ("all", "sdpo")
SIBLING_CHOICES = ("first", "random")
CUT_MARKER = "\n[... {n} characters cut ...]\n"

DEFAULT_HEADERS = {
    "sibling": "The following is a correct solution to the question:\n\n{text}",
    "feedback": "The following is feedback from your unsuccessful earlier attempt:\n\n{text}",
    "correction": "The following is the reference solution:\n\n{text}",
}


@dataclass
class TeacherContext:
    """One teacher context: its token ids, its text and which signals it carries."""

    token_ids: list[int]
    text: str
    signals: dict[str, bool]
    truncated: bool = False
    sibling_index: int | None = None

    @property
    def has_signal(self) -> bool:
        return any(self.signals.values())


@dataclass
class ContextBuilder:
    """Builds teacher contexts (see the module docstring).

    Arguments:
        signals: which of "feedback", "sibling", "correction" may be used.
        rule: "all" (every available configured signal) or "sdpo" (sibling if any
            succeeded, else the sample's own feedback; correction when configured).
        sibling: "first" (first successful sibling in batch order) or "random"
            (seeded by `seed`, the group and the sample index).
        instruction: the last line of the user turn.
        headers: text around each signal, with a `{text}` field.
        template: the user turn; fields {prompt}, {signals}, {instruction}.
        feedback_on_success: use the feedback of a correct sample ("Correct.") as a signal.
        max_tokens: budget for the whole context; None = no limit.
    """

    signals: tuple[str, ...] = ("sibling", "feedback")
    rule: str = "sdpo"
    sibling: str = "first"
    instruction: str = "Correctly solve the original question."
    headers: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_HEADERS))
    template: str = "{prompt}\n\n{signals}\n\n{instruction}"
    feedback_on_success: bool = False
    max_tokens: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        self.signals = tuple(self.signals)
        bad = [s for s in self.signals if s not in SIGNALS]
        if bad:
            raise ValueError(f"ContextBuilder.signals has {bad}; choose from {SIGNALS}")
        if self.rule not in RULES:
            raise ValueError(f"ContextBuilder.rule={self.rule!r}; use one of {RULES}")
        if self.sibling not in SIBLING_CHOICES:
            raise ValueError(f"ContextBuilder.sibling={self.sibling!r}; use one of {SIBLING_CHOICES}")
        missing = [s for s in SIGNALS if "{text}" not in self.headers.get(s, "")]
        if missing:
            raise ValueError(f"ContextBuilder.headers needs a '{{text}}' field for {missing}")
        for name in ("{prompt}", "{signals}", "{instruction}"):
            if name not in self.template:
                raise ValueError(f"ContextBuilder.template must contain {name}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"ContextBuilder.max_tokens={self.max_tokens} must be >= 1 or None")

    # ------------------------------------------------------------------ choosing signals
    def pick_sibling(self, rollouts: Sequence[Rollout], index: int) -> int | None:
        """A successful rollout of the same group, never `index` itself nor a verbatim copy of it."""
        me = rollouts[index]
        candidates = [j for j, r in enumerate(rollouts)
                      if j != index and r.group_id == me.group_id and r.feedback.correct
                      and r.completion.text != me.completion.text and r.completion.text.strip()]
        if not candidates:
            return None
        if self.sibling == "first":
            return candidates[0]
        return random.Random(f"{self.seed}/{me.group_id}/{index}").choice(candidates)

    def choose(self, rollouts: Sequence[Rollout], index: int) -> tuple[dict[str, str], int | None]:
        """{signal: text} for sample `index` and the sibling used (if any)."""
        me = rollouts[index]
        available: dict[str, str] = {}
        sibling = self.pick_sibling(rollouts, index) if "sibling" in self.signals else None
        if sibling is not None:
            available["sibling"] = rollouts[sibling].completion.text
        if "feedback" in self.signals and me.feedback.message.strip() \
                and (self.feedback_on_success or not me.feedback.correct):
            available["feedback"] = me.feedback.message
        if "correction" in self.signals:
            correction = me.feedback.correction or me.task.correction
            if correction and correction.strip():
                available["correction"] = correction
        if self.rule == "sdpo" and "sibling" in available:
            available.pop("feedback", None)
        return available, sibling if "sibling" in available else None

    # ------------------------------------------------------------------ text and tokens
    def render(self, prompt: str, texts: dict[str, str]) -> str:
        """The user turn for `prompt` with the given signal texts (in the order of SIGNALS)."""
        parts = [self.headers[s].format(text=texts[s]) for s in ("sibling", "feedback", "correction") if s in texts]
        body = self.template.format(prompt=prompt, signals="\n\n".join(parts), instruction=self.instruction)
        return body.replace("\n\n\n\n", "\n\n")  # no blank gap when there is no signal

    def encode(self, tokenizer: Any, user_turn: str) -> list[int]:
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template([{"role": "user", "content": user_turn}], tokenize=False,
                                                 add_generation_prompt=True)
            return list(tokenizer(text, add_special_tokens=False)["input_ids"])
        return list(tokenizer(user_turn)["input_ids"])

    def build(self, rollouts: Sequence[Rollout], tokenizer: Any) -> list[TeacherContext]:
        """One context per rollout, in order."""
        contexts = []
        for index, rollout in enumerate(rollouts):
            texts, sibling = self.choose(rollouts, index)
            user_turn, ids, truncated = self._fit(tokenizer, rollout.prompt, texts)
            contexts.append(TeacherContext(token_ids=ids, text=user_turn, truncated=truncated, sibling_index=sibling,
                                           signals={s: s in texts for s in SIGNALS}))
        return contexts

    def _fit(self, tokenizer: Any, prompt: str, texts: dict[str, str]) -> tuple[str, list[int], bool]:
        """Render and encode; cut signals in the middle (feedback first) until within `max_tokens`."""
        texts = dict(texts)
        user_turn = self.render(prompt, texts)
        ids = self.encode(tokenizer, user_turn)
        truncated = False
        for name in ("feedback", "sibling", "correction"):
            original = texts.get(name)
            keep = len(original) if original else 0
            while self.max_tokens is not None and len(ids) > self.max_tokens and keep > 0:
                # at least one character per token: dropping 2x the overflow converges in a few rounds
                keep = max(keep - max(2 * (len(ids) - self.max_tokens), 16), 0)
                texts[name] = cut_middle(original, keep)
                truncated = True
                user_turn = self.render(prompt, texts)
                ids = self.encode(tokenizer, user_turn)
        return user_turn, ids, truncated


def cut_middle(text: str, keep: int) -> str:
    """`text` with its middle replaced by a marker so that about `keep` characters remain."""
    if keep >= len(text):
        return text
    keep = max(keep, 0)
    head, tail = text[:(keep + 1) // 2], text[len(text) - keep // 2:] if keep // 2 else ""
    return f"{head}{CUT_MARKER.format(n=len(text) - keep)}{tail}"
