"""Experts (teachers): feedback becomes next-token distributions on the student's tokens.

Every expert answers `targets(rollouts) -> TeacherTargets`: for each rollout and
each position t of the student's *own* completion, the expert's distribution
q_t(. | prompt, y_<t, signal), in top-k form (ids, logprobs, the tail bucket
log(1 - sum_k q)) and, in exact mode, over the whole vocabulary. Positions are
aligned as in `agents/types.py`; `mask` is 0 on padding and on rollouts for which
the expert has no signal.

- `SelfTeacher`: the policy itself on a `ContextBuilder` context (feedback, a
  successful sibling, the correction); weights current / EMA / frozen / trust region.
- `ModelTeacher`: any Hugging Face causal LM with the student's tokenizer.
- `OracleExpert`: no model; built from the correction by an edit-distance dynamic oracle.
"""

from __future__ import annotations

import copy
import os
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from agents.context import SIGNALS, ContextBuilder
from agents.policy import HFPolicy, forward_completions, resolve_dtype
from agents.types import Completion, Rollout, TeacherTargets
from distil_envs.errors import DistilError

WEIGHTS = ("current", "ema", "frozen", "trust_region")


class TokenizerMismatchError(DistilError, ValueError):
    """A teacher whose tokenizer does not give the student's tokens the same meaning."""


def log1mexp(x: torch.Tensor) -> torch.Tensor:
    """log(1 - exp(x)) for x <= 0, stable at both ends; -inf becomes 0 and 0 becomes a very small number."""
    x = x.clamp(max=-1e-7)
    return torch.where(x > -0.6931, torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))


def targets_from_logprobs(logprobs: torch.Tensor, mask: torch.Tensor, *, top_k: int, exact: bool = False,
                          signals: list[dict[str, bool]] | None = None) -> TeacherTargets:
    """Top-k (and, if `exact`, full) targets from teacher logprobs (B, T, V) and a mask (B, T)."""
    k = min(top_k, logprobs.shape[-1])
    top = logprobs.topk(k, dim=-1)  # (B, T, K)
    tail = log1mexp(torch.logsumexp(top.values, dim=-1))  # (B, T)
    return TeacherTargets(topk_ids=top.indices, topk_logprobs=top.values, mask=mask.float(), tail_logprob=tail,
                          full_logprobs=logprobs if exact else None, signals=list(signals or []))


class Expert:
    """Base class: `targets(rollouts) -> TeacherTargets` for a batch of rollouts.

    Arguments:
        top_k: entries kept per position (K).
        exact: also return the full (B, T, V) teacher log-probabilities (memory: B*T*V floats).
    """

    def __init__(self, *, top_k: int = 20, exact: bool = False):
        if not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"top_k={top_k!r} must be an integer >= 1")
        self.top_k, self.exact = top_k, bool(exact)

    def targets(self, rollouts: Sequence[Rollout]) -> TeacherTargets:
        raise NotImplementedError

    def update(self, student_model: Any = None) -> None:
        """Called after every optimizer step (EMA teachers move here); a no-op by default."""

    def step_targets(self, *, env_id: str, task: Any, prompt: str, action: Any, feedback: Any, reward: float,
                     tokenizer: Any) -> TeacherTargets:
        """Targets for one env step (batch of one), as `distil_envs.wrappers.ExpertFeedback` asks.

        `action` is a `Completion` (its exact sampled ids are kept) or text, tokenized with
        `tokenizer` and ended with EOS. Built here so that `distil_envs` never imports `agents`.
        """
        if isinstance(action, Completion):
            completion = action
        else:
            text = action if isinstance(action, str) else str(action)
            ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
            if tokenizer.eos_token_id is not None:
                ids.append(int(tokenizer.eos_token_id))
            completion = Completion(text=text, token_ids=ids, logprobs=[0.0] * len(ids), finish_reason="stop")
        rollout = Rollout(env_id=env_id, task=task, prompt=prompt, completion=completion, feedback=feedback,
                          reward=float(reward), group_id=0)
        return self.targets([rollout])


