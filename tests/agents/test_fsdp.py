"""`--parallel fsdp`: two sharded gloo processes train as one process does, and resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from agents.cli import train_command
from agents.config import TrainConfig
from agents.trainer import train

OPTIONS = dict(algo="distil", prompts_per_step=4, samples_per_prompt=2, max_new_tokens=8, eval_every=0, eval_tasks=1,
               eval_samples=1, checkpoint_every=1, lr=1e-3, progress=False)


def rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if json.loads(line)["step"]]


def torchrun(tiny_path: Path, out: Path, *extra: str, steps: int) -> None:
    args = [f"--{k.replace('_', '-')}={v}" for k, v in OPTIONS.items() if k != "progress"]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m",
               "agents.train", *args, f"--model={tiny_path}", f"--steps={steps}", f"--out-dir={out}",
               "--no-progress", *extra]
    result = subprocess.run(command, capture_output=True, text=True, timeout=200,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]


def weights(directory: Path) -> dict[str, torch.Tensor]:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(directory).state_dict()


def test_parallel_is_validated_and_on_the_command_line():
    with pytest.raises(ValueError, match=r"TrainConfig.parallel='zero'.*ddp or fsdp"):
        TrainConfig(parallel="zero").validate()
    with pytest.raises(ValueError, match=r"TrainConfig.parallel='fsdp'.*--parallel ddp"):
        TrainConfig(parallel="fsdp", generator="vllm", device="cuda").validate()
    assert TrainConfig(parallel="fsdp").validate().parallel == "fsdp"
    assert "parallel" in [p.name for p in train_command().__signature__.parameters.values()]


@pytest.mark.timeout(400)
def test_fsdp_matches_one_process_and_ddp_and_resumes(tiny_path, tmp_path):
    single = train(TrainConfig(model=str(tiny_path), steps=3, out_dir=str(tmp_path / "one"), **OPTIONS))
    torchrun(tiny_path, tmp_path / "ddp", steps=2)
    fsdp = tmp_path / "fsdp"
    torchrun(tiny_path, fsdp, "--parallel=fsdp", steps=2)

    one = rows(single)
    for a, b in zip(one, rows(fsdp)):
        assert b["rollout/reward"] == a["rollout/reward"] and b["rollout/length"] == a["rollout/length"]
        assert b["loss/total"] == pytest.approx(a["loss/total"], rel=1e-4, abs=1e-6)
        assert b["train/grad_norm"] == pytest.approx(a["train/grad_norm"], rel=1e-4)  # the global norm
    ddp, sharded = weights(tmp_path / "ddp" / "final"), weights(fsdp / "final")  # from_pretrained-loadable
    assert ddp.keys() == sharded.keys()
    for name in ddp:
        torch.testing.assert_close(sharded[name], ddp[name], rtol=1e-5, atol=1e-5, msg=name)

    # the full checkpoint (model + AdamW moments) goes back into the shards: step 3 as without the stop
    torchrun(tiny_path, fsdp, "--parallel=fsdp", "--resume", steps=3)
    resumed = rows(fsdp)
    assert [r["step"] for r in resumed] == [1, 2, 3]
    assert resumed[2]["rollout/reward"] == one[2]["rollout/reward"]
    assert resumed[2]["loss/total"] == pytest.approx(one[2]["loss/total"], rel=1e-4, abs=1e-6)
