"""Losses of DistIL and its baselines, each a pure function of tensors.

Conventions shared by every loss (see agents/types.py): B rollouts, T completion positions
(right-padded), V vocabulary, K kept entries of a top-k truncation. Position t refers to the
distribution over y_t given the prompt and y_<t, so `student_logits[:, t]` scores `tokens[:, t]`.
`mask` (B, T) is 1 on real tokens. A `TeacherTargets.mask` adds "the teacher has a signal here";
a rollout whose teacher mask is all zero (no feedback, no sibling, no correction) contributes
nothing. Every loss divides by the number of real tokens that count and returns
`(loss, metrics)`, metrics being a dict of Python floats with namespaced keys.

Top-k truncation (agents/topk.py, `select_topk`) keeps a set of token ids per position plus one
tail bucket holding the rest of the mass, so both truncated distributions still sum to one.

Memory: `chunked_distil_loss` / `chunked_sdpo_loss` compute the same losses from hidden states
and the LM head weight, chunk by chunk with activation checkpointing (logits recomputed in the
backward pass; agents/loss_rows.py), never holding (B, T, V) logits (benchmarks/loss_memory.py
measures it).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F

from agents.loss_rows import (Prepared, Teacher, check_choice, chunked_runner, naive_runner, prepare, upcast,
                              weighted_mean)
from agents.topk import TOPK_RULES, select_topk

__all__ = ["TOPK_RULES", "Teacher", "chunked_distil_loss", "chunked_sdpo_loss", "distil_loss", "generalized_jsd",
           "group_advantages", "grpo_loss", "opsd_loss", "sdpo_loss", "select_topk"]


# ----------------------------------------------------------------------------- DistIL

def _distil_rows(logits, rows, prep: Prepared, cost: str, topk: int | None, topk_rule: str):
    """Per-row cost c_t, log pi(y_t | s_t) and the kept masses for the rows `rows`."""
    logp = F.log_softmax(upcast(logits), dim=-1)  # (n, V)
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


def _distil(run: Callable, prep: Prepared, *, group_ids, baseline, future_credit, cost, normalize_cost_to_go,
            clip_cost_to_go, topk, topk_rule, old_logprobs, is_ratio_clamp):
    check_choice("baseline", baseline, ("loo", "mean", "none"))
    check_choice("cost", cost, ("ce", "kl"))
    check_choice("normalize_cost_to_go", normalize_cost_to_go, ("none", "length", "group_std"))
    check_choice("topk_rule", topk_rule, TOPK_RULES)
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
    metrics = {"distil/cost": weighted_mean(c, signal), "distil/tokens": float(n_tokens),
               "distil/active_rollouts": float(prep.active.sum()),
               "teacher/mass": weighted_mean(t_mass, signal), "student/mass": weighted_mean(s_mass, signal)}
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
        metrics.update({"distil/cost_to_go": weighted_mean(G, policy), "distil/advantage_abs": weighted_mean(A.abs(), policy)})
    if old_logprobs is not None:
        metrics["distil/is_ratio"] = weighted_mean(weight, policy)
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
    return _distil(naive_runner(student_logits), prepare(teacher, tokens, mask, B, T, V), group_ids=group_ids,
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
    prep = prepare(teacher, tokens, mask, B, T, lm_head_weight.shape[0])
    return _distil(chunked_runner(hidden, lm_head_weight, lm_head_bias, chunk_size), prep, **{**_DISTIL_DEFAULTS, **options})


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
    check_choice("scale", scale, ("continuous", "raw"))
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


def _jsd_rows(logits, rows, prep: Prepared, alpha: float, scale: str, topk: int | None, topk_rule: str,
              temperature: float):
    logits = upcast(logits)
    logp = F.log_softmax(logits / temperature if temperature != 1.0 else logits, dim=-1)
    logp_y = logp.gather(-1, prep.tokens[rows].unsqueeze(-1)).squeeze(-1)
    full, ids, topk_lp, tail = prep.teacher_rows(rows, logp.dtype, temperature)
    s, t, s_mass, t_mass = select_topk(logp, full, k=topk, rule=topk_rule, teacher_ids=ids,
                                       teacher_topk_logprobs=topk_lp, teacher_tail_logprob=tail)
    return generalized_jsd(s, t, alpha, scale), logp_y, s_mass, t_mass


def _jsd(run: Callable, prep: Prepared, name: str, *, alpha: float, scale: str,
         topk: int | None, topk_rule: str, temperature: float = 1.0,
         old_logprobs: torch.Tensor | None = None, is_ratio_clamp: float | None = None):
    check_choice("topk_rule", topk_rule, TOPK_RULES)
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
    metrics = {f"loss/{name}": float(loss.detach()), f"{name}/divergence": weighted_mean(d, signal), f"{name}/tokens": float(n_tokens),
               "teacher/mass": weighted_mean(t_mass, signal), "student/mass": weighted_mean(s_mass, signal)}
    if old_logprobs is not None:
        metrics[f"{name}/is_ratio"] = weighted_mean(weight, signal)
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
    prep = prepare(teacher, tokens, mask, B, T, V)
    return _jsd(naive_runner(student_logits), prep, "sdpo", alpha=alpha, scale=scale, topk=topk,
                topk_rule=topk_rule, old_logprobs=old_logprobs, is_ratio_clamp=is_ratio_clamp)


def chunked_sdpo_loss(hidden: torch.Tensor, lm_head_weight: torch.Tensor, teacher: Teacher, tokens: torch.Tensor,
                      mask: torch.Tensor, *, chunk_size: int = 128, lm_head_bias: torch.Tensor | None = None,
                      alpha: float = 0.5, topk: int | None = 100, topk_rule: str = "student",
                      is_ratio_clamp: float = 2.0, old_logprobs: torch.Tensor | None = None,
                      scale: str = "continuous"):
    """`sdpo_loss` (generalised JSD; alpha=0 forward, alpha=1 reverse KL) from hidden states (B, T, H)
    and the LM head (V, H), `chunk_size` positions at a time with activation checkpointing."""
    B, T, _ = hidden.shape
    prep = prepare(teacher, tokens, mask, B, T, lm_head_weight.shape[0])
    return _jsd(chunked_runner(hidden, lm_head_weight, lm_head_bias, chunk_size), prep, "sdpo", alpha=alpha,
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
    prep = prepare(teacher, tokens, mask, B, T, V)
    return _jsd(naive_runner(student_logits), prep, "opsd", alpha=beta, scale=scale, topk=topk,
                topk_rule="teacher", temperature=temperature)


# ----------------------------------------------------------------------------- GRPO

def group_advantages(rewards: torch.Tensor, group_ids: torch.Tensor, scale: str = "group") -> torch.Tensor:
    """A_i = r_i - mean(r over i's group), divided by the group's std (unbiased, + 1e-4) when
    scale="group"; shapes (B,) -> (B,). Equal rewards (and singleton groups) give A = 0."""
    check_choice("scale", scale, ("group", "none"))
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
    check_choice("agg", agg, ("token_mean", "seq_mean"))
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
    metrics = {"loss/grpo": float(loss.detach()), "grpo/clip_frac": weighted_mean(clip_active, m),
               "grpo/clip_low_frac": weighted_mean(clip_active * (adv < 0), m),
               "grpo/clip_high_frac": weighted_mean(clip_active * (adv > 0), m),
               "grpo/ratio_mean": weighted_mean(ratio, m), "grpo/advantage_mean": float(adv.mean()),
               "grpo/advantage_abs": float(adv.abs().mean()), "rollout/reward": float(rewards.float().mean())}
    return loss, metrics
