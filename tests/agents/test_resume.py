"""Exact resume after kill -9, and data-parallel training matching one process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents.config import TrainConfig
from agents.trainer import train

STEPS = 8


def config(tiny_path, out_dir, **kw) -> TrainConfig:
    base = dict(algo="distil", model=str(tiny_path), steps=STEPS, prompts_per_step=2, samples_per_prompt=2,
                max_new_tokens=8, eval_every=0, eval_tasks=2, eval_samples=1, checkpoint_every=1, lr=1e-3,
                out_dir=str(out_dir), progress=False)
    return TrainConfig(**(base | kw))


def as_toml(cfg: TrainConfig, path: Path) -> Path:
    """The config as a TOML file (JSON scalars and string lists are valid TOML values)."""
    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in cfg.to_dict().items()))
    return path


def losses(run: Path) -> list[tuple]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r["loss/total"], r["rollout/reward"], r["distil/cost"]) for r in rows if r["step"] > 0]


def test_resume_after_kill_reproduces_the_uninterrupted_run(tiny_path, tmp_path):
    reference = train(config(tiny_path, tmp_path / "a"))

    run = tmp_path / "b"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "agents.train", "--config",
                             str(as_toml(config(tiny_path, run), tmp_path / "b.toml"))], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not (run / "checkpoints" / "step_00000002" / "DONE").exists() and proc.poll() is None:
        assert time.time() < deadline, "the run never wrote its second checkpoint"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # kill -9 somewhere after the second checkpoint
    proc.wait()
    killed_at = max(int(p.name.split("_")[1]) for p in (run / "checkpoints").glob("step_*") if (p / "DONE").exists())
    assert 2 <= killed_at < STEPS, "the run was not interrupted"

    resumed = train(config(tiny_path, run, resume=True))
    assert losses(resumed) == losses(reference)  # exactly, every step


@pytest.mark.timeout(300)
def test_two_gloo_processes_match_one_process(tiny_path, tmp_path):
    single = train(TrainConfig(algo="distil", model=str(tiny_path), steps=2, prompts_per_step=4,
                               samples_per_prompt=2, max_new_tokens=8, eval_every=0, eval_tasks=1, eval_samples=1,
                               checkpoint_every=2, lr=1e-3, out_dir=str(tmp_path / "one"), progress=False))
    out = tmp_path / "two"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m",
               "agents.train", "--algo", "distil", "--model", str(tiny_path), "--steps", "2", "--prompts-per-step",
               "4", "--samples-per-prompt", "2", "--max-new-tokens", "8", "--eval-every", "0", "--eval-tasks", "1",
               "--eval-samples", "1", "--checkpoint-every", "2", "--lr", "1e-3", "--out-dir", str(out),
               "--no-progress"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=280,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    one, two = losses(single), losses(out)
    assert [r[0] for r in two] == [1, 2]
    for a, b in zip(one, two):
        assert a[2] == b[2]  # the same rollouts (per-prompt sampling seeds)
        assert b[1] == pytest.approx(a[1], rel=1e-5, abs=1e-6)  # loss over the global batch
