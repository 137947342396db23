"""Learning efficiency: held-out accuracy vs rollouts for distil, ce_local, sdpo, opsd, grpo.

From one warm-started tiny model (`agents.sft.warm_start`, cached), every algorithm trains
on the same envs (math, science, code) with the same rollout budget and 3 seeds:

- pass "self":   the self-teacher with diagnostic feedback and sibling demonstrations (the
                 paper's setting). OPSD's teacher reads the reference solution by definition,
                 so its runs use feedback="correction".
- pass "oracle": the oracle expert (built from the reference solution) for the teacher-based
                 algorithms; grpo has no teacher, its runs are shared by every pass.
- pass "correction": the self-teacher with correction-level feedback (the reference solution
                 in context) and sibling demonstrations. The 0.3M-parameter tiny model cannot
                 read diagnostic feedback (with it in context it solves fewer failed tasks
                 than without), but the warm start taught it to copy: with the correction it
                 solves every held-out math-linear / unit-conversion task (`agents.sft.teacher_signal`).
                 This pass compares the losses when the self-teacher really knows more.

Held-out accuracy (avg@k on eval seeds, `agents.config.EVAL_SEED_BASE`) is measured every
few steps. Output: benchmarks/results/learning_efficiency.json, a PNG (mean and min-max
over seeds, one line per algorithm, one panel per pass), and a printed table: final
accuracy per algorithm and the rollouts each needs to reach GRPO's final accuracy (the
first evaluation from which the seed-mean curve stays at or above it; "never" otherwise).

    python benchmarks/learning_efficiency.py --quick   # < 10 min on 2 cores
    python benchmarks/learning_efficiency.py           # < 60 min on 2 cores
    python benchmarks/learning_efficiency.py --algos "" --ablations distil_frozen,distil_current
                                                       # teacher-update ablations only
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from distil_envs.files import atomic_write_json  # noqa: E402

ALGOS = ("distil", "ce_local", "sdpo", "opsd", "grpo")
# Ablations of DistIL run beside the five (name -> TrainConfig overrides); the paper leaves these open.
VARIANTS = {"distil_kl": dict(algo="distil", cost="kl"),
            "distil_len": dict(algo="distil", normalize_cost_to_go="length"),
            "distil_current": dict(algo="distil", teacher_weights="current"),
            "distil_frozen": dict(algo="distil", teacher_weights="frozen")}
RESULTS = Path(__file__).resolve().parent / "results"

SETTINGS = {
    "quick": dict(steps=30, prompts_per_step=6, samples_per_prompt=4, max_new_tokens=48, eval_every=5, eval_tasks=8,
                  eval_samples=4, seeds=3),
    "full": dict(steps=100, prompts_per_step=6, samples_per_prompt=4, max_new_tokens=64, eval_every=10,
                 eval_tasks=24, eval_samples=4, seeds=3),
}


def run_one(job: dict) -> dict:
    """Train one (pass, algo, seed) and return its held-out curve."""
    import torch

    from agents.config import TrainConfig
    from agents.trainer import train

    torch.set_num_threads(1)
    out = Path(job["out_dir"])
    if out.exists():
        shutil.rmtree(out)
    overrides = VARIANTS.get(job["algo"], {"algo": job["algo"]})
    cfg = TrainConfig(envs=job["envs"], model=job["model"], teacher=job["teacher"],
                      feedback="correction" if job["algo"] == "opsd" or job["pass"] == "correction" else "diagnostic",
                      seed=job["seed"],
                      out_dir=str(out), progress=False, checkpoint_every=0, lr=job["lr"], **overrides,
                      **job["settings"])
    t0 = time.perf_counter()
    train(cfg)
    return read_run(job["pass"], job["algo"], job["seed"], out, time.perf_counter() - t0)


def read_run(pass_name: str, algo: str, seed: int, out: Path, seconds: float | None = None) -> dict:
    """One run's held-out curve, final per-env accuracy and training reward from its metrics.jsonl."""
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    curve = [(r["rollouts"], r["eval/accuracy"]) for r in rows if "eval/accuracy" in r]
    per_env = {k: v for k, v in rows[-1].items() if k.startswith("eval/distil/")}
    reward = [r["rollout/reward"] for r in rows if "rollout/reward" in r]
    return {"pass": pass_name, "algo": algo, "seed": seed, "curve": curve, "final_per_env": per_env,
            "train_reward": reward, "seconds": seconds}


def summarize(results: list[dict]) -> dict:
    """Mean / min / max curves per (pass, algo); final accuracy; rollouts to reach GRPO's final accuracy."""
    summary: dict = {}
    for pass_name in sorted({r["pass"] for r in results} - {"shared"}):
        rows = [r for r in results if r["pass"] in (pass_name, "shared")]  # grpo's runs serve every pass
        block = {}
        for algo in (*ALGOS, *VARIANTS):
            runs = [r for r in rows if r["algo"] == algo]
            if not runs:
                continue
            xs = [x for x, _ in runs[0]["curve"]]
            ys = np.array([[y for _, y in r["curve"]] for r in runs])  # (seeds, points)
            block[algo] = {"rollouts": xs, "mean": ys.mean(0).tolist(), "min": ys.min(0).tolist(),
                           "max": ys.max(0).tolist(), "final_mean": float(ys[:, -1].mean()),
                           "final_std": float(ys[:, -1].std()), "start_mean": float(ys[:, 0].mean()),
                           "seeds": len(runs), "seconds": _mean_or_none([r["seconds"] for r in runs])}
        if "grpo" in block:
            target = block["grpo"]["final_mean"]
            for algo, b in block.items():
                b["rollouts_to_grpo_final"] = rollouts_to_reach(b["rollouts"], b["mean"], target)
        summary[pass_name] = block
    return summary


