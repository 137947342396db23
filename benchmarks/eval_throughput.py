"""Samples per second of `distil eval` on the quick suite with the tiny model:
one process against Ray with 2 workers, in one run.

    .venv/bin/python benchmarks/eval_throughput.py [--n 4] [--max-new-tokens 64]

Both runs evaluate the same tasks with the same seeds (so they produce the same
samples); each starts from an empty run directory. Reported per mode: end-to-end wall
time (model loading and, for Ray, worker start-up included, as a user sees it), the
time to the first finished task, and samples/s both end to end and after the first
task (steady state). The single process runs twice: with torch's default thread count
and with one thread, as each 1-CPU Ray actor gets. Results go to benchmarks/results/eval_throughput.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from leaderboard.evaluate import EvalConfig, evaluate
from leaderboard.store import atomic_write_json


def timed_run(config: EvalConfig, out: Path, **kwargs) -> dict:
    marks: list[tuple[float, int]] = []
    start = time.perf_counter()
    summary = evaluate("tiny", config, out, progress=False,
                       on_batch=lambda records: marks.append((time.perf_counter(), len(records))), **kwargs)
    wall = time.perf_counter() - start
    samples = sum(n for _, n in marks)
    first = marks[0][0] - start
    steady = (samples - marks[0][1]) / (marks[-1][0] - marks[0][0]) if len(marks) > 1 else None
    return {"samples": samples, "tasks": len(marks), "wall_s": round(wall, 2), "first_task_s": round(first, 2),
            "samples_per_s": round(samples / wall, 3), "steady_samples_per_s": round(steady, 3) if steady else None,
            "avg": summary["metrics"]["overall"][f"avg@{max(config.ks)}"]["mean"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=4, help="samples per task")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/eval_throughput.json")
    args = parser.parse_args()

    from agents.tiny import ensure_tiny_model
    ensure_tiny_model("tiny")  # build the cached model outside the timings
    config = EvalConfig(suite="quick", n=args.n, ks=(1, args.n), max_new_tokens=args.max_new_tokens, bootstrap=100)
    results = {"suite": "quick", "model": "tiny", "n": args.n, "max_new_tokens": args.max_new_tokens,
               "cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version()}
    with tempfile.TemporaryDirectory() as tmp:
        import torch
        threads = torch.get_num_threads()
        results["single"] = timed_run(config, Path(tmp) / "single")
        results["single"]["torch_threads"] = threads
        print(f"single process ({threads} torch threads): {results['single']}")
        # Ray gives each 1-CPU actor one intra-op thread; the same setting in one process
        # separates "more processes" from "fewer threads fighting over shared cores".
        torch.set_num_threads(1)
        results["single_1_thread"] = timed_run(config, Path(tmp) / "single-1-thread")
        results["single_1_thread"]["torch_threads"] = 1
        torch.set_num_threads(threads)
        print(f"single process (1 torch thread): {results['single_1_thread']}")
        import ray
        t0 = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        results["ray_init_s"] = round(time.perf_counter() - t0, 2)
        try:
            results["ray"] = timed_run(config, Path(tmp) / "ray", ray=True, ray_workers=args.workers)
            results["ray"]["workers"] = args.workers
        finally:
            ray.shutdown()
        print(f"ray ({args.workers} workers): {results['ray']}  (ray.init {results['ray_init_s']} s)")
        same = results["single"]["avg"] == results["single_1_thread"]["avg"] == results["ray"]["avg"]
        results["same_metrics"] = same
    for base in ("single", "single_1_thread"):
        results[f"ray_speedup_vs_{base}"] = {
            "end_to_end": round(results["ray"]["samples_per_s"] / results[base]["samples_per_s"], 3),
            "steady": round(results["ray"]["steady_samples_per_s"] / results[base]["steady_samples_per_s"], 3)
            if results["ray"]["steady_samples_per_s"] and results[base]["steady_samples_per_s"] else None}
        print(f"ray speed-up vs {base}: {results[f'ray_speedup_vs_{base}']}")
    print(f"same metrics in all three runs: {same}")
    atomic_write_json(Path(args.out), results)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
