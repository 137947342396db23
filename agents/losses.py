"""Losses of DistIL and its baselines, each a pure function of tensors.

Conventions shared by every loss (see agents/types.py): B rollouts, T completion positions
(right-padded), V vocabulary, K kept entries of a top-k truncation. Position t refers to the
distribution over y_t given the prompt and y_<t, so `student_logits[:, t]` scores `tokens[:, t]`.
`mask` (B, T) is 1 on real tokens. A `TeacherTargets.mask` adds "the teacher has a signal here";
a rollout whose teacher mask is all zero (no feedback, no sibling, no correction) contributes
nothing. Every loss divides by the number of real tokens that count and returns
`(loss, metrics)`, metrics being a dict of Python floats with namespaced keys.

Top-k truncation keeps a set of token ids per position plus one tail bucket holding the rest
of the mass, so both truncated distributions still sum to one. `teacher/mass` and
`student/mass` report how much probability the kept ids carry.

Memory: `chunked_distil_loss` / `chunked_sdpo_loss` compute the same losses from hidden states
and the LM head weight, chunk by chunk with activation checkpointing (logits recomputed in the
backward pass), never holding (B, T, V) logits (benchmarks/loss_memory.py measures it).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F

from agents.types import TeacherTargets

Teacher = TeacherTargets | torch.Tensor
TOPK_RULES = ("teacher", "student", "union")


def _upcast(x: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 logits become float32 for the softmax; float32/float64 stay as they are."""
    return x if x.dtype in (torch.float32, torch.float64) else x.float()


def _floor(dtype: torch.dtype) -> float:
    """log of the smallest normal number: stands in for log 0 so that 0 * log 0 stays 0, not nan."""
    return math.log(torch.finfo(dtype).tiny)


