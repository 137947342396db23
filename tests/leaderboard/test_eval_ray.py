"""`distil eval --ray` on a local CPU Ray instance: same seed, same summary as one process."""

from __future__ import annotations

import json

import pytest

from leaderboard.evaluate import EvalConfig, evaluate

ray = pytest.importorskip("ray")


def test_ray_shards_give_the_single_process_summary(tmp_path):
    config = EvalConfig(suite="quick", n=3, ks=(1, 3), bootstrap=200, seed=7)
    single = evaluate("random", config, tmp_path / "single", progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        sharded = evaluate("random", config, tmp_path / "ray", progress=False, ray=True, ray_workers=2)
        oracle = evaluate("oracle", config, tmp_path / "ray-oracle", progress=False, ray=True, ray_workers=2)
    finally:
        ray.shutdown()
    assert sharded["metrics"] == single["metrics"]
    assert sharded["num_samples"] == single["num_samples"]
    read = lambda run: sorted((json.loads(line) for line in (tmp_path / run / "samples.jsonl").read_text().splitlines()),  # noqa: E731
                              key=lambda r: (r["env_id"], r["task_key"], r["sample"]))
    strip = lambda rs: [{k: v for k, v in r.items() if k != "seconds"} for r in rs]  # noqa: E731
    assert strip(read("ray")) == strip(read("single"))  # the same completions, task by task
    assert oracle["metrics"]["overall"]["avg@3"]["mean"] == 1.0
