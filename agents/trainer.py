"""The on-policy trainer: one visible loop, CleanRL-style.

    for step:
        prompts   <- the configured envs at training seeds (data position = prompts drawn so far)
        rollouts  <- n completions per prompt, judged by the env (reward + Feedback)
        targets   <- the expert's next-token distributions on the student's own tokens
        loss      <- distil | ce_local | sdpo | opsd | grpo
        optimizer step, teacher update (EMA / trust region), held-out eval, checkpoint

Data parallel (`torchrun -m agents.train`): every rank holds the whole model, generates
for its shard of the step's prompts (prompt i of the step goes to rank i % world), and
scales its token-mean loss by local / global token count, so that the all-reduced
(summed) gradient is the gradient of the loss over the global batch. Rank 0 writes
metrics and checkpoints. With `--parallel fsdp` parameters, gradients and optimizer
state are sharded over the ranks instead (FSDP2; see `agents/parallel.py`): the same
rollouts and loss, with whole parameters gathered once per step for sampling.

Determinism: the sampling seed of prompt i is derived from (run seed, i), so a rollout
does not depend on the batch it was generated in, the number of ranks, or on whether the
run was resumed; together with checkpoints of every weight, optimizer moment and RNG
state a resumed CPU run reproduces the uninterrupted run's losses exactly.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

import distil_envs
from agents.checkpoint import (atomic_write_text, latest_checkpoint, load_checkpoint, rng_state, save_checkpoint,
                               set_rng_state)
from agents.config import EVAL_SEED_BASE, TRAIN_SEEDS, TrainConfig
from agents.parallel import full_states, gathered, load_full_states, scalar, shard
from agents.types import Completion, Rollout, SamplingConfig
from distil_envs.metrics import avg_at_k, pass_at_k
from distil_envs.seeding import task_seed


# ----------------------------------------------------------------------------- building blocks
@dataclass
class Dist:
    """This process's place in a torch.distributed job (world 1 when not distributed)."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def all_sum(self, values: Sequence[float]) -> list[float]:
        if self.world == 1:
            return [float(v) for v in values]
        t = torch.tensor([float(v) for v in values], dtype=torch.float64)
        torch.distributed.all_reduce(t)
        return t.tolist()


def init_distributed(device: str) -> Dist:
    """Join the torchrun job if there is one (gloo on CPU; nccl for CUDA tensors, gloo for CPU ones)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="cpu:gloo,cuda:nccl" if device.startswith("cuda") else "gloo")
    return Dist(rank=dist.get_rank(), world=dist.get_world_size())


def rank_config(cfg: TrainConfig, dist: Dist) -> TrainConfig:
    """The config this rank runs: `cuda` becomes this rank's own GPU (cuda:LOCAL_RANK)."""
    if dist.world > 1 and cfg.prompts_per_step < dist.world:
        raise ValueError(f"TrainConfig.prompts_per_step={cfg.prompts_per_step}: every one of the {dist.world} "
                         f"ranks needs a prompt; use --prompts-per-step {dist.world} or more, or fewer processes")
    if dist.world == 1 or cfg.device != "cuda":
        return cfg
    local = int(os.environ.get("LOCAL_RANK", dist.rank))
    torch.cuda.set_device(local)
    return dataclasses.replace(cfg, device=f"cuda:{local}")


def make_envs(cfg: TrainConfig) -> dict[str, Any]:
    """One env per id at the configured feedback level (difficulty for procedural families)."""
    envs = {}
    for env_id in cfg.envs:
        kwargs: dict[str, Any] = {"feedback": cfg.feedback}
        if issubclass(distil_envs.env_class(env_id), distil_envs.ProceduralEnv):
            kwargs["difficulty"] = min(cfg.difficulty, distil_envs.env_class(env_id).max_difficulty)
        envs[env_id] = distil_envs.make(env_id, **kwargs).unwrapped
    return envs


def train_prompt(envs: dict[str, Any], cfg: TrainConfig, index: int) -> tuple[str, int, Any]:
    """(env id, seed, task) of the `index`-th training prompt of this run."""
    env_id = cfg.envs[index % len(cfg.envs)]
    seed = TRAIN_SEEDS[task_seed(cfg.seed, index) % len(TRAIN_SEEDS)]
    envs[env_id].reset(seed=seed)
    return env_id, seed, envs[env_id].task


