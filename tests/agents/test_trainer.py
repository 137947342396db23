"""The trainer: one step per algorithm, short runs, a real learning check, bad configs."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
import torch

from agents.checkpoint import latest_checkpoint, load_checkpoint
from agents.config import EVAL_SEED_BASE, SFT_SEEDS, TRAIN_SEEDS, TrainConfig
from agents.trainer import train
from distil_envs.core import Feedback, Task
from distil_envs.env import FeedbackEnv
from distil_envs.errors import UnknownEnvError

ALGOS = ["distil", "ce_local", "sdpo", "opsd", "grpo"]
WORDS = ["red", "blue"]
ECHO_ID = "distil/test-echo-v0"


class EchoEnv(FeedbackEnv):
    """Description: a test-only env: answer with the colour named in the prompt.

    Observation: "Say the colour: red". Action: the completion. Reward: 1 when the completion
    (stripped) is the colour. Episode end: after one attempt. Arguments: as `FeedbackEnv`.
    Version history: v0.
    """

    domain = "test"

    def sample_task(self, rng):
        word = WORDS[int(rng.integers(len(WORDS)))]
        return Task(task_id=f"echo/{word}", prompt=f"Say the colour: {word}", answer=word, solution=word)

    def check(self, task, completion):
        if completion.strip() == task.answer:
            return Feedback.right()
        return Feedback.wrong("Say only the colour from the prompt, nothing else.")

    def reference_completion(self, task):
        return task.answer


@pytest.fixture
def echo_env():
    gym.register(id=ECHO_ID, entry_point=f"{EchoEnv.__module__}:EchoEnv")
    yield ECHO_ID
    del gym.registry[ECHO_ID]


@pytest.fixture
def half_correct(monkeypatch):
    """Every other completion judged correct, so every algorithm has a learning signal
    (grpo needs reward variance within a group; siblings need a success)."""
    calls = {"n": 0}
    original = FeedbackEnv.evaluate

    def evaluate(self, completion, task=None):
        calls["n"] += 1
        if calls["n"] % 2:
            return Feedback.right()
        return original(self, completion, task)

    monkeypatch.setattr(FeedbackEnv, "evaluate", evaluate)


def small(algo: str, out_dir, **kw) -> TrainConfig:
    base = dict(algo=algo, steps=2, prompts_per_step=2, samples_per_prompt=2, max_new_tokens=8, eval_every=2,
                eval_tasks=2, eval_samples=2, checkpoint_every=1, out_dir=str(out_dir), progress=False,
                feedback="correction" if algo == "opsd" else "diagnostic", lr=1e-3)
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.parametrize("algo", ALGOS)
def test_short_run_changes_every_parameter_and_not_the_frozen_teacher(algo, tiny_path, tmp_path, half_correct):
    from transformers import AutoModelForCausalLM

    weights = {} if algo == "grpo" else {"teacher_weights": "frozen"}
    run = train(small(algo, tmp_path / algo, model=str(tiny_path), **weights))
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert "eval/accuracy" in rows[0] and "eval/accuracy" in rows[-1]
    for row in rows[1:]:
        assert row["rollout/reward"] > 0 and row["loss/total"] == row["loss/total"]  # not nan
        assert all(k in row for k in ("time/generate_s", "time/env_s", "time/teacher_s", "time/train_s",
                                      "time/step_s", "throughput/tokens_per_s"))
        if algo != "grpo":
            assert row["teacher/signal_fraction"] > 0 and "teacher/mass" in row

    before = AutoModelForCausalLM.from_pretrained(tiny_path).state_dict()
    after = AutoModelForCausalLM.from_pretrained(run / "final").state_dict()  # final/ loads with from_pretrained
    unchanged = [name for name, p in before.items() if torch.equal(p, after[name])]
    assert not unchanged, f"{algo}: parameters not updated: {unchanged}"
    if algo == "distil":
        from agents.plot import plot_run

        assert plot_run(run).stat().st_size > 10_000  # `distil plot RUN_DIR`
    if algo != "grpo":
        teacher = load_checkpoint(latest_checkpoint(run))["expert"]
        assert teacher is not None and all(torch.equal(before[k], v) for k, v in teacher.items())


def test_oracle_distil_learns_a_trivial_env(tiny_path, tmp_path, echo_env):
    """A real learning check: the random tiny model cannot answer; DAgger with the oracle
    teaches it within about a thousand rollouts."""
    STEPS = 150
    cfg = TrainConfig(algo="distil", envs=[echo_env], teacher="oracle", model=str(tiny_path), steps=STEPS,
                      prompts_per_step=8, samples_per_prompt=2, max_new_tokens=6, lr=5e-3, eval_every=0,
                      eval_tasks=8, eval_samples=1, eval_temperature=0.0, checkpoint_every=0,
                      out_dir=str(tmp_path / "echo"), progress=False)
    run = train(cfg)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == STEPS and rows[0]["step"] == 0
    assert rows[0]["eval/accuracy"] == 0.0
    assert rows[-1]["eval/accuracy"] >= 0.75, [(r["step"], r["rollout/reward"]) for r in rows[1:]]


def test_seed_ranges_are_disjoint():
    assert TRAIN_SEEDS.stop <= SFT_SEEDS.start and SFT_SEEDS.stop <= EVAL_SEED_BASE


def test_unknown_env_suggests_the_closest(tmp_path):
    with pytest.raises(UnknownEnvError, match="did you mean 'distil/math-arithmetic-v0'"):
        TrainConfig(envs=["distil/math-arithmetc-v0"], out_dir=str(tmp_path)).validate()


def test_algorithms_that_need_feedback_refuse_binary():
    with pytest.raises(ValueError, match=r"TrainConfig.feedback='binary'.*--feedback diagnostic"):
        TrainConfig(algo="distil", feedback="binary", demonstrations=False).validate()
    with pytest.raises(ValueError, match="feedback"):
        TrainConfig(algo="opsd", feedback="binary").validate()
    TrainConfig(algo="grpo", feedback="binary").validate()  # grpo learns from the reward alone


@pytest.mark.parametrize("field,value,fix", [("algo", "ppo", "use one of"), ("samples_per_prompt", 0, ">= 1"),
                                             ("lr", 0.0, "positive"), ("teacher", "gpt", "model:PATH"),
                                             ("teacher_weights", "old", "use one of")])
def test_bad_fields_name_the_field_and_the_fix(field, value, fix):
    with pytest.raises(ValueError, match=rf"TrainConfig.{field}=.*{fix}"):
        TrainConfig(**{field: value}).validate()


def test_teacher_with_another_tokenizer_is_refused(tiny_path, tmp_path):
    from agents.tiny import build_tiny_model

    other = build_tiny_model(tmp_path / "other", texts=["a completely different corpus " * 50, "x y z 1 2 3"] * 20)
    cfg = small("distil", tmp_path / "run", model=str(tiny_path), teacher=f"model:{other}")
    with pytest.raises(ValueError, match="tokenizer"):
        train(cfg)


def test_config_from_toml_and_cli_options(tmp_path):
    from agents.cli import train_config_from_options

    path = tmp_path / "run.toml"
    path.write_text('algo = "grpo"\nenvs = ["distil/math-arithmetic-v0"]\nsteps = 7\nlr = 0.001\n')
    cfg = train_config_from_options({"config": path, "steps": 3, "lr": None, "envs": []})
    assert (cfg.algo, cfg.steps, cfg.lr, cfg.teacher_weights) == ("grpo", 3, 0.001, "current")
    with pytest.raises(ValueError, match="did you mean 'steps'"):
        TrainConfig.from_dict({"stepz": 3})
    assert [TrainConfig(algo=a).resolved().teacher_weights for a in ("distil", "ce_local", "sdpo", "opsd")] == \
        ["ema", "ema", "ema", "frozen"]
