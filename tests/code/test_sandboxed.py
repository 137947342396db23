"""Every code env's references pass and its wrong completions fail in the real sandbox.

The synth generator is checked in-process on thousands of seeds (test_synth.py); here a
sample goes through the sandbox, and all 164 HumanEval problems do.
"""

import pytest

from distil_envs.code.benchmarks import LiveCodeBenchEnv, MBPPEnv
from distil_envs.code.humaneval import HumanEvalEnv
from distil_envs.code.synth import CodeSynthEnv
from env_fixtures import local_data
from sandbox import SandboxPool


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=2) as pool:
        yield pool


def _check_all(env, tasks, pool):
    references = env.evaluate_batch(tasks, [env.reference_completion(t) for t in tasks], pool)
    wrongs = env.evaluate_batch(tasks, [env.wrong_completion(t) for t in tasks], pool)
    bad = [(t.task_id, f.message) for t, f in zip(tasks, references) if not f.correct]
    assert not bad, bad[:3]
    passed = [t.task_id for t, f in zip(tasks, wrongs) if f.score != 0 or f.correct]
    assert not passed, passed
    assert all(f.message.strip() for f in wrongs)


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_synth_sample_in_the_sandbox(difficulty, pool):
    env = CodeSynthEnv(difficulty=difficulty)
    _check_all(env, [env.task_at(i) for i in range(17)], pool)


def test_all_humaneval_canonical_solutions_pass_and_stubs_fail(pool):
    env = HumanEvalEnv()
    _check_all(env, env.tasks, pool)


@pytest.mark.parametrize("cls,env_id", [(MBPPEnv, "distil/code-mbpp-v0"),
                                        (LiveCodeBenchEnv, "distil/code-livecodebench-v0")])
def test_benchmark_rows_in_the_sandbox(cls, env_id, pool):
    env = cls(path=local_data(env_id))
    _check_all(env, env.tasks, pool)