def load_policy(cfg: TrainConfig):
    """The trained policy (transformers; it also serves the self-teacher and the loss)."""
    from agents.policy import HFPolicy

    return HFPolicy.from_pretrained(cfg.model, device=cfg.device, dtype=cfg.dtype)


def load_generator(cfg: TrainConfig, policy: Any):
    """What samples rollouts: the policy itself, or a vLLM engine whose weights follow it."""
    if cfg.generator == "hf":
        return policy
    from agents.vllm_policy import VLLMPolicy

    model = cfg.model
    if model.startswith("tiny"):
        from agents.policy import TINY_NAMES
        from agents.tiny import ensure_tiny_model

        model = str(ensure_tiny_model(TINY_NAMES.get(model, "tiny")))
    return VLLMPolicy(model, tokenizer=policy.tokenizer, dtype=cfg.dtype, seed=cfg.seed)


def build_expert(cfg: TrainConfig, policy: Any, envs: dict[str, Any]):
    """The configured expert, or None for grpo (it learns from the reward alone)."""
    if cfg.algo == "grpo":
        return None
    from agents import experts
    from agents.context import ContextBuilder

    exact = cfg.algo in ("sdpo", "opsd")  # their top-k rules are over the student's / full logits
    if cfg.teacher == "oracle":
        return experts.OracleExpert(policy.tokenizer, exact=exact,
                                    reference=lambda r: envs[r.env_id].reference_completion(r.task))
    if cfg.algo == "opsd":
        builder = ContextBuilder(signals=("correction",), rule="all", seed=cfg.seed)
    else:
        signals = ("sibling",) if cfg.demonstrations else ()
        signals += ("feedback",) if cfg.feedback != "binary" else ()
        signals += ("correction",) if cfg.feedback == "correction" else ()
        builder = ContextBuilder(signals=signals, rule="sdpo" if cfg.algo == "sdpo" else "all", seed=cfg.seed)
    if cfg.teacher.startswith("model:"):
        return experts.ModelTeacher(cfg.teacher[len("model:"):], student_tokenizer=policy.tokenizer, builder=builder,
                                    device=cfg.device, dtype=cfg.dtype, top_k=cfg.teacher_top_k, exact=exact)
    return experts.SelfTeacher(policy, builder, weights=cfg.teacher_weights, ema_rate=cfg.ema_rate,
                               top_k=cfg.teacher_top_k, exact=exact)


@torch.no_grad()
def evaluate(policy: Any, cfg: TrainConfig, envs: dict[str, Any], *, tasks: int | None = None,
             samples: int | None = None) -> dict[str, float]:
    """avg@k and pass@k on held-out tasks (eval seeds, the same for every run and step)."""
    tasks, k = tasks or cfg.eval_tasks, samples or cfg.eval_samples
    sampling = SamplingConfig(temperature=cfg.eval_temperature, max_new_tokens=cfg.max_new_tokens,
                              seed=EVAL_SEED_BASE)
    metrics: dict[str, float] = {}
    avg_all, pass_all = [], []
    for env_id, env in envs.items():
        items = []
        for i in range(tasks):
            env.reset(seed=EVAL_SEED_BASE + i)
            items.append(env.task)
        groups = policy.generate([t.prompt for t in items], n=k, sampling=sampling)
        avg, passed = [], []
        for task, group in zip(items, groups):
            scores = [env.evaluate(c.text, task).score for c in group]
            avg.append(avg_at_k(scores, k))
            passed.append(pass_at_k(k, sum(s >= 1.0 for s in scores), k))
        metrics[f"eval/{env_id}/avg@{k}"] = float(np.mean(avg))
        metrics[f"eval/{env_id}/pass@{k}"] = float(np.mean(passed))
        avg_all += avg
        pass_all += passed
    metrics[f"eval/avg@{k}"] = float(np.mean(avg_all))
    metrics[f"eval/pass@{k}"] = float(np.mean(pass_all))
    metrics["eval/accuracy"] = metrics[f"eval/avg@{k}"]
    return metrics