class ContextTeacher(Expert):
    """A causal LM scoring the student's exact completion tokens after a teacher context."""

    def __init__(self, model: Any, tokenizer: Any, builder: ContextBuilder | None = None, *, top_k: int = 20,
                 exact: bool = False, batch_size: int = 16, device: str | torch.device | None = None):
        super().__init__(top_k=top_k, exact=exact)
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size} must be >= 1")
        self.model, self.tokenizer = model, tokenizer
        self.builder = builder if builder is not None else ContextBuilder()
        self.batch_size = batch_size
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.pad_id = int(pad if pad is not None else 0)

    def teacher_logits(self, contexts: list[list[int]], completions: list[list[int]]) -> torch.Tensor:
        """(b, T, V) teacher logits on the completion positions."""
        return forward_completions(self.model, contexts, completions, pad_id=self.pad_id, device=self.device).logits

    @torch.no_grad()
    def targets(self, rollouts: Sequence[Rollout]) -> TeacherTargets:
        if not rollouts:
            raise ValueError("targets() needs at least one rollout")
        contexts = self.builder.build(rollouts, self.tokenizer)
        completions = [list(r.completion.token_ids) for r in rollouts]
        t_max = max(max(len(c) for c in completions), 1)
        chunks = []
        for start in range(0, len(rollouts), self.batch_size):
            ctx = [c.token_ids for c in contexts[start:start + self.batch_size]]
            comp = completions[start:start + self.batch_size]
            logp = torch.log_softmax(self.teacher_logits(ctx, comp).float(), dim=-1)  # (b, T', V)
            chunk = targets_from_logprobs(logp, torch.zeros(logp.shape[:2]), top_k=self.top_k, exact=self.exact)
            chunks.append(_pad_time(chunk, t_max))
        mask = torch.zeros(len(rollouts), t_max, device=self.device)
        for i, (c, comp) in enumerate(zip(contexts, completions)):
            if c.has_signal:
                mask[i, :len(comp)] = 1.0
        cat = lambda name: torch.cat([getattr(c, name) for c in chunks]) if getattr(chunks[0], name) is not None \
            else None  # noqa: E731
        return TeacherTargets(topk_ids=cat("topk_ids"), topk_logprobs=cat("topk_logprobs"), mask=mask,
                              tail_logprob=cat("tail_logprob"), full_logprobs=cat("full_logprobs"),
                              signals=[dict(c.signals) for c in contexts])


def _pad_time(t: TeacherTargets, t_max: int) -> TeacherTargets:
    """Right-pad every per-position tensor to `t_max` positions (padding is masked anyway)."""
    pad = t_max - t.topk_ids.shape[1]
    if pad == 0:
        return t
    p3 = lambda x: F.pad(x, (0, 0, 0, pad)) if x is not None else None  # noqa: E731
    p2 = lambda x: F.pad(x, (0, pad)) if x is not None else None  # noqa: E731
    return TeacherTargets(p3(t.topk_ids), p3(t.topk_logprobs), p2(t.mask), p2(t.tail_logprob),
                          p3(t.full_logprobs), t.signals)


class SelfTeacher(ContextTeacher):
    """The policy itself on the teacher context (the default DistIL and SDPO teacher).

    Arguments:
        policy: the student `HFPolicy` (its model and tokenizer).
        builder: the `ContextBuilder` that writes the teacher context.
        weights: "current" (the student's live weights), "ema" (a copy moved towards
            the student by `ema_rate` at each `update`), "frozen" (a copy of the initial
            weights), "trust_region" (logits (1 - a) * z_initial + a * z_current with
            a = `trust_region_alpha`).
        top_k, exact: see `Expert`.

    The teacher never receives gradients: it scores under `torch.no_grad()`, and its
    weight copies (ema, frozen, trust_region) have `requires_grad=False`.
    """

    def __init__(self, policy: HFPolicy, builder: ContextBuilder | None = None, *, weights: str = "current",
                 ema_rate: float = 0.05, trust_region_alpha: float = 0.5, top_k: int = 20, exact: bool = False,
                 batch_size: int = 16):
        if weights not in WEIGHTS:
            raise ValueError(f"weights={weights!r}; use one of {WEIGHTS}")
        if not 0 < ema_rate <= 1:
            raise ValueError(f"ema_rate={ema_rate} must be in (0, 1]")
        if not 0 <= trust_region_alpha <= 1:
            raise ValueError(f"trust_region_alpha={trust_region_alpha} must be in [0, 1]")
        super().__init__(policy.model, policy.tokenizer, builder, top_k=top_k, exact=exact, batch_size=batch_size,
                         device=policy.device)
        self.policy, self.weights = policy, weights
        self.ema_rate, self.trust_region_alpha = ema_rate, trust_region_alpha
        self.copy = None
        if weights != "current":
            self.copy = copy.deepcopy(policy.model).eval()
            self.copy.requires_grad_(False)

    def teacher_logits(self, contexts: list[list[int]], completions: list[list[int]]) -> torch.Tensor:
        run = lambda m: forward_completions(m, contexts, completions, pad_id=self.pad_id,  # noqa: E731
                                            device=self.device).logits.float()
        if self.weights == "current":
            return run(self.policy.model)
        if self.weights in ("ema", "frozen"):
            return run(self.copy)
        a = self.trust_region_alpha
        return (1 - a) * run(self.copy) + a * run(self.policy.model)

    @torch.no_grad()
    def update(self, student_model: Any = None) -> None:
        """EMA step theta_T <- (1 - rate) theta_T + rate theta_S; nothing for the other weights."""
        if self.weights != "ema":
            return
        student = student_model if student_model is not None else self.policy.model
        for t, s in zip(self.copy.parameters(), student.parameters()):
            t.lerp_(s.detach().to(t.dtype), self.ema_rate)


