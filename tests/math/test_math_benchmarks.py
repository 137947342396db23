"""Math benchmark loaders on local files (never the Hub), and the reasoning-gym adapter."""

import json
import sys

import pytest

import distil_envs
from distil_envs.errors import DatasetUnavailableError, MissingDependencyError
from distil_envs.math.benchmarks import AIME2024Env, AMC2023Env, GSM8KEnv, Math500Env
from env_fixtures import local_data

GSM8K_ROWS = [
    {"question": "Sam has 3 boxes of 12 eggs and breaks 5. How many eggs are whole?",
     "answer": "He has 3 * 12 = <<3*12=36>>36 eggs.\n36 - 5 = <<36-5=31>>31 are whole.\n#### 31"},
    {"question": "A farm has 1,200 sheep and sells a quarter of them. How many are left?",
     "answer": "It sells 1200 / 4 = <<1200/4=300>>300.\n1200 - 300 = <<1200-300=900>>900.\n#### 900"},
]


def _write(path, rows, kind):
    if kind == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif kind == "json":
        path.write_text(json.dumps(rows))
    elif kind == "json-data":
        path.write_text(json.dumps({"data": rows}))
    else:
        pq = pytest.importorskip("pyarrow.parquet")
        import pyarrow as pa
        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.mark.parametrize("kind,suffix", [("jsonl", ".jsonl"), ("json", ".json"), ("json-data", ".json"),
                                         ("parquet", ".parquet")])
def test_gsm8k_loads_local_files_in_every_format(tmp_path, kind, suffix):
    path = _write(tmp_path / f"gsm8k{suffix}", GSM8K_ROWS, kind)
    env = GSM8KEnv(path=str(path))
    assert env.num_tasks() == 2
    task = env.task_at(0)
    assert task.answer == "31" and "<<" not in task.solution and "####" not in task.solution
    assert task.prompt.startswith("Sam has") and "\\boxed" in task.prompt
    env.reset(options={"index": 0})
    _, reward, _, _, info = env.step("3 * 12 - 5 = 31, so \\boxed{31}")
    assert reward == 1 and info["metadata"]["source"] == str(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="is not a file"):
        GSM8KEnv(path=str(tmp_path / "nope.jsonl"))


def test_rows_without_the_expected_columns_say_which(tmp_path):
    path = _write(tmp_path / "bad.jsonl", [{"prompt": "x", "target": "1"}], "jsonl")
    with pytest.raises(DatasetUnavailableError, match="has none of the columns"):
        Math500Env(path=str(path)).task_at(0)
    path = _write(tmp_path / "bad_gsm.jsonl", [{"question": "x", "answer": "no marker"}], "jsonl")
    with pytest.raises(DatasetUnavailableError, match="####"):
        GSM8KEnv(path=str(path)).task_at(0)


def test_gsm8k_thousands_separator_in_the_reference():
    env = GSM8KEnv(path=str(local_data("distil/math-gsm8k-v0")))
    task = next(t for t in env.tasks if "pencils" in t.prompt)
    assert task.answer == "1620"
    assert env.check(task, "\\boxed{1,620}").correct and env.check(task, "The school orders 1620 pencils.").correct


def test_math500_symbolic_answers_are_checked_by_math_verify():
    env = Math500Env(path=str(local_data("distil/math-math500-v0")))
    by_id = {t.metadata["unique_id"]: t for t in env.tasks}
    polar = by_id["test/precalculus/9004.json"]
    assert env.check(polar, "\\boxed{(3, \\pi/2)}").correct
    assert not env.check(polar, "\\boxed{(3, \\pi)}").correct
    assert env.check(by_id["test/number_theory/9003.json"], "\\boxed{\\dfrac{4}{11}}").correct
    assert env.check(by_id["test/algebra/9001.json"], "\\boxed{\\sqrt{18}}").correct
    assert by_id["test/algebra/9001.json"].metadata["level"] == 2


def test_aime_answers_are_integers_in_range():
    env = AIME2024Env(path=str(local_data("distil/math-aime2024-v0")))
    task = env.task_at(1)  # answer "001"
    assert env.check(task, "\\boxed{1}").correct
    message = env.check(task, "\\boxed{1024}").message
    assert "from 0 to 999" in message
    assert "should be an integer" in env.check(task, "\\boxed{\\frac{1}{2}}").message


def test_amc_float_answers_become_integers():
    env = AMC2023Env(path=str(local_data("distil/math-amc2023-v0")))
    assert [t.answer for t in env.tasks] == ["6", "113", "219"]
    assert env.check(env.task_at(0), "\\boxed{6}").correct


def test_dataset_envs_construct_offline_without_path():
    env = distil_envs.make("distil/math-aime2025-v0").unwrapped  # nothing is loaded until a task is needed
    assert env.hub_id == "math-ai/aime25" and env._tasks is None


# ---------------------------------------------------------------- reasoning-gym
def test_reasoning_gym_per_item_seeds_are_not_shifted():
    pytest.importorskip("reasoning_gym")
    from distil_envs.math.reasoning_gym_adapter import ReasoningGymEnv
    a, b = ReasoningGymEnv(catalogue_seed=0), ReasoningGymEnv(catalogue_seed=1)
    assert a.task_at(1).prompt != b.task_at(0).prompt
    assert a.task_at(5).prompt == ReasoningGymEnv(catalogue_seed=0).task_at(5).prompt
    assert a.task_at(3).metadata["item_seed"] != a.task_at(3).metadata["index"]


def test_reasoning_gym_feedback_levels():
    pytest.importorskip("reasoning_gym")
    from distil_envs.math.reasoning_gym_adapter import ReasoningGymEnv
    env = ReasoningGymEnv(task="fraction_simplification", feedback="diagnostic")
    env.reset(seed=2)
    message, reward, _, _, info = env.step("\\boxed{1/2}")
    assert reward == 0 and "scorer" in message and info["feedback"]["correction"] is None
    env = ReasoningGymEnv(task="fraction_simplification", feedback="correction")
    env.reset(seed=2)
    _, _, _, _, info = env.step("\\boxed{1/2}")
    assert info["feedback"]["correction"] == env.task.answer
    with pytest.raises(ValueError, match="did you mean 'basic_arithmetic'"):
        ReasoningGymEnv(task="basic_arithmetc")
    with pytest.raises(ValueError, match="task_config"):
        ReasoningGymEnv(task_config={"no_such_knob": 1})


def test_reasoning_gym_missing_names_the_extra(monkeypatch):
    from distil_envs.math.reasoning_gym_adapter import ReasoningGymEnv
    monkeypatch.setitem(sys.modules, "reasoning_gym", None)
    with pytest.raises(MissingDependencyError, match=r"distil-envs\[reasoning-gym\]"):
        ReasoningGymEnv()