def compute_loss(cfg: TrainConfig, policy: Any, rollouts: list[Rollout], targets: Any) -> tuple[torch.Tensor, dict,
                                                                                                   float]:
    """(token-mean loss over this rank's rollouts, metrics, number of tokens it was averaged over)."""
    from agents import losses

    contexts = [r.completion.prompt_token_ids for r in rollouts]
    completions = [r.completion.token_ids or [policy.pad_id] for r in rollouts]
    group_ids = torch.tensor([r.group_id for r in rollouts], device=policy.device)
    chunked = cfg.chunked_loss == "on" and cfg.algo in ("distil", "ce_local")
    out = policy.forward_completions(contexts, completions, return_logits=not chunked, return_hidden=chunked)
    mask = out.mask * torch.tensor([1.0 if r.completion.token_ids else 0.0 for r in rollouts],
                                   device=out.mask.device)[:, None]
    if cfg.algo == "grpo":
        old = torch.zeros_like(mask)
        for i, r in enumerate(rollouts):
            old[i, :len(r.completion.logprobs)] = torch.tensor(r.completion.logprobs, device=old.device)
        logp = torch.log_softmax(out.logits.float(), -1).gather(-1, out.tokens.unsqueeze(-1)).squeeze(-1)
        rewards = torch.tensor([r.reward for r in rollouts], device=mask.device)
        loss, metrics = losses.grpo_loss(logp, old, rewards, group_ids, mask, clip_low=cfg.clip_low,
                                         clip_high=cfg.clip_high, scale=cfg.grpo_scale, agg="token_mean")
        return loss, metrics, float(mask.sum())
    targets = targets.to(policy.device)
    active = (targets.mask.sum(-1, keepdim=True) > 0).float()
    if cfg.algo in ("distil", "ce_local"):
        options = dict(group_ids=group_ids, baseline=cfg.baseline, future_credit=cfg.algo == "distil",
                       cost=cfg.cost, normalize_cost_to_go=cfg.normalize_cost_to_go,
                       clip_cost_to_go=cfg.clip_cost_to_go or None)
        if chunked:
            model = policy.model
            loss, metrics = losses.chunked_distil_loss(out.hidden, model.get_output_embeddings().weight, targets,
                                                       out.tokens, mask, chunk_size=cfg.loss_chunk_size, **options)
        else:
            loss, metrics = losses.distil_loss(out.logits, targets, out.tokens, mask, **options)
        return loss, metrics, float((mask * active).sum())
    if cfg.algo == "sdpo":
        loss, metrics = losses.sdpo_loss(out.logits, targets, out.tokens, mask, alpha=cfg.sdpo_alpha)
    else:
        loss, metrics = losses.opsd_loss(out.logits, targets, out.tokens, mask, beta=cfg.opsd_beta,
                                         temperature=cfg.opsd_temperature)
    return loss, metrics, float((mask * targets.mask).sum())


def _expert_state(expert: Any) -> Any:
    """The teacher's own weight copy (EMA / frozen / trust region), if it has one."""
    copy = getattr(expert, "copy", None)
    return copy.state_dict() if copy is not None else None


def _load_expert_state(expert: Any, state: Any) -> None:
    if state is not None:
        expert.copy.load_state_dict(state)


class ProgressBar:
    """A rich progress bar with reward and eval accuracy (a no-op when disabled)."""

    def __init__(self, enabled: bool, total: int, start: int):
        self.bar = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("reward {task.fields[reward]:.3f}  eval {task.fields[acc]}"),
                                TimeRemainingColumn(), transient=False)
            self.task = self.bar.add_task("train", total=total, completed=start, reward=0.0, acc="-")
            self.bar.start()

    def update(self, reward: float, acc: float | None) -> None:
        if self.bar is not None:
            fields = {"reward": reward} | ({"acc": f"{acc:.3f}"} if acc is not None else {})
            self.bar.update(self.task, advance=1, **fields)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