def _choice(name: str, value: object, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {allowed}")


# ----------------------------------------------------------------------------- top-k selection

def _excluded_logsumexp(logprobs: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """log of the mass outside `ids`, exact (no 1 - sum cancellation); log 0 becomes the floor."""
    # A finite stand-in for -inf keeps the gradient finite when ids cover the whole vocabulary.
    rest = logprobs.scatter(-1, ids, torch.finfo(logprobs.dtype).min)  # (..., V)
    return torch.logsumexp(rest, dim=-1).clamp_min(_floor(logprobs.dtype))  # (...)


def select_topk(student_logprobs: torch.Tensor, teacher_logprobs: torch.Tensor | None = None, *,
                k: int | None = None, rule: str = "teacher", teacher_ids: torch.Tensor | None = None,
                teacher_topk_logprobs: torch.Tensor | None = None,
                teacher_tail_logprob: torch.Tensor | None = None):
    """Truncate student and teacher to the same kept ids plus a tail bucket.

    Args:
        student_logprobs: (..., V) normalised student log-probabilities (gradients flow).
        teacher_logprobs: (..., V) normalised teacher log-probabilities, or None when the teacher
            is only known on its own top-k (`teacher_ids`, `teacher_topk_logprobs` (..., K) and
            optionally `teacher_tail_logprob` (...); a missing tail is log(1 - sum topk)); padding
            entries (id outside [0, V), log-prob -inf or nan) are ignored.
        k: entries kept per position; None keeps the whole vocabulary (no tail bucket).
        rule: "teacher" (top-k of the teacher), "student" (top-k of the student, as SDPO), or
            "union" (both sets; up to 2k ids, duplicates dropped).

    Returns (student (..., K'+1), teacher (..., K'+1), student_mass (...), teacher_mass (...)):
    log-probabilities of the kept ids followed by the tail bucket log(1 - sum kept), so each
    row sums to one; masses are the kept probability. With k=None: (..., V) rows, masses 1.
    Dropped duplicates and absent mass are log 0, represented by log(finfo.tiny).
    """
    _choice("rule", rule, TOPK_RULES)
    floor = _floor(student_logprobs.dtype)
    if teacher_logprobs is None and teacher_ids is None:
        raise ValueError("select_topk needs teacher_logprobs (..., V) or teacher_ids with teacher_topk_logprobs")
    if teacher_logprobs is not None and k is None:
        ones = student_logprobs.new_ones(student_logprobs.shape[:-1])
        return student_logprobs, teacher_logprobs.clamp_min(floor), ones, ones
    if teacher_logprobs is None and rule != "teacher":
        raise ValueError(f"topk_rule={rule!r} needs the teacher's full distribution (TeacherTargets."
                         "full_logprobs or a (B, T, V) tensor); with top-k teacher targets use topk_rule='teacher'")
    V = student_logprobs.shape[-1]
    if teacher_logprobs is None:  # the teacher's own top-k, as the expert sent it
        t_kept = teacher_topk_logprobs.to(student_logprobs.dtype)
        # Padding entries (id out of range, log-prob -inf or nan) are dropped: they point at the
        # row's first id so that excluding them from the student's tail changes nothing.
        valid = (teacher_ids >= 0) & (teacher_ids < V) & torch.isfinite(t_kept)
        ids = torch.where(valid, teacher_ids, teacher_ids[..., :1].clamp(0, V - 1))
        if teacher_tail_logprob is None:
            kept = torch.where(valid, t_kept, float("-inf")).exp().sum(-1)
            t_tail = torch.log((1 - kept).clamp_min(0))
        else:
            t_tail = teacher_tail_logprob.to(student_logprobs.dtype)
    else:
        k = min(int(k), V)
        if k < 1:
            raise ValueError(f"topk={k} must be >= 1 (or None for the whole vocabulary)")
        if rule == "teacher":
            ids = teacher_logprobs.topk(k, dim=-1).indices
        elif rule == "student":
            ids = student_logprobs.detach().topk(k, dim=-1).indices
        else:
            t_ids = teacher_logprobs.topk(k, dim=-1).indices
            s_ids = student_logprobs.detach().topk(k, dim=-1).indices
            dup = (s_ids.unsqueeze(-1) == t_ids.unsqueeze(-2)).any(-1)  # (..., k)
            ids = torch.cat([t_ids, s_ids], dim=-1)  # (..., 2k)
            valid = torch.cat([torch.ones_like(dup), ~dup], dim=-1)
        if rule != "union":
            valid = torch.ones_like(ids, dtype=torch.bool)
        t_kept = teacher_logprobs.gather(-1, ids)
        t_tail = _excluded_logsumexp(teacher_logprobs, ids)
    s_kept = student_logprobs.gather(-1, ids).masked_fill(~valid, floor)  # (..., K')
    t_kept = t_kept.masked_fill(~valid, floor)
    s_tail = _excluded_logsumexp(student_logprobs, ids)
    student = torch.cat([s_kept, s_tail.unsqueeze(-1)], dim=-1)
    teacher = torch.cat([t_kept, t_tail.unsqueeze(-1)], dim=-1)
    teacher = torch.nan_to_num(teacher, nan=floor).clamp_min(floor)  # expert padding may be -inf / nan
    return student, teacher, s_kept.detach().exp().sum(-1), teacher[..., :-1].exp().sum(-1)


# ----------------------------------------------------------------------------- shared plumbing

@dataclass
class _Prepared:
    """Inputs flattened to N = B * T rows, validated, with the masks every loss needs."""

    B: int
    T: int
    tokens: torch.Tensor  # (N,) long, padding replaced by 0
    signal: torch.Tensor  # (B, T) real token with a teacher signal
    policy: torch.Tensor  # (B, T) real token of a rollout that has any signal
    active: torch.Tensor  # (B,) rollout has a signal
    full: torch.Tensor | None  # (N, V) teacher log-probs or logits
    ids: torch.Tensor | None  # (N, K)
    topk_lp: torch.Tensor | None  # (N, K)
    tail: torch.Tensor | None  # (N,)

    def teacher_rows(self, rows: slice, dtype: torch.dtype, temperature: float = 1.0):
        """(full log-probs (n, V) | None, ids, topk log-probs, tail) for the rows `rows`."""
        if self.full is not None:
            full = self.full[rows].to(dtype)
            full = F.log_softmax(full / temperature if temperature != 1.0 else full, dim=-1)
            return torch.nan_to_num(full, nan=_floor(dtype)), None, None, None
        tail = None if self.tail is None else self.tail[rows]
        return None, self.ids[rows], self.topk_lp[rows], tail


def _prepare(teacher: Teacher, tokens: torch.Tensor, mask: torch.Tensor, B: int, T: int, V: int) -> _Prepared:
    if tokens.shape != (B, T) or mask.shape != (B, T):
        raise ValueError(f"tokens {tuple(tokens.shape)} and mask {tuple(mask.shape)} must both be (B, T) = ({B}, {T})")
    real = mask.to(torch.float32) > 0
    bad = real & ((tokens < 0) | (tokens >= V))
    if bool(bad.any()):
        raise ValueError(f"tokens hold ids outside [0, {V}) at real positions; padding must have mask 0")
    signal = real
    full = ids = topk_lp = tail = None
    if isinstance(teacher, TeacherTargets):
        if teacher.mask.shape != (B, T):
            raise ValueError(f"TeacherTargets.mask is {tuple(teacher.mask.shape)}, expected (B, T) = ({B}, {T})")
        signal = real & (teacher.mask > 0)
        if teacher.full_logprobs is not None:
            full = teacher.full_logprobs
        else:
            if teacher.topk_ids.shape[:2] != (B, T) or teacher.topk_logprobs.shape != teacher.topk_ids.shape:
                raise ValueError(f"TeacherTargets.topk_ids/topk_logprobs must be (B, T, K) with (B, T) = ({B}, {T})")
            K = teacher.topk_ids.shape[-1]
            ids = teacher.topk_ids.reshape(B * T, K)
            topk_lp = teacher.topk_logprobs.reshape(B * T, K)
            tail = None if teacher.tail_logprob is None else teacher.tail_logprob.reshape(B * T)
    elif isinstance(teacher, torch.Tensor):
        full = teacher
    else:
        raise TypeError(f"teacher must be TeacherTargets or a (B, T, V) tensor, not {type(teacher).__name__}")
    if full is not None:
        if full.shape != (B, T, V):
            raise ValueError(f"teacher log-probabilities are {tuple(full.shape)}, expected (B, T, V) = ({B}, {T}, {V})")
        full = full.reshape(B * T, V)
    active = signal.any(-1)
    policy = real & active.unsqueeze(-1)
    tokens = torch.where(real, tokens, torch.zeros_like(tokens)).reshape(B * T)
    return _Prepared(B, T, tokens, signal.float(), policy.float(), active.float(), full, ids, topk_lp, tail)


def _naive(logits: torch.Tensor) -> Callable:
    """Runner: apply a per-row function to all (N, V) logits at once."""
    flat = logits.reshape(-1, logits.shape[-1])
    return lambda fn: fn(flat, slice(0, flat.shape[0]))


class _RecomputedRows(torch.autograd.Function):
    """Per-row outputs of fn(hidden @ weight.T + bias, rows), `chunk_size` rows at a time.

    Activation checkpointing written out for this one case: the forward pass keeps no graph, the
    backward pass recomputes each chunk's logits, backpropagates the chunk's incoming gradients
    to them, and accumulates d weight in place (addmm_). torch.utils.checkpoint computes the same
    numbers, but materialises a (V, H) weight gradient per chunk before summing them, which costs
    one more LM-head-sized buffer (0.6 GB at V = 150k, H = 1024). No double backward.
    """

    @staticmethod
    def forward(ctx, fn, chunk_size, hidden, weight, bias):
        ctx.fn, ctx.chunk_size = fn, chunk_size
        ctx.save_for_backward(hidden, weight, bias)
        outs = [fn(F.linear(hidden[rows], weight, bias), rows) for rows in _slices(hidden.shape[0], chunk_size)]
        return tuple(torch.cat(parts) for parts in zip(*outs))

    @staticmethod
    def backward(ctx, *grad_outs):
        hidden, weight, bias = ctx.saved_tensors
        g_hidden = torch.zeros_like(hidden) if ctx.needs_input_grad[2] else None
        g_weight = torch.zeros_like(weight) if ctx.needs_input_grad[3] else None
        g_bias = torch.zeros_like(bias) if bias is not None and ctx.needs_input_grad[4] else None
        for rows in _slices(hidden.shape[0], ctx.chunk_size):
            h = hidden[rows]
            with torch.no_grad():
                logits = F.linear(h, weight, bias)  # (n, V)
            with torch.enable_grad():
                logits.requires_grad_(True)
                pairs = [(o, g[rows]) for o, g in zip(ctx.fn(logits, rows), grad_outs) if o.requires_grad]
                (g_logits,) = torch.autograd.grad([o for o, _ in pairs], logits, [g for _, g in pairs])
            g_logits = g_logits.to(weight.dtype)
            del logits
            if g_hidden is not None:
                g_hidden[rows] = g_logits @ weight
            if g_weight is not None:
                g_weight.addmm_(g_logits.t(), h)
            if g_bias is not None:
                g_bias += g_logits.sum(0)
        return None, None, g_hidden, g_weight, g_bias


def _slices(n: int, size: int) -> list[slice]:
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def _chunked(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, chunk_size: int) -> Callable:
    """Runner: logits = hidden @ weight.T (+ bias) for `chunk_size` rows at a time, recomputed in
    the backward pass, so only one chunk of logits is ever alive."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size} must be >= 1")
    flat = hidden.reshape(-1, hidden.shape[-1])  # (N, H)
    return lambda fn: _RecomputedRows.apply(fn, chunk_size, flat, weight, bias)


def _mean(values: torch.Tensor, weights: torch.Tensor) -> float:
    total = float(weights.sum())
    return float((values.detach() * weights).sum()) / total if total > 0 else 0.0


# ----------------------------------------------------------------------------- DistIL

def _distil_rows(logits, rows, prep: _Prepared, cost: str, topk: int | None, topk_rule: str):
    """Per-row cost c_t, log pi(y_t | s_t) and the kept masses for the rows `rows`."""
    logp = F.log_softmax(_upcast(logits), dim=-1)  # (n, V)
    logp_y = logp.gather(-1, prep.tokens[rows].unsqueeze(-1)).squeeze(-1)  # (n,)
    full, ids, topk_lp, tail = prep.teacher_rows(rows, logp.dtype)
    s, t, s_mass, t_mass = select_topk(logp, full, k=topk, rule=topk_rule, teacher_ids=ids,
                                       teacher_topk_logprobs=topk_lp, teacher_tail_logprob=tail)
    q = t.exp()
    c = -(q * s).sum(-1)  # cross-entropy H_x(q, pi)
    if cost == "kl":
        c = c + (q * t).sum(-1)  # minus the teacher entropy: KL(q || pi)
    return c, logp_y, s_mass, t_mass


def _group_index(group_ids: torch.Tensor | None, B: int, device) -> torch.Tensor:
    if group_ids is None:  # the whole batch is one group: still unbiased, only noisier
        return torch.zeros(B, dtype=torch.long, device=device)
    if group_ids.shape != (B,):
        raise ValueError(f"group_ids is {tuple(group_ids.shape)}, expected (B,) = ({B},)")
    return torch.unique(group_ids, return_inverse=True)[1]


def _baseline(G: torch.Tensor, active: torch.Tensor, group: torch.Tensor, kind: str) -> torch.Tensor:
    """b (B, T): over the rollouts of the same group that have a signal, at the same position."""
    if kind == "none":
        return torch.zeros_like(G)
    n = int(group.max()) + 1
    Ga = G * active.unsqueeze(-1)
    sums = G.new_zeros(n, G.shape[1]).index_add_(0, group, Ga)[group]  # (B, T)
    counts = G.new_zeros(n).index_add_(0, group, active)[group].unsqueeze(-1)  # (B, 1)
    if kind == "mean":
        return sums / counts.clamp_min(1)
    others = counts - active.unsqueeze(-1)
    return torch.where(others > 0, (sums - Ga) / others.clamp_min(1), torch.zeros_like(G))


def _group_std(A: torch.Tensor, policy: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """Std (B, 1) of A over the counted positions of each rollout's group."""
    n = int(group.max()) + 1
    w = policy.sum(-1)
    s1 = A.new_zeros(n).index_add_(0, group, (A * policy).sum(-1))[group]
    s2 = A.new_zeros(n).index_add_(0, group, (A * A * policy).sum(-1))[group]
    cnt = A.new_zeros(n).index_add_(0, group, w)[group].clamp_min(1)
    return (s2 / cnt - (s1 / cnt) ** 2).clamp_min(0).sqrt().unsqueeze(-1)


def _distil(run: Callable, prep: _Prepared, *, group_ids, baseline, future_credit, cost, normalize_cost_to_go,
            clip_cost_to_go, topk, topk_rule, old_logprobs, is_ratio_clamp):
    _choice("baseline", baseline, ("loo", "mean", "none"))
    _choice("cost", cost, ("ce", "kl"))
    _choice("normalize_cost_to_go", normalize_cost_to_go, ("none", "length", "group_std"))
    _choice("topk_rule", topk_rule, TOPK_RULES)
    if clip_cost_to_go is not None and clip_cost_to_go <= 0:
        raise ValueError(f"clip_cost_to_go={clip_cost_to_go} must be > 0 (or None for no clipping)")
    B, T = prep.B, prep.T
    c, logp_y, s_mass, t_mass = (x.reshape(B, T) for x in run(
        partial(_distil_rows, prep=prep, cost=cost, topk=topk, topk_rule=topk_rule)))
    signal, policy = prep.signal.to(c), prep.policy.to(c)
    weight = torch.ones_like(c)
    if old_logprobs is not None and old_logprobs.shape != (B, T):
        raise ValueError(f"old_logprobs is {tuple(old_logprobs.shape)}, expected (B, T) = ({B}, {T})")
    if old_logprobs is not None:  # token-level importance weight (an option: the paper gives none)
        weight = (logp_y - old_logprobs.to(c)).detach().exp()
        if is_ratio_clamp is not None:
            weight = weight.clamp(max=is_ratio_clamp)
    cost_sum = (c * signal * weight).sum()
    n_tokens = policy.sum()
    metrics = {"distil/cost": _mean(c, signal), "distil/tokens": float(n_tokens),
               "distil/active_rollouts": float(prep.active.sum()),
               "teacher/mass": _mean(t_mass, signal), "student/mass": _mean(s_mass, signal)}
    total = cost_sum
    if future_credit:
        cd = (c * signal).detach()
        G = cd.flip(-1).cumsum(-1).flip(-1) - cd  # G_t = sum_{i>t} c_i; 0 past the end
        group = _group_index(group_ids, B, c.device)
        A = G - _baseline(G, prep.active.to(c), group, baseline)
        if normalize_cost_to_go == "length":
            A = A / policy.sum(-1, keepdim=True).clamp_min(1)
        elif normalize_cost_to_go == "group_std":
            A = A / (_group_std(A, policy, group) + 1e-6)
        if clip_cost_to_go is not None:
            A = A.clamp(-clip_cost_to_go, clip_cost_to_go)
        total = total + (A * logp_y * policy * weight).sum()
        metrics.update({"distil/cost_to_go": _mean(G, policy), "distil/advantage_abs": _mean(A.abs(), policy)})
    if old_logprobs is not None:
        metrics["distil/is_ratio"] = _mean(weight, policy)
    loss = total / n_tokens.clamp_min(1)
    metrics["loss/distil" if future_credit else "loss/ce_local"] = float(loss.detach())
    return loss, metrics


def distil_loss(student_logits: torch.Tensor, teacher: Teacher, tokens: torch.Tensor, mask: torch.Tensor, *,
                group_ids: torch.Tensor | None = None, baseline: str = "loo", future_credit: bool = True,
                cost: str = "ce", normalize_cost_to_go: str = "none", clip_cost_to_go: float | None = None,
                topk: int | None = None, topk_rule: str = "teacher", old_logprobs: torch.Tensor | None = None,
                is_ratio_clamp: float | None = None):
    """DistIL: forward cross-entropy H(q_t, pi) per token plus the future-credit term (PAPER.md).

    Shapes: student_logits (B, T, V); teacher a `TeacherTargets` or full teacher log-probabilities
    (or logits; they are renormalised) (B, T, V); tokens (B, T) long, the sampled y_t; mask (B, T).

    Objective and surrogate (q_t the teacher, pi the student, s_t = (x, y_<t)):

        L(theta) = E_{y ~ pi}[ sum_t c_t ],  c_t = -sum_a q_t(a) log pi(a | s_t)
        S        = sum_t [ c_t + sg(G_t - b_t) * log pi(y_t | s_t) ],  G_t = sum_{i>t} c_i

    E[grad S] = grad L whenever b_t does not depend on the rollout's own tokens (checked by exact
    enumeration in tests/agents/test_losses.py). The loss is sum(S) / (real tokens of rollouts
    with a signal); rollouts without any signal contribute neither term (their future term would
    be pure entropy minimisation). Inside a rollout with a signal, positions where the teacher
    mask is 0 add no cost but their tokens still get future credit. Student logits must be finite.

    Options (keywords; all off or as PAPER.md where it is silent):
        group_ids (B,): rollouts of the same prompt share an id (None: the whole batch is one group).
        baseline: "loo" (default) b_t(i) = mean of G_t(j) over the other rollouts j of i's group
            that have a signal, at the same position t, with G_t(j) = 0 past j's end (a rollout
            that already stopped owes no future cost); 0 when i has no such sibling. "mean"
            includes i itself (= (n-1)/n times the "loo" advantage: a scaled, not unbiased, estimate).
            "none": b_t = 0.
        future_credit: False gives the `ce_local` ablation (local term only).
        cost: "ce" (default, the paper's) or "kl" (c_t = KL(q_t || pi), the ablation).
        normalize_cost_to_go: "none" (default); "length" divides G_t - b_t by the rollout's number
            of real tokens; "group_std" by the std of G - b over the group's counted positions
            (+1e-6). Both change the estimator: they are options the paper does not give.
        clip_cost_to_go: clamp G_t - b_t to [-c, c] (None: off).
        topk, topk_rule: truncate to k ids chosen by "teacher" | "student" | "union" plus a tail
            bucket (see `select_topk`; needs full teacher log-probs except for "teacher"). With
            top-k `TeacherTargets` the teacher's own ids are used. None: the whole vocabulary.
        old_logprobs (B, T), is_ratio_clamp: token-level importance weight
            min(pi/pi_old, clamp) on both terms when the data are off-policy (None: off).

    Returns (loss, metrics): `loss/distil` (or `loss/ce_local`), `distil/cost` (mean c_t),
    `distil/cost_to_go`, `distil/advantage_abs`, `distil/tokens`, `distil/active_rollouts`,
    `teacher/mass`, `student/mass`.
    """
    B, T, V = student_logits.shape
    return _distil(_naive(student_logits), _prepare(teacher, tokens, mask, B, T, V), group_ids=group_ids,
                   baseline=baseline, future_credit=future_credit, cost=cost,
                   normalize_cost_to_go=normalize_cost_to_go, clip_cost_to_go=clip_cost_to_go, topk=topk,
                   topk_rule=topk_rule, old_logprobs=old_logprobs, is_ratio_clamp=is_ratio_clamp)


# distil_loss's signature is the one place its defaults live; the chunked path reads them from it.
_DISTIL_DEFAULTS = {name: p.default for name, p in inspect.signature(distil_loss).parameters.items()
                    if p.kind is inspect.Parameter.KEYWORD_ONLY}


def chunked_distil_loss(hidden: torch.Tensor, lm_head_weight: torch.Tensor, teacher: Teacher,
                        tokens: torch.Tensor, mask: torch.Tensor, *, chunk_size: int = 128,
                        lm_head_bias: torch.Tensor | None = None, **options):
    """`distil_loss` (forward CE + future credit) from hidden states (B, T, H) and the LM head
    weight (V, H), `chunk_size` positions at a time with activation checkpointing.

    Per-token c_t and log pi(y_t | s_t) are computed chunk by chunk (their logits recomputed in
    the backward pass), then combined exactly as in `distil_loss`, so gradients flow through both
    into `hidden` and `lm_head_weight`. Peak memory holds one (chunk_size, V) block instead of
    (B, T, V). Same keyword options as `distil_loss`.
    """
    unknown = sorted(set(options) - set(_DISTIL_DEFAULTS))
    if unknown:
        raise TypeError(f"chunked_distil_loss got unknown options {unknown}; it takes those of distil_loss: "
                        f"{sorted(_DISTIL_DEFAULTS)}")
    B, T, _ = hidden.shape
    prep = _prepare(teacher, tokens, mask, B, T, lm_head_weight.shape[0])
    return _distil(_chunked(hidden, lm_head_weight, lm_head_bias, chunk_size), prep, **{**_DISTIL_DEFAULTS, **options})


# ----------------------------------------------------------------------------- SDPO and OPSD

def generalized_jsd(student_logprobs: torch.Tensor, teacher_logprobs: torch.Tensor, alpha: float,
                    scale: str = "continuous") -> torch.Tensor:
    """Generalised Jensen-Shannon divergence per row; alpha=0 forward KL(p_t||p_s), alpha=1 reverse KL(p_s||p_t).

    Shapes: (..., V) log-probabilities in, (...) out. With M = (1 - alpha) p_s + alpha p_t,

        JSD_alpha = (1 - alpha) KL(p_s || M) + alpha KL(p_t || M)

    JSD_alpha itself tends to 0 at both ends (as alpha KL(p_t||p_s) near 0 and as
    (1 - alpha) KL(p_s||p_t) near 1). scale="continuous" (default) returns
    JSD_alpha / (alpha (1 - alpha)), whose limits are exactly forward KL(p_t || p_s) at alpha -> 0
    and reverse KL(p_s || p_t) at alpha -> 1, the values returned at the endpoints, so the loss is
    continuous on [0, 1]; at alpha = 0.5 it is 4 JSD (a learning-rate factor). scale="raw" returns
    JSD_alpha inside (0, 1) and the KLs at the endpoints, as the SDPO and TRL GKD code do
    (discontinuous at both ends). Near the ends the continuous form loses precision as eps/alpha:
    use float64 for alpha within ~1e-4 of 0 or 1.
    """
    _choice("scale", scale, ("continuous", "raw"))
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha={alpha} must be in [0, 1] (0 = forward KL, 1 = reverse KL)")
    p_s, p_t = student_logprobs.exp(), teacher_logprobs.exp()
    if alpha == 0.0:
        return (p_t * (teacher_logprobs - student_logprobs)).sum(-1)
    if alpha == 1.0:
        return (p_s * (student_logprobs - teacher_logprobs)).sum(-1)
    log_m = torch.logaddexp(student_logprobs + math.log1p(-alpha), teacher_logprobs + math.log(alpha))
    kl_s = (p_s * (student_logprobs - log_m)).sum(-1)
    kl_t = (p_t * (teacher_logprobs - log_m)).sum(-1)
    if scale == "raw":
        return (1 - alpha) * kl_s + alpha * kl_t
    return kl_s / alpha + kl_t / (1 - alpha)


def _jsd_rows(logits, rows, prep: _Prepared, alpha: float, scale: str, topk: int | None, topk_rule: str,
              temperature: float):
    logits = _upcast(logits)
    logp = F.log_softmax(logits / temperature if temperature != 1.0 else logits, dim=-1)
    logp_y = logp.gather(-1, prep.tokens[rows].unsqueeze(-1)).squeeze(-1)
    full, ids, topk_lp, tail = prep.teacher_rows(rows, logp.dtype, temperature)
    s, t, s_mass, t_mass = select_topk(logp, full, k=topk, rule=topk_rule, teacher_ids=ids,
                                       teacher_topk_logprobs=topk_lp, teacher_tail_logprob=tail)
    return generalized_jsd(s, t, alpha, scale), logp_y, s_mass, t_mass


def _jsd(run: Callable, prep: _Prepared, name: str, *, alpha: float, scale: str,
         topk: int | None, topk_rule: str, temperature: float = 1.0,
         old_logprobs: torch.Tensor | None = None, is_ratio_clamp: float | None = None):
    _choice("topk_rule", topk_rule, TOPK_RULES)
    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be > 0")
    if temperature != 1.0 and prep.full is None:
        raise ValueError(f"temperature={temperature} needs the teacher's full distribution (logits or "
                         "TeacherTargets.full_logprobs); top-k targets cannot be re-tempered")
    B, T = prep.B, prep.T
    d, logp_y, s_mass, t_mass = (x.reshape(B, T) for x in run(partial(
        _jsd_rows, prep=prep, alpha=alpha, scale=scale, topk=topk, topk_rule=topk_rule, temperature=temperature)))
    signal = prep.signal.to(d)
    weight = torch.ones_like(d)
    if old_logprobs is not None and old_logprobs.shape != (B, T):
        raise ValueError(f"old_logprobs is {tuple(old_logprobs.shape)}, expected (B, T) = ({B}, {T})")
    if old_logprobs is not None:  # token-level importance ratio pi / pi_old, clamped above
        weight = (logp_y - old_logprobs.to(d)).detach().exp()
        if is_ratio_clamp is not None:
            weight = weight.clamp(max=is_ratio_clamp)
    n_tokens = signal.sum()
    loss = (d * signal * weight).sum() / n_tokens.clamp_min(1)
    metrics = {f"loss/{name}": float(loss.detach()), f"{name}/divergence": _mean(d, signal), f"{name}/tokens": float(n_tokens),
               "teacher/mass": _mean(t_mass, signal), "student/mass": _mean(s_mass, signal)}
    if old_logprobs is not None:
        metrics[f"{name}/is_ratio"] = _mean(weight, signal)
    return loss, metrics




def sdpo_loss(student_logits: torch.Tensor, teacher: Teacher, tokens: torch.Tensor, mask: torch.Tensor, *,
              alpha: float = 0.5, topk: int | None = 100, topk_rule: str = "student", is_ratio_clamp: float = 2.0,
              old_logprobs: torch.Tensor | None = None, scale: str = "continuous"):
    """SDPO (Huebotter et al. 2026): generalised JSD per token; alpha=0 forward KL(p_t||p_s), alpha=1 reverse KL(p_s||p_t).

    Shapes: student_logits (B, T, V); teacher `TeacherTargets` or teacher log-probs/logits
    (B, T, V); tokens (B, T) the sampled ids (for the importance ratio); mask (B, T);
    old_logprobs (B, T) or None.

        loss = sum_t m_t w_t D_alpha(p_s(.|s_t), p_t(.|s_t, f)) / sum_t m_t,
        D_alpha = `generalized_jsd` (M = (1 - alpha) p_s + alpha p_t, continuous in alpha),
        w_t = min(pi(y_t) / pi_old(y_t), is_ratio_clamp) (detached) when old_logprobs is given, else 1.

    Defaults follow PAPER.md: alpha=0.5 (their science setting; 1.0 for code), top-k over the
    *student's* logits (topk=100 science, 20 code) plus a tail bucket, ratio clamp 2.0 when
    off-policy. topk=None uses the whole vocabulary. `scale="raw"` reproduces their unscaled JSD.
    Rollouts whose teacher mask is zero are excluded.
    """
    B, T, V = student_logits.shape
    prep = _prepare(teacher, tokens, mask, B, T, V)
    return _jsd(_naive(student_logits), prep, "sdpo", alpha=alpha, scale=scale, topk=topk,
                topk_rule=topk_rule, old_logprobs=old_logprobs, is_ratio_clamp=is_ratio_clamp)


def chunked_sdpo_loss(hidden: torch.Tensor, lm_head_weight: torch.Tensor, teacher: Teacher, tokens: torch.Tensor,
                      mask: torch.Tensor, *, chunk_size: int = 128, lm_head_bias: torch.Tensor | None = None,
                      alpha: float = 0.5, topk: int | None = 100, topk_rule: str = "student",
                      is_ratio_clamp: float = 2.0, old_logprobs: torch.Tensor | None = None,
                      scale: str = "continuous"):
    """`sdpo_loss` (generalised JSD; alpha=0 forward, alpha=1 reverse KL) from hidden states (B, T, H)
    and the LM head (V, H), `chunk_size` positions at a time with activation checkpointing."""
    B, T, _ = hidden.shape
    prep = _prepare(teacher, tokens, mask, B, T, lm_head_weight.shape[0])
    return _jsd(_chunked(hidden, lm_head_weight, lm_head_bias, chunk_size), prep, "sdpo", alpha=alpha,
                scale=scale, topk=topk, topk_rule=topk_rule, old_logprobs=old_logprobs, is_ratio_clamp=is_ratio_clamp)


def opsd_loss(student_logits: torch.Tensor, teacher: Teacher, tokens: torch.Tensor, mask: torch.Tensor, *,
              beta: float = 0.5, temperature: float = 1.1, topk: int | None = None, scale: str = "continuous"):
    """OPSD (Zhao et al. 2026): generalised JSD at a temperature; beta=0 forward KL(p_t||p_s), beta=1 reverse KL(p_s||p_t).

    Shapes: student_logits (B, T, V); teacher logits (B, T, V) (the same model with the reference
    solution in context) or `TeacherTargets` (full log-probs when temperature != 1); tokens
    (B, T) (only for validation); mask (B, T).

        p_s = softmax(z_s / tau), p_t = softmax(z_t / tau),
        loss = sum_t m_t D_beta(p_s, p_t) / sum_t m_t,   D_beta = `generalized_jsd` with alpha = beta.

    Defaults as PAPER.md: beta=0.5, tau=1.1; topk (k=50 in their runs) keeps the teacher's
    top-k plus a tail bucket; None (default) uses the whole vocabulary.
    """
    B, T, V = student_logits.shape
    prep = _prepare(teacher, tokens, mask, B, T, V)
    return _jsd(_naive(student_logits), prep, "opsd", alpha=beta, scale=scale, topk=topk,
                topk_rule="teacher", temperature=temperature)


# ----------------------------------------------------------------------------- GRPO

def group_advantages(rewards: torch.Tensor, group_ids: torch.Tensor, scale: str = "group") -> torch.Tensor:
    """A_i = r_i - mean(r over i's group), divided by the group's std (unbiased, + 1e-4) when
    scale="group"; shapes (B,) -> (B,). Equal rewards (and singleton groups) give A = 0."""
    _choice("scale", scale, ("group", "none"))
    if rewards.shape != group_ids.shape or rewards.dim() != 1:
        raise ValueError(f"rewards {tuple(rewards.shape)} and group_ids {tuple(group_ids.shape)} must both be (B,)")
    group = torch.unique(group_ids, return_inverse=True)[1]
    n = int(group.max()) + 1
    r = rewards.to(torch.float64)
    count = r.new_zeros(n).index_add_(0, group, torch.ones_like(r))
    mean = r.new_zeros(n).index_add_(0, group, r)[group] / count[group]
    adv = r - mean
    if scale == "group":
        var = r.new_zeros(n).index_add_(0, group, adv * adv)[group] / (count[group] - 1).clamp_min(1)
        adv = adv / (var.sqrt() + 1e-4)  # std = 0 only when all rewards are equal, then adv = 0
    return adv.to(rewards.dtype if rewards.is_floating_point() else torch.float32)


def grpo_loss(logprobs: torch.Tensor, old_logprobs: torch.Tensor, rewards: torch.Tensor, group_ids: torch.Tensor,
              mask: torch.Tensor, *, clip_low: float = 0.2, clip_high: float = 0.28, scale: str = "group",
              agg: str = "token_mean"):
    """GRPO / RLVR: PPO-clipped policy gradient with a group-relative advantage, no KL term.

    Shapes: logprobs, old_logprobs, mask (B, T) (log pi(y_t | s_t) of the sampled tokens);
    rewards, group_ids (B,).

        A_i = (r_i - mean_group r) [/ std_group r],  rho_t = pi(y_t) / pi_old(y_t)
        l_t = -min(rho_t A_i, clip(rho_t, 1 - clip_low, 1 + clip_high) A_i)

    Defaults, named for what they are: clip_high=0.28 > clip_low=0.2 is DAPO's "clip-higher"
    (vanilla GRPO clips symmetrically at 0.2: pass clip_high=0.2); scale="group" is GRPO's std
    normalisation (Dr. GRPO: scale="none"); agg="token_mean" averages over all real tokens of the
    batch (DAPO, Dr. GRPO), "seq_mean" averages within each rollout and then over rollouts
    (the original GRPO).
    """
    _choice("agg", agg, ("token_mean", "seq_mean"))
    if not (0 <= clip_low < 1 and clip_high >= 0):
        raise ValueError(f"clip_low={clip_low} must be in [0, 1) and clip_high={clip_high} >= 0")
    if logprobs.shape != old_logprobs.shape or logprobs.shape != mask.shape:
        raise ValueError(f"logprobs {tuple(logprobs.shape)}, old_logprobs {tuple(old_logprobs.shape)} and "
                         f"mask {tuple(mask.shape)} must all be (B, T)")
    m = mask.to(logprobs.dtype)
    adv = group_advantages(rewards, group_ids, scale).to(logprobs).unsqueeze(-1)  # (B, 1)
    ratio = (logprobs - old_logprobs.detach()).exp()
    unclipped = ratio * adv
    clipped = ratio.clamp(1 - clip_low, 1 + clip_high) * adv
    per_token = -torch.minimum(unclipped, clipped)
    if agg == "token_mean":
        loss = (per_token * m).sum() / m.sum().clamp_min(1)
    else:
        lengths = m.sum(-1)
        per_seq = (per_token * m).sum(-1) / lengths.clamp_min(1)
        loss = per_seq[lengths > 0].sum() / (lengths > 0).sum().clamp_min(1)
    clip_active = (clipped < unclipped).to(m)
    metrics = {"loss/grpo": float(loss.detach()), "grpo/clip_frac": _mean(clip_active, m),
               "grpo/clip_low_frac": _mean(clip_active * (adv < 0), m),
               "grpo/clip_high_frac": _mean(clip_active * (adv > 0), m),
               "grpo/ratio_mean": _mean(ratio, m), "grpo/advantage_mean": float(adv.mean()),
               "grpo/advantage_abs": float(adv.abs().mean()), "rollout/reward": float(rewards.float().mean())}
    return loss, metrics
