"""Top-k truncation shared by the distillation losses: `select_topk`.

Top-k truncation keeps a set of token ids per position plus one tail bucket holding the rest
of the mass, so both truncated distributions still sum to one. `teacher/mass` and
`student/mass` report how much probability the kept ids carry.
"""

from __future__ import annotations

import torch

from agents.loss_rows import check_choice, log_floor

TOPK_RULES = ("teacher", "student", "union")


def _excluded_logsumexp(logprobs: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """log of the mass outside `ids`, exact (no 1 - sum cancellation); log 0 becomes the floor."""
    # A finite stand-in for -inf keeps the gradient finite when ids cover the whole vocabulary.
    rest = logprobs.scatter(-1, ids, torch.finfo(logprobs.dtype).min)  # (..., V)
    return torch.logsumexp(rest, dim=-1).clamp_min(log_floor(logprobs.dtype))  # (...)


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
    check_choice("rule", rule, TOPK_RULES)
    floor = log_floor(student_logprobs.dtype)
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