class ModelTeacher(ContextTeacher):
    """Any Hugging Face causal LM as the teacher (a bigger model, an earlier checkpoint).

    The teacher scores the *student's* token ids, so both must share a tokenizer:
    construction refuses (`TokenizerMismatchError`) when the vocabularies or the EOS
    ids differ, and `targets` refuses a completion whose ids decode differently.
    """

    def __init__(self, model_or_path: Any, tokenizer: Any = None, *, student_tokenizer: Any,
                 builder: ContextBuilder | None = None, device: str | torch.device = "cpu",
                 dtype: torch.dtype | str = torch.float32, top_k: int = 20, exact: bool = False,
                 batch_size: int = 16):
        if isinstance(model_or_path, (str, os.PathLike)):
            policy = HFPolicy.from_pretrained(model_or_path, device=device, dtype=dtype)
            model, tokenizer = policy.model, tokenizer or policy.tokenizer
        else:
            if tokenizer is None:
                raise ValueError("ModelTeacher(model, tokenizer=...) needs the teacher's tokenizer with a model object")
            model = model_or_path.to(device=torch.device(device), dtype=resolve_dtype(dtype))
        model.eval().requires_grad_(False)
        check_same_tokenizer(tokenizer, student_tokenizer)
        super().__init__(model, tokenizer, builder, top_k=top_k, exact=exact, batch_size=batch_size, device=device)
        self.student_tokenizer = student_tokenizer

    def targets(self, rollouts: Sequence[Rollout]) -> TeacherTargets:
        for r in rollouts:
            ids = list(r.completion.token_ids)
            if self.tokenizer.decode(ids) != self.student_tokenizer.decode(ids):
                raise TokenizerMismatchError(f"teacher and student decode the completion of task {r.task.task_id} "
                                             "differently; use a teacher with the student's tokenizer")
        return super().targets(rollouts)


def check_same_tokenizer(teacher: Any, student: Any) -> None:
    """Raise `TokenizerMismatchError` unless both tokenizers map every token to the same id."""
    tv, sv = teacher.get_vocab(), student.get_vocab()
    if tv != sv:
        only_t = sorted(set(tv.items()) - set(sv.items()))[:3]
        only_s = sorted(set(sv.items()) - set(tv.items()))[:3]
        raise TokenizerMismatchError(
            f"the teacher's tokenizer ({len(tv)} tokens) differs from the student's ({len(sv)} tokens): "
            f"e.g. teacher has {only_t}, student has {only_s}. A teacher scores the student's token ids, so it "
            "must use the same tokenizer; pick a teacher from the student's model family.")
    if teacher.eos_token_id != student.eos_token_id:
        raise TokenizerMismatchError(f"teacher EOS id {teacher.eos_token_id} != student EOS id "
                                     f"{student.eos_token_id}; the teacher would not know where completions end")


# ---------------------------------------------------------------------- oracle
def edit_distance_rows(student: Sequence[int], reference: Sequence[int]) -> np.ndarray:
    """D (T + 1, m + 1): D[t, j] = token edit distance between student[:t] and reference[:j].

    Each row from the previous one in O(m) numpy: with A[j] = min(D[t-1, j] + 1,
    D[t-1, j-1] + [y_{t-1} != r_{j-1}]), insertions give D[t, j] = min_{i<=j} A[i] + (j - i),
    a running minimum of A[i] - i.
    """
    ref = np.asarray(reference, dtype=np.int64)
    m = len(ref)
    rows = np.empty((len(student) + 1, m + 1), dtype=np.int64)
    rows[0] = np.arange(m + 1)
    idx = np.arange(m + 1)
    for t, y in enumerate(student, start=1):
        prev = rows[t - 1]
        a = prev + 1
        a[1:] = np.minimum(a[1:], prev[:-1] + (ref != y))
        a[0] = t
        rows[t] = np.minimum.accumulate(a - idx) + idx
    return rows