# ----------------------------------------------------------------------------- the loop
def train(cfg: TrainConfig) -> Path:
    """Run (or resume) training; return the run directory."""
    run_cfg = cfg.resolved().validate()  # as written to config.json and checkpoints
    dist = init_distributed(run_cfg.device)
    cfg = rank_config(run_cfg, dist)
    fsdp = cfg.parallel == "fsdp" and dist.world > 1
    if cfg.device == "cpu":
        torch.set_num_threads(cfg.threads)
    run_dir = Path(cfg.out_dir)
    metrics_path = run_dir / "metrics.jsonl"
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed % 2**32)

    policy = load_policy(cfg)
    generator = load_generator(cfg, policy)
    model = policy.model
    model.train()
    envs = make_envs(cfg)
    expert = build_expert(cfg, policy, envs)  # before sharding: its weight copies are whole
    if fsdp:
        shard(model, dist.world)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0)
    sampling = SamplingConfig(temperature=cfg.temperature, top_k=cfg.top_k, max_new_tokens=cfg.max_new_tokens)

    start_step, position, eval_acc = 0, 0, None
    checkpoint = latest_checkpoint(run_dir) if cfg.resume else None
    if checkpoint is not None:
        state = load_checkpoint(checkpoint)
        if state["config"].get("parallel", "ddp") != cfg.parallel:
            raise ValueError(f"TrainConfig.parallel={cfg.parallel!r}: {checkpoint} was written by a "
                             f"--parallel {state['config'].get('parallel', 'ddp')} run; resume it with that value")
        if fsdp:
            load_full_states(model, optimizer, state["model"], state["optimizer"])
        else:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        _load_expert_state(expert, state["expert"])
        set_rng_state(state["rng"][dist.rank] if dist.rank < len(state["rng"]) else state["rng"][0])
        start_step, position, eval_acc = state["step"], state["position"], state.get("eval_acc")
    if dist.main:
        if checkpoint is None and (run_dir / "checkpoints").exists():
            import shutil  # starting over in an old run directory: its checkpoints must not be resumed later

            shutil.rmtree(run_dir / "checkpoints")
        run_dir.mkdir(parents=True, exist_ok=True)
        run_cfg.save(run_dir / "config.json")
        kept = [line for line in (metrics_path.read_text().splitlines() if metrics_path.exists() and checkpoint
                                  else []) if json.loads(line)["step"] <= start_step]
        atomic_write_text(metrics_path, "".join(line + "\n" for line in kept))
    if generator is not policy and checkpoint is not None:
        generator.sync_weights(model)
    if start_step == 0:  # the "before" point of every curve
        with gathered(model):
            if dist.main:
                eval_acc = _log(metrics_path, {"step": 0, "rollouts": 0,
                                               **evaluate(generator, cfg, envs)})["eval/accuracy"]

    bar = ProgressBar(cfg.progress and dist.main, cfg.steps, start_step)
    try:
        for step in range(start_step + 1, cfg.steps + 1):
            row: dict[str, Any] = {"step": step, "rollouts": step * cfg.rollouts_per_step}
            step_start = time.perf_counter()
            if policy.device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(policy.device)
            # 1. prompts of this step: global indices position .. position + P - 1; this rank's shard
            indices = list(range(position + dist.rank, position + cfg.prompts_per_step, dist.world))
            position += cfg.prompts_per_step
            prompts = [train_prompt(envs, cfg, i) for i in indices]

            with gathered(model):  # FSDP: whole weights once for sampling and the self-teacher
                # 2. n completions per prompt, one batch, each prompt sampled from its own seed
                t0 = time.perf_counter()
                groups: list[list[Completion]] = generator.generate(
                    [task.prompt for _, _, task in prompts], n=cfg.samples_per_prompt, sampling=sampling,
                    seeds=[task_seed(cfg.seed + 1, i) for i in indices])
                row["time/generate_s"] = time.perf_counter() - t0

                # 3. the envs judge every completion (reward + Feedback)
                t0 = time.perf_counter()
                rollouts = [Rollout(env_id=env_id, task=task, prompt=task.prompt, completion=c,
                                    feedback=(fb := envs[env_id].evaluate(c.text, task)), reward=float(fb.score),
                                    group_id=i, seed=seed)
                            for i, (env_id, seed, task), group in zip(indices, prompts, groups) for c in group]
                row["time/env_s"] = time.perf_counter() - t0

                # 4. the expert's targets on the student's own tokens
                t0 = time.perf_counter()
                targets = expert.targets(rollouts) if expert is not None else None
                row["time/teacher_s"] = time.perf_counter() - t0

            # 5. loss over the global batch, optimizer step, teacher update
            t0 = time.perf_counter()
            if fsdp and cfg.chunked_loss == "on":
                model.unshard()  # the chunked loss reads the head's weight outside the root's forward
            loss, loss_metrics, n_local = compute_loss(cfg, policy, rollouts, targets)
            (n_global,) = dist.all_sum([n_local])
            scaled = loss * (n_local / n_global) if n_global > 0 else loss * 0.0
            optimizer.zero_grad(set_to_none=False)
            (scaled * dist.world if fsdp else scaled).backward()  # FSDP averages over ranks: see agents/parallel.py
            if dist.world > 1 and not fsdp:
                grads = [p.grad for p in model.parameters() if p.grad is not None]
                flat = torch.cat([g.reshape(-1) for g in grads])
                torch.distributed.all_reduce(flat)
                _unflatten(flat, grads)
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip or float("inf"))
            optimizer.step()
            scheduler.step()
            if expert is not None:
                with gathered(model) if fsdp and cfg.teacher == "self" and cfg.teacher_weights == "ema" \
                        else nullcontext():
                    expert.update(model)
            if generator is not policy:
                generator.sync_weights(model)
            row["time/train_s"] = time.perf_counter() - t0

            # 6. metrics (summed over ranks)
            signal = [bool(s and any(s.values())) for s in (targets.signals if targets is not None else [])]
            sums = dist.all_sum([float(scaled.detach()), len(rollouts), sum(r.reward for r in rollouts),
                                 sum(r.feedback.correct for r in rollouts), sum(signal),
                                 sum(len(r.completion.token_ids) for r in rollouts)])
            row.update({"loss/total": sums[0], "rollout/reward": sums[2] / sums[1],
                        "rollout/correct": sums[3] / sums[1], "rollout/length": sums[5] / sums[1],
                        "teacher/signal_fraction": sums[4] / sums[1] if expert is not None else 0.0,
                        "train/grad_norm": scalar(grad_norm), "train/lr": scheduler.get_last_lr()[0],
                        "train/tokens": n_global,
                        "time/step_s": time.perf_counter() - step_start,
                        "throughput/tokens_per_s": sums[5] / max(time.perf_counter() - step_start, 1e-9)})
            if policy.device.type == "cuda":
                row["memory/peak_gb"] = torch.cuda.max_memory_allocated(policy.device) / 2**30
            row.update({k: v for k, v in loss_metrics.items() if k not in row})  # ours are global, theirs local

            # 7. held-out evaluation, log, checkpoint
            if (cfg.eval_every and step % cfg.eval_every == 0) or step == cfg.steps:
                with gathered(model):
                    if dist.main:
                        t0 = time.perf_counter()
                        row.update(evaluate(generator, cfg, envs))
                        row["time/eval_s"] = time.perf_counter() - t0
                        eval_acc = row["eval/accuracy"]
            if dist.main:
                _log(metrics_path, row)
            if (cfg.checkpoint_every and step % cfg.checkpoint_every == 0) or step == cfg.steps:
                _checkpoint(run_dir, run_cfg, step, position, eval_acc, model, optimizer, scheduler, expert, dist,
                            fsdp)
            bar.update(row["rollout/reward"], eval_acc)
    finally:
        bar.close()
    final_state = full_states(model)[0] if fsdp else None
    if dist.main:
        policy.save(run_dir / "final", state_dict=final_state)
    if dist.world > 1:
        torch.distributed.barrier()
    return run_dir


