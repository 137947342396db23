"""`TrainConfig`: every knob of `distil train` and `distil sft`, in one dataclass.

The same config comes from the command line (`distil train --algo distil ...`), a TOML
file (`--config run.toml`, keys = field names), or Python (`TrainConfig(algo="grpo")`).
Derived values (`teacher_weights="auto"`, `chunked_loss="auto"`) are resolved by
`resolved()` right after parsing; `validate()` raises `ValueError` naming the field and
the fix, or `UnknownEnvError` suggesting the closest id.

Seed ranges: every task the trainer, the warm start and the evaluator draw is the task an
env gives for `reset(seed=s)`. The three uses draw from disjoint ranges defined here, and
the leaderboard imports `EVAL_SEED_BASE` so "held out" means the same everywhere.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Disjoint seed ranges for env.reset(seed=...).
TRAIN_SEEDS = range(0, 1_000_000_000)
SFT_SEEDS = range(1_000_000_000, 2_000_000_000)
EVAL_SEED_BASE = 2_000_000_000
EVAL_SEEDS = range(EVAL_SEED_BASE, EVAL_SEED_BASE + 1_000_000_000)

ALGOS = ("distil", "ce_local", "sdpo", "opsd", "grpo")
TEACHER_WEIGHTS = ("auto", "current", "ema", "frozen", "trust_region")
FEEDBACK_LEVELS = ("binary", "diagnostic", "correction")
# Algorithms whose teacher reads the environment's feedback (or the reference) in context.
NEEDS_FEEDBACK = {"distil": "diagnostic", "ce_local": "diagnostic", "sdpo": "diagnostic", "opsd": "correction"}


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class TrainConfig:
    """One training run (see each field's help text)."""

    # --- what to train
    algo: str = field(default="distil", metadata=_help(
        "loss: distil (forward CE + future credit), ce_local (local term only), sdpo, opsd, grpo"))
    envs: list[str] = field(default_factory=lambda: ["distil/math-arithmetic-v0"], metadata=_help(
        "env ids to train on (repeat --env); prompts alternate between them"))
    difficulty: int = field(default=1, metadata=_help("difficulty passed to procedural envs (1 = easiest)"))
    model: str = field(default="tiny", metadata=_help(
        "student: 'tiny' (offline model), a local directory, or a Hub id"))
    teacher: str = field(default="self", metadata=_help(
        "expert: 'self' (student with feedback in context), 'oracle' (from the correction), 'model:PATH'"))
    teacher_weights: str = field(default="auto", metadata=_help(
        "self-teacher weights: current | ema | frozen | trust_region; auto = frozen for opsd (its paper), "
        "ema for distil, ce_local and sdpo (one teacher for the three; ema beat current for distil in "
        "benchmarks/learning_efficiency.py)"))
    ema_rate: float = field(default=0.05, metadata=_help("EMA / trust-region mixing rate of the teacher per step"))
    teacher_top_k: int = field(default=20, metadata=_help("teacher entries kept per position (plus a tail bucket)"))
    feedback: str = field(default="diagnostic", metadata=_help(
        "feedback level of the envs: binary | diagnostic | correction"))
    demonstrations: bool = field(default=True, metadata=_help(
        "put a successful sibling attempt in the self-teacher's context (SDPO's demonstrations)"))
    # --- the loop
    steps: int = field(default=50, metadata=_help("optimizer steps"))
    prompts_per_step: int = field(default=8, metadata=_help("prompts per step (global, over all ranks)"))
    samples_per_prompt: int = field(default=4, metadata=_help("completions per prompt (n, the group size)"))
    lr: float = field(default=1e-4, metadata=_help("AdamW learning rate"))
    weight_decay: float = field(default=0.0, metadata=_help("AdamW weight decay"))
    warmup_steps: int = field(default=0, metadata=_help("linear learning-rate warm-up steps"))
    grad_clip: float = field(default=1.0, metadata=_help("global gradient-norm clip (0 = off)"))
    max_new_tokens: int = field(default=64, metadata=_help("longest completion in tokens"))
    temperature: float = field(default=1.0, metadata=_help("sampling temperature of training rollouts"))
    top_k: int = field(default=0, metadata=_help("sampling top-k of training rollouts (0 = off)"))
    seed: int = field(default=0, metadata=_help("run seed: task order, sampling and initial RNG states"))
    # --- loss options
    baseline: str = field(default="loo", metadata=_help("distil cost-to-go baseline: loo | mean | none"))
    normalize_cost_to_go: str = field(default="none", metadata=_help(
        "distil cost-to-go normalisation: none | length | group_std"))
    clip_cost_to_go: float = field(default=0.0, metadata=_help("clamp |G_t - b_t| to this value (0 = off)"))
    cost: str = field(default="ce", metadata=_help("distil per-token cost: ce (paper) | kl (ablation)"))
    sdpo_alpha: float = field(default=0.5, metadata=_help("SDPO generalised-JSD alpha (0 forward KL, 1 reverse)"))
    opsd_beta: float = field(default=0.5, metadata=_help("OPSD JSD beta"))
    opsd_temperature: float = field(default=1.1, metadata=_help("OPSD logit temperature"))
    clip_low: float = field(default=0.2, metadata=_help("GRPO ratio clip below 1"))
    clip_high: float = field(default=0.28, metadata=_help("GRPO ratio clip above 1 (DAPO)"))
    grpo_scale: str = field(default="group", metadata=_help(
        "GRPO advantage scaling: group (divide by the group's reward std) | none (Dr. GRPO)"))
    chunked_loss: str = field(default="auto", metadata=_help(
        "compute distil from hidden states chunk by chunk: on | off | auto (on for cuda)"))
    loss_chunk_size: int = field(default=128, metadata=_help(
        "positions per chunk of the chunked loss (a chunk holds ~12 x chunk x vocabulary bytes)"))
    # --- evaluation, checkpoints, output
    eval_every: int = field(default=10, metadata=_help("held-out evaluation every N steps (0 = only at the end)"))
    eval_tasks: int = field(default=32, metadata=_help("held-out tasks per env (eval seeds)"))
    eval_samples: int = field(default=4, metadata=_help("samples per held-out task (k of avg@k, pass@k)"))
    eval_temperature: float = field(default=1.0, metadata=_help("sampling temperature of evaluation"))
    checkpoint_every: int = field(default=10, metadata=_help("checkpoint every N steps (0 = only at the end)"))
    keep_checkpoints: int = field(default=2, metadata=_help("checkpoints kept on disk (oldest deleted)"))
    out_dir: str = field(default="runs/latest", metadata=_help("run directory"))
    resume: bool = field(default=False, metadata=_help("continue from the newest checkpoint in out_dir"))
    # --- hardware
    device: str = field(default="cpu", metadata=_help("cpu | cuda | cuda:N"))
    dtype: str = field(default="float32", metadata=_help("float32 | bfloat16 | float16"))
    generator: str = field(default="hf", metadata=_help("rollout generator: hf (transformers) | vllm (GPU)"))
    parallel: str = field(default="ddp", metadata=_help(
        "with several processes (--nproc): ddp: every rank holds the whole model | fsdp: parameters, gradients "
        "and optimizer state sharded over ranks (FSDP2 fully_shard)"))
    threads: int = field(default=1, metadata=_help("torch CPU threads (1 is fastest for the tiny model)"))
    progress: bool = field(default=True, metadata=_help("show a rich progress bar"))

    # ------------------------------------------------------------------ derived values
    def resolved(self) -> "TrainConfig":
        """A copy with `auto` values replaced by what they mean for this algo and device."""
        weights = self.teacher_weights
        if weights == "auto":
            weights = {"opsd": "frozen", "grpo": "current"}.get(self.algo, "ema")  # grpo has no teacher
        chunked = self.chunked_loss
        if chunked == "auto":
            chunked = "on" if self.device.startswith("cuda") else "off"
        return dataclasses.replace(self, teacher_weights=weights, chunked_loss=chunked, envs=list(self.envs))

    @property
    def rollouts_per_step(self) -> int:
        return self.prompts_per_step * self.samples_per_prompt

    # ------------------------------------------------------------------ validation
    def validate(self) -> "TrainConfig":
        """Raise ValueError (naming the field and the fix) or UnknownEnvError; return self."""
        import distil_envs
        from distil_envs.errors import UnknownEnvError

        def need(ok: bool, name: str, fix: str) -> None:
            if not ok:
                raise ValueError(f"TrainConfig.{name}={getattr(self, name)!r}: {fix}")

        need(self.algo in ALGOS, "algo", f"use one of {', '.join(ALGOS)}")
        need(isinstance(self.envs, list) and len(self.envs) > 0, "envs", "give at least one env id (--env ID)")
        known = distil_envs.env_ids()
        for env_id in self.envs:
            if env_id not in known:
                raise UnknownEnvError(env_id, known)
        need(self.teacher in ("self", "oracle") or self.teacher.startswith("model:") and len(self.teacher) > 6,
             "teacher", "use 'self', 'oracle' or 'model:PATH'")
        need(self.teacher_weights in TEACHER_WEIGHTS, "teacher_weights", f"use one of {TEACHER_WEIGHTS}")
        need(self.feedback in FEEDBACK_LEVELS, "feedback", f"use one of {FEEDBACK_LEVELS}")
        if self.algo in NEEDS_FEEDBACK and self.feedback == "binary" and not (self.demonstrations and
                                                                              self.algo != "opsd"):
            also = "" if self.algo == "opsd" else " (or --demonstrations: successful siblings as the signal)"
            raise ValueError(
                f"TrainConfig.feedback='binary': algo={self.algo!r} needs a teacher signal from the environment; "
                f"use --feedback {NEEDS_FEEDBACK[self.algo]}{also}, or --algo grpo, which learns from the reward "
                f"alone")
        if self.algo == "opsd" and self.teacher == "self" and self.feedback != "correction":
            raise ValueError(f"TrainConfig.feedback={self.feedback!r}: opsd's teacher reads the reference solution; "
                             f"use --feedback correction")
        need(0 < self.ema_rate <= 1, "ema_rate", "use a rate in (0, 1]")
        need(self.teacher_top_k >= 1, "teacher_top_k", "use k >= 1")
        for name in ("steps", "prompts_per_step", "samples_per_prompt", "max_new_tokens", "eval_tasks",
                     "eval_samples", "keep_checkpoints", "threads"):
            need(isinstance(getattr(self, name), int) and getattr(self, name) >= 1, name, "use an integer >= 1")
        for name in ("eval_every", "checkpoint_every", "warmup_steps"):
            need(isinstance(getattr(self, name), int) and getattr(self, name) >= 0, name, "use an integer >= 0")
        need(self.samples_per_prompt >= 2 or self.algo not in ("grpo",), "samples_per_prompt",
             "grpo's group-relative advantage needs >= 2 samples per prompt")
        need(self.lr > 0, "lr", "use a positive learning rate, e.g. 1e-4")
        need(self.temperature > 0, "temperature", "training rollouts must be sampled: use a temperature > 0")
        need(self.eval_temperature >= 0, "eval_temperature", "use >= 0 (0 = greedy)")
        need(self.top_k >= 0, "top_k", "use 0 (off) or a positive k")
        need(self.grad_clip >= 0, "grad_clip", "use 0 (off) or a positive norm")
        need(self.clip_cost_to_go >= 0, "clip_cost_to_go", "use 0 (off) or a positive value")
        need(self.baseline in ("loo", "mean", "none"), "baseline", "use loo, mean or none")
        need(self.normalize_cost_to_go in ("none", "length", "group_std"), "normalize_cost_to_go",
             "use none, length or group_std")
        need(self.cost in ("ce", "kl"), "cost", "use ce or kl")
        need(self.grpo_scale in ("group", "none"), "grpo_scale", "use group or none")
        need(0 <= self.sdpo_alpha <= 1, "sdpo_alpha", "use alpha in [0, 1]")
        need(0 <= self.opsd_beta <= 1, "opsd_beta", "use beta in [0, 1]")
        need(self.opsd_temperature > 0, "opsd_temperature", "use a positive temperature")
        need(self.chunked_loss in ("on", "off", "auto"), "chunked_loss", "use on, off or auto")
        need(self.loss_chunk_size >= 1, "loss_chunk_size", "use a positive number of positions, e.g. 1024")
        need(self.generator in ("hf", "vllm"), "generator", "use hf, or vllm on a GPU")
        need(self.device == "cpu" or self.device.startswith("cuda"), "device", "use cpu, cuda or cuda:N")
        need(self.generator != "vllm" or self.device.startswith("cuda"), "generator", "vllm needs --device cuda")
        need(self.dtype in ("float32", "bfloat16", "float16"), "dtype", "use float32, bfloat16 or float16")
        need(self.parallel in ("ddp", "fsdp"), "parallel", "use ddp or fsdp")
        need(self.parallel != "fsdp" or self.generator == "hf", "parallel",
             "the vllm generator copies the whole model into its engine; use --parallel ddp with --generator vllm, "
             "or --generator hf")
        need(self.prompts_per_step >= 1, "prompts_per_step", "use >= 1")
        return self

    # ------------------------------------------------------------------ I/O
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            import difflib
            hints = [f"{k!r} (did you mean {difflib.get_close_matches(k, names, 1)[0]!r}?)"
                     if difflib.get_close_matches(k, names, 1) else repr(k) for k in unknown]
            raise ValueError(f"unknown TrainConfig field(s): {', '.join(hints)}")
        data = dict(data)
        if isinstance(data.get("envs"), str):
            data["envs"] = [data["envs"]]
        return cls(**data)

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> "TrainConfig":
        """Fields from a TOML file (top level or a [train] table), then `overrides`."""
        import tomllib

        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ValueError(f"--config {path}: no such file") from None
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"--config {path}: not valid TOML ({error})") from None
        data = data.get("train", data)
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(data)

    def save(self, path: str | Path) -> None:
        from agents.checkpoint import atomic_write_text

        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=1))

