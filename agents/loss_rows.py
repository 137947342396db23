"""Shared plumbing of the losses in agents/losses.py: inputs flattened to rows, and two runners.

A loss is written as a per-row function fn(logits (n, V), rows: slice) -> tuple of (n,) tensors.
`prepare` validates the inputs and flattens them to N = B * T rows with the masks every loss
needs; a runner then applies fn to all N rows and returns its outputs concatenated:

- `naive_runner(logits)`: all (N, V) logits at once;
- `chunked_runner(hidden, weight, bias, chunk_size)`: logits = hidden @ weight.T (+ bias),
  `chunk_size` rows at a time with activation checkpointing (`RecomputedRows`: logits
  recomputed in the backward pass), never holding (B, T, V) logits (benchmarks/loss_memory.py
  measures it).

The small helpers every loss shares (dtype upcast, the log-0 floor, option checks, weighted
means for metrics) live here too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from agents.types import TeacherTargets

Teacher = TeacherTargets | torch.Tensor


def upcast(x: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 logits become float32 for the softmax; float32/float64 stay as they are."""
    return x if x.dtype in (torch.float32, torch.float64) else x.float()


def log_floor(dtype: torch.dtype) -> float:
    """log of the smallest normal number: stands in for log 0 so that 0 * log 0 stays 0, not nan."""
    return math.log(torch.finfo(dtype).tiny)


def check_choice(name: str, value: object, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {allowed}")


def weighted_mean(values: torch.Tensor, weights: torch.Tensor) -> float:
    total = float(weights.sum())
    return float((values.detach() * weights).sum()) / total if total > 0 else 0.0


# ----------------------------------------------------------------------------- inputs as rows

@dataclass
class Prepared:
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
            return torch.nan_to_num(full, nan=log_floor(dtype)), None, None, None
        tail = None if self.tail is None else self.tail[rows]
        return None, self.ids[rows], self.topk_lp[rows], tail


def prepare(teacher: Teacher, tokens: torch.Tensor, mask: torch.Tensor, B: int, T: int, V: int) -> Prepared:
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
    return Prepared(B, T, tokens, signal.float(), policy.float(), active.float(), full, ids, topk_lp, tail)


def naive_runner(logits: torch.Tensor) -> Callable:
    """Runner: apply a per-row function to all (N, V) logits at once."""
    flat = logits.reshape(-1, logits.shape[-1])
    return lambda fn: fn(flat, slice(0, flat.shape[0]))


class RecomputedRows(torch.autograd.Function):
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


def chunked_runner(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, chunk_size: int) -> Callable:
    """Runner: logits = hidden @ weight.T (+ bias) for `chunk_size` rows at a time, recomputed in
    the backward pass, so only one chunk of logits is ever alive."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size} must be >= 1")
    flat = hidden.reshape(-1, hidden.shape[-1])  # (N, H)
    return lambda fn: RecomputedRows.apply(fn, chunk_size, flat, weight, bias)
