"""The base `FeedbackEnv` contract, on a toy family defined here."""

import numpy as np
import pytest

from distil_envs import Feedback, FeedbackKind, ProceduralEnv, Task, Unicode
from distil_envs.errors import CheckerWarning, ResetNeeded, UnknownEnvError
from distil_envs.seeding import task_rng, task_seed
import distil_envs


class AddEnv(ProceduralEnv):
    """Add two numbers (a toy family for testing the base class)."""

    domain = "math"
    max_difficulty = 2

    def generate(self, rng):
        a, b = (int(x) for x in rng.integers(10 ** self.difficulty, size=2))
        return Task(task_id=f"add/{a}+{b}", prompt=f"What is {a} + {b}?", answer=str(a + b),
                    solution=f"{a} + {b} = {a + b}.", metadata={"difficulty": self.difficulty})

    def check(self, task, completion):
        if completion.strip() == "boom":
            raise RuntimeError("checker bug")
        digits = [w for w in completion.replace("\\boxed{", " ").replace("}", " ").split() if w.lstrip("-").isdigit()]
        if not digits:
            return Feedback.format_error("No number found.")
        if digits[-1] == task.answer:
            return Feedback.right()
        return Feedback.wrong(f"{digits[-1]} is not the sum.")


def test_reset_returns_prompt_and_same_seed_same_task():
    env = AddEnv()
    p1, info = env.reset(seed=7)
    p2, _ = AddEnv().reset(seed=7)
    assert p1 == p2 and p1.startswith("What is")
    assert info["attempt"] == 0 and info["messages"] == [{"role": "user", "content": p1}]


def test_levels_hide_and_show_the_correction():
    for level, has_correction in (("binary", False), ("diagnostic", False), ("correction", True)):
        env = AddEnv(feedback=level)
        env.reset(seed=1)
        message, reward, terminated, truncated, info = env.step("\\boxed{-1}")
        assert reward == 0 and terminated and not truncated
        assert (info["feedback"]["correction"] is not None) == has_correction
        assert (env.task.answer in message) == has_correction or level != "correction"
        if level == "binary":
            assert message == "Incorrect."
        if level == "correction":
            assert env.task.solution in message


def test_multi_turn_attempts_and_messages():
    env = AddEnv(max_attempts=3)
    env.reset(seed=3)
    _, _, terminated, _, info = env.step("1")
    assert not terminated and info["attempt"] == 1
    _, reward, terminated, _, info = env.step(env.reference_completion(env.task))
    assert terminated and reward == 1 and info["correct"]
    assert [m["role"] for m in info["messages"]] == ["user", "assistant", "user", "assistant", "user"]
    with pytest.raises(ResetNeeded):
        env.step("x")


@pytest.mark.parametrize("action", ["", "   ", "x" * 1_000_000, b"\xff\xfe\x00garbage", "\ud800 5", None, 42])
def test_bad_actions_are_format_errors_not_exceptions(action):
    env = AddEnv()
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(action)
    assert reward == 0 and info["feedback"]["kind"] in ("format_error", "wrong_answer")
    assert info["feedback"]["message"]


def test_checker_bug_becomes_reward_zero_with_a_warning():
    env = AddEnv()
    env.reset(seed=0)
    with pytest.warns(CheckerWarning):
        _, reward, _, _, info = env.step("boom")
    assert reward == 0 and info["feedback"]["kind"] == "format_error"


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="feedback="):
        AddEnv(feedback="verbose")
    with pytest.raises(ValueError, match="max_attempts"):
        AddEnv(max_attempts=0)
    with pytest.raises(ValueError, match="difficulty"):
        AddEnv(difficulty=9)


def test_difficulty_changes_the_distribution():
    easy = {AddEnv(difficulty=1).reset(seed=s)[0] for s in range(30)}
    hard = [AddEnv(difficulty=2).reset(seed=s)[0] for s in range(30)]
    assert max(len(p) for p in hard) > max(len(p) for p in easy)


def test_feedback_round_trips_through_dict():
    fb = Feedback.wrong("no", kind=FeedbackKind.FAILED_TEST, accuracy=0.5, details={"k": 1})
    assert Feedback.from_dict(fb.to_dict()) == fb


def test_unicode_space_accepts_any_text():
    space = Unicode(max_length=100)
    for text in ("", "What is 2+2?", "你好 π ≤ 😀", "\n\t"):
        assert space.contains(text)
    assert not space.contains("x" * 101) and not space.contains(3)
    space.seed(0)
    assert all(space.contains(space.sample()) for _ in range(20))


def test_task_seeds_are_not_shifted_copies():
    assert task_seed(0, 1) != task_seed(1, 0)
    a = task_rng(0, 1).integers(1 << 30, size=4)
    b = task_rng(1, 0).integers(1 << 30, size=4)
    assert not np.array_equal(a, b)


def test_unknown_env_suggests_the_closest_id():
    with pytest.raises(UnknownEnvError, match="did you mean 'distil/math-arithmetic-v0'"):
        distil_envs.make("distil/math-arith-v0")


def test_import_is_light():
    import subprocess
    import sys
    code = "import sys, distil_envs; heavy = {'torch', 'transformers', 'datasets', 'vllm'} & set(sys.modules); print(sorted(heavy))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_gym_make_with_module_prefix_works_without_import():
    import subprocess
    import sys
    code = ("import gymnasium as gym; env = gym.make('distil_envs:distil/math-arithmetic-v0'); "
            "print(type(env.unwrapped).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ArithmeticEnv"