def rollouts_to_reach(rollouts: list[int], curve: list[float], target: float) -> int | None:
    """The first x > 0 from which `curve` stays >= target to the end (a one-off bump does not count)."""
    reach = None
    for x, y in zip(rollouts, curve):
        if y < target - 1e-12:
            reach = None
        elif reach is None and x > 0:
            reach = x
    return reach


def _mean_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(summary), figsize=(6.5 * len(summary), 4.5), squeeze=False)
    for ax, (pass_name, block) in zip(axes[0], summary.items()):
        for algo, b in block.items():
            line, = ax.plot(b["rollouts"], b["mean"], marker="o", label=algo)
            ax.fill_between(b["rollouts"], b["min"], b["max"], color=line.get_color(), alpha=0.15)
        ax.set_title(f"teacher: {pass_name}")
        ax.set_xlabel("training rollouts")
        ax.set_ylabel("held-out accuracy (avg@k), mean and min-max over seeds")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the < 10 minute version")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per algorithm (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="runs in parallel (one torch thread each)")
    parser.add_argument("--lr", type=float, default=2e-4, help="learning rate of every run")
    parser.add_argument("--ablations", nargs="?", const=",".join(VARIANTS), default="",
                        help=f"also run these DistIL variants, comma-separated (all when no value): "
                             f"{', '.join(VARIANTS)}")
    parser.add_argument("--algos", default=",".join(ALGOS), help="comma-separated subset of the five algorithms")
    parser.add_argument("--from-runs", action="store_true",
                        help="do not train: summarise the run directories a previous invocation left")
    parser.add_argument("--passes", default="self,oracle,correction", help="comma-separated: self, oracle, correction")
    parser.add_argument("--output", type=Path, default=RESULTS / "learning_efficiency.json",
                        help="summary JSON (the PNG is written beside it)")
    args = parser.parse_args()

    names = [n for n in (args.algos + "," + args.ablations).split(",") if n]
    unknown = sorted(set(names) - set(ALGOS) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown algorithm or variant {unknown}; use {', '.join((*ALGOS, *VARIANTS))}")

    from agents.sft import WARM_START_ENVS, SFTConfig, warm_start

    mode = "quick" if args.quick else "full"
    settings = dict(SETTINGS[mode])
    seeds = args.seeds or settings.pop("seeds")
    settings.pop("seeds", None)
    t0 = time.perf_counter()
    model = str(warm_start(SFTConfig(), log=lambda line: print(line, flush=True)))
    print(f"warm-started model: {model} ({time.perf_counter() - t0:.0f}s)", flush=True)
    runs_dir = args.output.parent / f"{args.output.stem}_runs"  # default: results/learning_efficiency_runs
    jobs = []
    for pass_name in args.passes.split(","):
        for algo in names:
            if algo == "grpo" and pass_name != "self":
                continue  # no teacher: one set of grpo runs serves both passes
            for seed in range(seeds):
                tag = "shared" if algo == "grpo" else pass_name
                jobs.append({"pass": tag, "algo": algo, "seed": seed, "envs": list(WARM_START_ENVS),
                             "model": model, "teacher": "oracle" if pass_name == "oracle" else "self",
                             "lr": args.lr, "settings": settings,
                             "out_dir": str(runs_dir / tag / algo / f"seed{seed}")})
    print(f"{len(jobs)} runs, {args.workers} at a time, mode={mode}, settings={settings}", flush=True)
    results = []
    if args.from_runs:  # re-summarise finished runs; runs whose curve is incomplete are left out and named
        points = settings["steps"] // settings["eval_every"] + 1
        for job in jobs:
            out = Path(job["out_dir"])
            result = read_run(job["pass"], job["algo"], job["seed"], out) if (out / "metrics.jsonl").exists() \
                else None
            if result is None or len(result["curve"]) < points:
                print(f"  left out (incomplete): {job['pass']} {job['algo']} seed {job['seed']}", flush=True)
                continue
            results.append(result)
    else:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            for result in pool.map(run_one, jobs):
                results.append(result)
                print(f"  {result['pass']:>6} {result['algo']:>8} seed {result['seed']}: held-out "
                      f"{result['curve'][0][1]:.3f} -> {result['curve'][-1][1]:.3f} ({result['seconds']:.0f}s)",
                      flush=True)
    summary = summarize(results)
    out = {"mode": mode, "from_runs": args.from_runs, "settings": settings, "seeds": seeds, "lr": args.lr, "model": model,
           "envs": list(WARM_START_ENVS), "rollouts_per_step": settings["prompts_per_step"] *
           settings["samples_per_prompt"], "summary": summary, "runs": results,
           "wall_s": time.perf_counter() - t0}
    path = args.output
    atomic_write_json(path, out)
    plot(summary, path.with_suffix(".png"))
    print(f"\n{'pass':>6} {'algo':>10} {'seeds':>5} {'start':>6} {'final (mean ± std)':>18} "
          f"{'rollouts to GRPO final':>24}")
    for pass_name, block in summary.items():
        for algo, b in block.items():
            reach = b.get("rollouts_to_grpo_final")
            print(f"{pass_name:>6} {algo:>10} {b['seeds']:>5} {b['start_mean']:6.3f} {b['final_mean']:10.3f} ± "
                  f"{b['final_std']:.3f} {'never' if reach is None else reach:>24}")
    print(f"\nwrote {path} and {path.with_suffix('.png')} in {out['wall_s'] / 60:.1f} min")


if __name__ == "__main__":
    main()
