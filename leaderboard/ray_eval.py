"""Evaluation shards on Ray (the optional `[ray]` extra): `distil eval --ray`.

Each Ray actor builds its own model replica and its own envs (so code envs get their
own sandbox pool) and runs whole tasks; the driver hands out tasks as actors become
free and appends every finished task to the same `samples.jsonl`, so resume, metrics
and `summary.json` are exactly those of a single-process run. Sampling is seeded per
task, so which actor ran a task does not change its completions.

Without `--ray-address`, a local Ray instance is started (and shut down at the end);
`--ray-address auto` joins a running cluster.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from distil_envs.errors import MissingDependencyError
from leaderboard.evaluate import EvalConfig, TaskRunner
from leaderboard.models import load_model
from leaderboard.suites import EvalTask, get_suite


class EvalWorker:
    """One shard worker: a model replica and its envs (wrapped with `ray.remote` at run time)."""

    def __init__(self, spec: str, config: EvalConfig, model_kwargs: dict[str, Any]):
        self.runner = TaskRunner(load_model(spec, **model_kwargs), get_suite(config.suite), config)

    def run(self, task: EvalTask, samples: list[int]) -> list[dict[str, Any]]:
        return self.runner.run_task(task, samples)


def run_with_ray(spec: str, config: EvalConfig, work: Sequence[tuple[EvalTask, list[int]]],
                 write: Callable[[list[dict[str, Any]]], None], *, address: str | None = None,
                 workers: int | None = None, api_base: str | None = None, api_model: str | None = None,
                 device: str = "cpu", dtype: str = "float32") -> None:
    """Run `work` on Ray actors, calling `write(records)` in the driver for each finished task."""
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("distil eval --ray", "ray") from None
    if workers is not None and workers < 1:
        raise ValueError(f"ray_workers={workers} must be >= 1")
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        count = workers or max(int(ray.cluster_resources().get("CPU", 1)), 1)
        count = min(count, len(work))
        gpus = 1 if device.startswith("cuda") else 0
        remote_worker = ray.remote(num_cpus=1, num_gpus=gpus)(EvalWorker)
        model_kwargs = {"api_base": api_base, "api_model": api_model, "device": device, "dtype": dtype}
        actors = [remote_worker.remote(spec, config, model_kwargs) for _ in range(count)]
        queue = list(work)
        running: dict[Any, Any] = {}  # object ref -> the actor computing it
        try:
            for actor in actors:  # one task per actor at a time; a free actor takes the next task
                running[actor.run.remote(*queue.pop(0))] = actor
            while running:
                (ref,), _ = ray.wait(list(running), num_returns=1)
                actor = running.pop(ref)
                write(ray.get(ref))
                if queue:
                    running[actor.run.remote(*queue.pop(0))] = actor
        finally:
            for actor in actors:
                ray.kill(actor)
    finally:
        if started_here:
            ray.shutdown()