def optimal_next_tokens(student: Sequence[int], reference: Sequence[int], eos_id: int) -> list[list[int]]:
    """For each prefix student[:t], t = 0..T-1: the tokens that keep the edit distance optimal.

    The reference prefixes r[:j] closest to the student's prefix (argmin_j D[t, j]) say
    where the student is in the reference; the optimal next tokens are r[j] for each
    such j, or EOS when j = m (the reference is used up). (Optimal completion
    distillation, Sabour et al. 2019; the edit-distance dynamic oracle of learning to search.)
    """
    rows = edit_distance_rows(student, reference)
    result = []
    for t in range(len(student)):
        row = rows[t]
        best = np.flatnonzero(row == row.min())
        tokens = sorted({int(reference[j]) if j < len(reference) else eos_id for j in best})
        result.append(tokens)
    return result


class OracleExpert(Expert):
    """A model-free expert built from the reference text (the correction).

    Construction, per rollout: tokenize the reference r_1..r_m with the student's
    tokenizer. For each student prefix y_<t, compute the token edit distance to every
    reference prefix r_<=j (one DP row per t, `edit_distance_rows`); the set of
    reference positions j attaining the minimum is where the student is in the
    reference, and the optimal next tokens are the r_{j+1} for those j (EOS once the
    reference is exhausted). The target is

        q_t = (1 - smoothing) * uniform(optimal next tokens) + smoothing * uniform(vocabulary).

    The default is smoothing=0: with a ~3k vocabulary, smoothing=0.1 made the
    cross-entropy teach the student to put 10% of its mass on garbage tokens, and
    ce_local with the oracle fell from 0.54 to 0.11 held-out accuracy in 30 steps.

    A student that follows the reference is told the next reference token; one that
    deviated is told how to get back on it at least cost (skipping or substituting).

    Arguments:
        tokenizer: the student's tokenizer (its EOS id ends every reference).
        smoothing: mass spread uniformly over the vocabulary, in [0, 1); default 0 (see above).
        reference: rollout -> reference text; default the feedback's correction, else the task's.
        top_k, exact: see `Expert`; top_k must cover the optimal set (it is rarely above 3).
    """

    def __init__(self, tokenizer: Any, *, smoothing: float = 0.0,
                 reference: Callable[[Rollout], str] | None = None, top_k: int = 4, exact: bool = False,
                 vocab_size: int | None = None):
        super().__init__(top_k=top_k, exact=exact)
        if not 0 <= smoothing < 1:
            raise ValueError(f"smoothing={smoothing} must be in [0, 1)")
        if tokenizer.eos_token_id is None:
            raise ValueError("OracleExpert needs a tokenizer with an EOS token")
        self.tokenizer, self.smoothing, self.reference = tokenizer, float(smoothing), reference
        self.vocab_size = int(vocab_size or len(tokenizer))
        self.eos_id = int(tokenizer.eos_token_id)

    def reference_text(self, rollout: Rollout) -> str:
        if self.reference is not None:
            return self.reference(rollout)
        return rollout.feedback.correction or rollout.task.correction

    def targets(self, rollouts: Sequence[Rollout]) -> TeacherTargets:
        if not rollouts:
            raise ValueError("targets() needs at least one rollout")
        b, t_max, k, v = len(rollouts), max(max(len(r.completion.token_ids) for r in rollouts), 1), self.top_k, \
            self.vocab_size
        floor = self.smoothing / v
        log_floor = float(np.log(max(floor, 1e-30)))
        ids = torch.zeros(b, t_max, k, dtype=torch.long)
        logps = torch.full((b, t_max, k), log_floor)
        mask = torch.zeros(b, t_max)
        full = torch.full((b, t_max, v), log_floor) if self.exact else None
        signals = []
        for i, r in enumerate(rollouts):
            text = self.reference_text(r) or ""
            student = list(r.completion.token_ids)
            signals.append({s: s == "correction" and bool(text.strip()) for s in SIGNALS})
            if not text.strip():
                continue
            ref = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
            for t, best in enumerate(optimal_next_tokens(student, ref, self.eos_id)):
                best = best[:k]
                lp = float(np.log((1 - self.smoothing) / len(best) + floor))
                fillers = [x for x in range(k + len(best)) if x not in best][:k - len(best)]
                ids[i, t] = torch.tensor(best + fillers)
                logps[i, t, :len(best)] = lp
                if full is not None:
                    full[i, t, best] = lp
            mask[i, :len(student)] = 1.0
        tail = log1mexp(torch.logsumexp(logps, dim=-1))
        return TeacherTargets(topk_ids=ids, topk_logprobs=logps, mask=mask, tail_logprob=tail, full_logprobs=full,
                              signals=signals)