def _unflatten(flat: torch.Tensor, grads: list[torch.Tensor]) -> None:
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def _log(path: Path, row: dict[str, Any]) -> dict[str, Any]:
    with open(path, "a") as handle:
        handle.write(json.dumps(row) + "\n")
        handle.flush()
    return row


def _checkpoint(run_dir: Path, cfg: TrainConfig, step: int, position: int, eval_acc: float | None, model: Any,
                optimizer: Any, scheduler: Any, expert: Any, dist: Dist, fsdp: bool) -> None:
    """Rank 0 writes model, optimizer, scheduler, expert and every rank's RNG state (FSDP: gathered full)."""
    model_state, optim_state = full_states(model, optimizer) if fsdp else (None, None)
    states = [None] * dist.world
    if dist.world > 1:
        torch.distributed.all_gather_object(states, rng_state())
    else:
        states = [rng_state()]
    if dist.main:
        save_checkpoint(run_dir, step, {"step": step, "position": position, "eval_acc": eval_acc,
                                        "model": model_state if fsdp else model.state_dict(),
                                        "optimizer": optim_state if fsdp else optimizer.state_dict(),
                                        "scheduler": scheduler.state_dict(), "expert": _expert_state(expert),
                                        "rng": states, "config": cfg.to_dict()}, keep=cfg.keep_checkpoints)
    if dist.world > 1:
        torch.distributed.barrier()
