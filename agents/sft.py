"""Warm start (`distil sft`): supervised fine-tuning on reference solutions.

A randomly initialised tiny model cannot solve anything, so on-policy learning from
its own samples has nothing to start from; and a self-teacher that has never seen a
teacher context cannot use the feedback in it. The warm start fixes both, on tasks
drawn from `SFT_SEEDS` (disjoint from the training and evaluation seeds):

- plain examples:    chat(prompt)                          -> reference completion
- teacher examples:  chat(ContextBuilder context)          -> reference completion
  where the context is the prompt plus one of: a wrong attempt's diagnostic feedback,
  a correct sibling attempt (the reference itself), both, the correction, or the
  correction-level feedback message plus the correction - the same text
  `agents.context.ContextBuilder` writes for the self-teacher during training.
- copy examples:     the same contexts, but every number of the reference (and of the
  correction) is replaced by a random number of the same length, consistently; the target
  is the perturbed reference. The prompt no longer determines the numbers, so the only way
  to lower the loss is to copy them from the context: this rewards an induction (copy)
  mechanism, which the plain teacher examples do not force (the model can lower their loss
  by predicting the reference from the prompt alone, and a 0.3M-parameter model trained on
  them alone solves only ~12% of unit conversions with the answer in context).

The loss is the mean cross-entropy over completion tokens (EOS included).
`warm_start(cfg)` caches the result under `<cache>/sft-<digest of the config>`, so the
demo, the tests and the benchmark share one warm-started model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from agents.config import SFT_SEEDS

VERSION = "sft-v2"
# One warm start serves the demo (math) and the benchmark (math, science, code).
WARM_START_ENVS = ("distil/math-linear-v0", "distil/science-unit-conversion-v0", "distil/code-synth-v0")


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class SFTConfig:
    """Supervised warm start (see each field's help text)."""

    model: str = field(default="tiny", metadata=_help("base model: 'tiny', a directory or a Hub id"))
    envs: list[str] = field(default_factory=lambda: list(WARM_START_ENVS), metadata=_help(
        "env ids whose reference solutions are the training data"))
    difficulty: int = field(default=1, metadata=_help("difficulty of procedural envs"))
    tasks: int = field(default=2000, metadata=_help("distinct tasks per env (SFT seeds)"))
    teacher_fraction: float = field(default=0.35, metadata=_help(
        "fraction of examples written as teacher contexts (feedback / sibling / correction -> reference)"))
    copy_fraction: float = field(default=0.3, metadata=_help(
        "fraction of examples whose numbers are randomised in context and target (copy curriculum)"))
    steps: int = field(default=2000, metadata=_help("optimizer steps"))
    batch_size: int = field(default=32, metadata=_help("examples per step"))
    lr: float = field(default=5e-3, metadata=_help("AdamW peak learning rate (cosine decay to 10%)"))
    seed: int = field(default=0, metadata=_help("data order and initialisation seed"))
    threads: int = field(default=1, metadata=_help("torch CPU threads"))
    device: str = field(default="cpu", metadata=_help("cpu | cuda"))
    out_dir: str = field(default="", metadata=_help("where to save (default: the cache, keyed by this config)"))

    def validate(self) -> "SFTConfig":
        import distil_envs
        from distil_envs.errors import UnknownEnvError

        for env_id in self.envs:
            if env_id not in distil_envs.env_ids():
                raise UnknownEnvError(env_id, distil_envs.env_ids())
        for name in ("tasks", "steps", "batch_size", "threads"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"SFTConfig.{name}={getattr(self, name)!r}: use an integer >= 1")
        for name in ("teacher_fraction", "copy_fraction"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"SFTConfig.{name}={getattr(self, name)}: use a fraction in [0, 1]")
        if self.teacher_fraction + self.copy_fraction > 1:
            raise ValueError(f"SFTConfig.teacher_fraction + copy_fraction = "
                             f"{self.teacher_fraction + self.copy_fraction}: the two must sum to at most 1")
        if self.lr <= 0:
            raise ValueError(f"SFTConfig.lr={self.lr}: use a positive learning rate")
        return self

    def digest(self) -> str:
        data = {k: v for k, v in dataclasses.asdict(self).items() if k not in ("out_dir", "threads", "device")}
        base = self.model
        if base.startswith("tiny"):
            from agents.policy import TINY_NAMES
            from agents.tiny import ensure_tiny_model

            base = ensure_tiny_model(TINY_NAMES.get(base, "tiny")).name
        return hashlib.sha1(json.dumps([VERSION, base, data], sort_keys=True).encode()).hexdigest()[:12]


def perturb_numbers(texts: list[str], rng: random.Random) -> list[str]:
    """`texts` with every digit run replaced by a random one of the same length (same map in all texts)."""
    mapping: dict[str, str] = {}

    def swap(match: re.Match) -> str:
        digits = match.group(0)
        if digits not in mapping:
            first = str(rng.randint(1, 9)) if len(digits) > 1 else str(rng.randint(0, 9))
            mapping[digits] = first + "".join(str(rng.randint(0, 9)) for _ in digits[1:])
        return mapping[digits]

    return [re.sub(r"\d+", swap, text) for text in texts]


def build_examples(cfg: SFTConfig, tokenizer: Any) -> list[tuple[list[int], list[int]]]:
    """(context ids, completion ids + EOS) pairs: plain, teacher-context and copy examples (see module doc)."""
    from agents.context import ContextBuilder
    from agents.trainer import make_envs
    from agents.config import TrainConfig

    envs = make_envs(TrainConfig(envs=list(cfg.envs), difficulty=cfg.difficulty, feedback="diagnostic"))
    strong = make_envs(TrainConfig(envs=list(cfg.envs), difficulty=cfg.difficulty, feedback="correction"))
    builder = ContextBuilder()
    rng = random.Random(cfg.seed)
    eos = tokenizer.eos_token_id
    examples = []
    for env_id, env in envs.items():
        for i in range(cfg.tasks):
            env.reset(seed=SFT_SEEDS[i])
            task = env.task
            reference = env.reference_completion(task)
            u = rng.random()
            if u < cfg.teacher_fraction + cfg.copy_fraction:
                wrong = env.wrong_completion(task)
                feedback = env.evaluate(wrong, task).message
                told = strong[env_id].evaluate(wrong, task).message  # correction level: has the reference
                correction = task.correction
                if u >= cfg.teacher_fraction:  # copy example: numbers only the context can give
                    reference, correction, told = perturb_numbers([reference, correction, told], rng)
                    options = [{"sibling": reference}, {"correction": correction},
                               {"feedback": told, "correction": correction}]
                else:
                    options = [{"feedback": feedback}, {"sibling": reference},
                               {"sibling": reference, "feedback": feedback}, {"correction": correction},
                               {"feedback": told, "correction": correction}]
                context = builder.encode(tokenizer, builder.render(task.prompt, rng.choice(options)))
            else:
                context = builder.encode(tokenizer, task.prompt)
            target = list(tokenizer(reference, add_special_tokens=False)["input_ids"]) + [eos]
            examples.append((context, target))
    return examples


@torch.no_grad()
def teacher_signal(policy: Any, env_id: str, *, tasks: int = 32, difficulty: int = 1, signal: str = "correction",
                   generate: bool = True, seed_base: int | None = None) -> dict[str, float]:
    """How much the self-teacher knows beyond the student, on held-out tasks of `env_id`.

    For each task: the mean per-token log-probability of the reference completion (EOS
    included) under the student (prompt only) and under the teacher (the `ContextBuilder`
    context with `signal`: "correction" = correction-level feedback + the correction,
    "sibling" = the reference as a successful sibling, "feedback" = the diagnostic feedback on
    the env's wrong completion, no reference); with `generate`, the greedy solve rate of each.
    """
    from agents.config import EVAL_SEED_BASE
    from agents.context import ContextBuilder
    from agents.trainer import make_envs
    from agents.types import SamplingConfig
    from agents.config import TrainConfig

    env = make_envs(TrainConfig(envs=[env_id], difficulty=difficulty, feedback="correction"))[env_id]
    diagnostic = make_envs(TrainConfig(envs=[env_id], difficulty=difficulty, feedback="diagnostic"))[env_id]
    builder, tok = ContextBuilder(), policy.tokenizer
    base = EVAL_SEED_BASE if seed_base is None else seed_base
    items, student_ctx, teacher_ctx, teacher_turns, targets = [], [], [], [], []
    for i in range(tasks):
        env.reset(seed=base + i)
        task = env.task
        reference = env.reference_completion(task)
        if signal == "correction":
            texts = {"feedback": env.evaluate(env.wrong_completion(task), task).message,
                     "correction": task.correction}
        elif signal == "sibling":
            texts = {"sibling": reference}
        elif signal == "feedback":
            texts = {"feedback": diagnostic.evaluate(env.wrong_completion(task), task).message}
        else:
            raise ValueError(f"signal={signal!r}: use 'correction', 'sibling' or 'feedback'")
        turn = builder.render(task.prompt, texts)
        items.append(task)
        teacher_turns.append(turn)
        student_ctx.append(builder.encode(tok, task.prompt))
        teacher_ctx.append(builder.encode(tok, turn))
        targets.append(list(tok(reference, add_special_tokens=False)["input_ids"]) + [tok.eos_token_id])
    mean = lambda rows: float(sum(r.mean().item() for r in rows) / len(rows))  # noqa: E731
    out = {"student_logprob": mean(policy.score(student_ctx, targets)),
           "teacher_logprob": mean(policy.score(teacher_ctx, targets))}
    if generate:
        greedy = SamplingConfig(temperature=0.0, max_new_tokens=max(len(t) for t in targets) + 8)
        for name, prompts in (("student", [t.prompt for t in items]), ("teacher", teacher_turns)):
            groups = policy.generate(prompts, n=1, sampling=greedy)
            out[f"{name}_solve"] = float(sum(env.evaluate(g[0].text, t).score >= 1.0
                                             for g, t in zip(groups, items)) / len(items))
    return out


def sft(cfg: SFTConfig, out_dir: str | os.PathLike, *, log=print) -> Path:
    """Fine-tune `cfg.model` on the examples and save it (with its tokenizer) to `out_dir`."""
    from agents.policy import HFPolicy, forward_completions

    cfg.validate()
    if cfg.device == "cpu":
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    policy = HFPolicy.from_pretrained(cfg.model, device=cfg.device)
    model = policy.model.train()
    examples = build_examples(cfg, policy.tokenizer)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    warmup = max(1, cfg.steps // 20)
    schedule = lambda s: min(1.0, (s + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + torch.cos(  # noqa: E731
        torch.tensor(torch.pi * s / cfg.steps)).item()))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    rng = random.Random(cfg.seed + 1)
    t0, running = time.perf_counter(), None
    for step in range(1, cfg.steps + 1):
        batch = [examples[rng.randrange(len(examples))] for _ in range(cfg.batch_size)]
        out = forward_completions(model, [c for c, _ in batch], [t for _, t in batch], pad_id=policy.pad_id)
        logp = torch.log_softmax(out.logits.float(), -1).gather(-1, out.tokens.unsqueeze(-1)).squeeze(-1)
        loss = -(logp * out.mask).sum() / out.mask.sum()  # mean CE per completion token
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
        if step % max(1, cfg.steps // 10) == 0 or step == cfg.steps:
            log(f"sft step {step}/{cfg.steps}  loss {running:.3f}  {time.perf_counter() - t0:.0f}s")
    out_path = Path(out_dir)
    policy.save(out_path)
    (out_path / "sft_config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=1))
    return out_path


def warm_start(cfg: SFTConfig, cache_dir: str | os.PathLike | None = None, *, log=print) -> Path:
    """The warm-started model for `cfg`: `cfg.out_dir` if set, else cached by the config's digest."""
    if cfg.out_dir:
        return sft(cfg, cfg.out_dir, log=log)
    from agents.tiny import default_cache_dir

    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / f"sft-{cfg.digest()}"
    if (target / "sft_config.json").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=root))
    try:
        sft(cfg, tmp, log=log)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "sft_config.json").exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
