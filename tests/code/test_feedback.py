"""Feedback shapes of the coding envs on hand-made wrong solutions, judged in the real sandbox."""

import os
import re

import pytest

from distil_envs.code.base import code_fence, function_test
from distil_envs.code.humaneval import HumanEvalEnv
from distil_envs.code.synth import CodeSynthEnv
from distil_envs.core import Task
from sandbox.types import Limits
from sandbox.types import TestCase as Case  # not collected as a test class

TESTS = (function_test("add", [1, 2], 3), function_test("add", [5, 5], 10),
         function_test("add", [40, 2], 42, hidden=True), function_test("add", [-7, 7], 0, hidden=True))
REFERENCE = "def add(a, b):\n    return a + b"
TASK = Task(task_id="t/add", prompt="Write add(a, b).", answer=REFERENCE, solution=code_fence(REFERENCE),
            data={"tests": TESTS, "fn_name": "add"})


def step(completion, **kwargs):
    env = CodeSynthEnv(**kwargs)
    env.reset(options={"task": TASK})
    message, reward, terminated, _, info = env.step(completion)
    return message, reward, info["feedback"]


def test_correct():
    message, reward, feedback = step(code_fence(REFERENCE))
    assert reward == 1 and feedback["kind"] == "correct" and feedback["accuracy"] == 1.0
    assert "4 tests passed" in message


def test_syntax_error_names_the_line():
    message, reward, feedback = step("```python\ndef add(a, b):\n    x = 1\n    return a +\n```")
    assert reward == 0 and feedback["kind"] == "compile_error"
    assert 'line 3' in message and "SyntaxError" in message


def test_runtime_error_shows_the_users_frame_only():
    message, reward, feedback = step("```python\ndef helper(b):\n    return 1 / (b - b)\n\ndef add(a, b):\n"
                                     "    return a + helper(b)\n```")
    assert reward == 0 and feedback["kind"] == "runtime_error"
    assert "ZeroDivisionError" in message and 'File "solution.py", line 2, in helper' in message
    assert "_driver" not in message and "sandbox" not in message
    assert "hidden test 1 failed: runtime error (ZeroDivisionError)" in message
    assert feedback["trace"] and "line 5, in add" in feedback["trace"]


def test_time_limit():
    message, reward, feedback = step("```python\ndef add(a, b):\n    while True:\n        pass\n```",
                                     limits=Limits(wall_s=0.5, cpu_s=0.5))
    assert reward == 0 and feedback["kind"] == "timeout"
    assert "Test 1 failed: time limit exceeded" in message and "add(1, 2)" in message


def test_wrong_answer_on_public_test_shows_input_expected_got():
    message, reward, feedback = step("```python\ndef add(a, b):\n    return a * b\n```")
    assert reward == 0 and feedback["kind"] == "failed_test" and feedback["accuracy"] == 0.0
    assert re.search(r"Test 1 failed: wrong answer\n  input: +add\(1, 2\)\n  expected: 3\n  got: +2", message)
    public = [t for t in feedback["failing_tests"] if not t["hidden"]]
    assert public[0] == {"input": "add(1, 2)", "expected": "3", "got": "2", "error": "wrong answer", "hidden": False}


def test_hidden_tests_are_named_never_shown():
    # Right on the public tests, wrong on the hidden ones.
    solution = "```python\ndef add(a, b):\n    return {(1, 2): 3, (5, 5): 10}.get((a, b), -1)\n```"
    message, reward, feedback = step(solution)
    assert reward == 0 and feedback["kind"] == "failed_test" and feedback["accuracy"] == 0.5
    assert "hidden test 1 failed: wrong answer" in message and "hidden test 2 failed: wrong answer" in message
    for secret in ("40", "42", "-7"):
        assert secret not in message
    assert all(t == {"input": "", "expected": "", "got": "", "error": "wrong answer", "hidden": True}
               for t in feedback["failing_tests"])


def test_partial_reward_is_the_fraction_passed():
    solution = "```python\ndef add(a, b):\n    return 3 if a == 1 else a + b + 1\n```"
    _, binary, _ = step(solution)
    _, partial, feedback = step(solution, reward="partial")
    assert binary == 0 and partial == pytest.approx(0.25) and feedback["accuracy"] == pytest.approx(0.25)


def test_format_error_when_no_code():
    message, reward, feedback = step("I would add the two numbers.")
    assert reward == 0 and feedback["kind"] == "format_error" and "```python" in message


def test_levels_binary_and_correction():
    wrong = "```python\ndef add(a, b):\n    return a - b\n```"
    message, _, feedback = step(wrong, feedback="binary")
    assert message == "Incorrect." and feedback["failing_tests"] == [] and feedback["accuracy"] == 0.0
    message, _, feedback = step(wrong, feedback="diagnostic")
    assert REFERENCE not in message and feedback["correction"] is None
    message, _, feedback = step(wrong, feedback="correction")
    assert REFERENCE in message and REFERENCE in feedback["correction"]


@pytest.mark.parametrize("attack,reward", [
    # Correct code that also shells out: the side effect stays in the sandbox, the answer counts.
    ("import os\nos.system('echo pwned > /tmp/distil_code_pwned')\ndef add(a, b):\n    return a + b", 1.0),
    ("def add(a, b):\n    import subprocess\n    return int(subprocess.check_output(['echo', '3']))", 0.0),
    ("def add(a, b):\n    raise SystemExit(0)", 0.0),
    ("import os\ndef add(a, b):\n    os._exit(0)", 0.0),
])
def test_escapes_neither_score_nor_touch_the_host(attack, reward):
    assert step(code_fence(attack))[1] == reward
    assert not os.path.exists("/tmp/distil_code_pwned")


def test_same_completion_same_feedback():
    completion = "```python\ndef add(a, b):\n    return [][a]\n```"
    assert step(completion) == step(completion)


def test_humaneval_line_numbers_are_the_users():
    env = HumanEvalEnv()
    env.reset(options={"index": 0})
    message, *_ = env.step("```python\ndef has_close_elements(numbers, threshold):\n    x = (\n```")
    assert "line 2" in message
    env.reset(options={"index": 0})
    message, *_ = env.step("```python\ndef has_close_elements(numbers, threshold):\n    return numbers[99]\n```")
    assert 'File "solution.py", line 2, in has_close_elements' in message


def test_humaneval_body_continuation():
    env = HumanEvalEnv()
    task = env.task_at(0)
    env.reset(options={"index": 0})
    body = "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n"
    assert env.step(body)[1] == 1
    env.reset(options={"index": 0})
    assert env.step(code_fence(body.strip()))[1] == 1  # unindented body: indented for the user
    assert task.data["stub"] in env.build_program(task, body)[0]


def test_evaluate_batch_matches_evaluate():
    from sandbox import SandboxPool

    env = CodeSynthEnv(difficulty=2)
    tasks = [env.task_at(i) for i in range(6)]
    completions = [env.reference_completion(t) if i % 2 else env.wrong_completion(t) for i, t in enumerate(tasks)]
    completions[0] = "no code here"
    with SandboxPool(workers=2) as pool:
        batch = env.evaluate_batch(tasks, completions, pool)
    assert batch == [env.evaluate(c, task=t) for t, c in zip(tasks, completions)]
    assert [f.score for f in batch] == [0, 1, 0, 1, 0, 1] and batch[0].kind.value == "format_error"


def test_assert_tests_failing_assertion_is_a_wrong_answer(tmp_path):
    tests = (Case(kind="assert", script="assert add(1, 2) == 3\n", fn_name="add"),
             Case(kind="assert", script="assert add(2, 2) == 4\n", fn_name="add", hidden=True))
    task = Task(task_id="t/a", prompt="p", answer=REFERENCE, solution=code_fence(REFERENCE),
                data={"tests": tests, "fn_name": "add"})
    env = CodeSynthEnv()
    env.reset(options={"task": task})
    message, reward, _, _, info = env.step("```python\ndef add(a, b):\n    return 0\n```")
    assert reward == 0 and info["feedback"]["kind"] == "failed_test"
    assert "assert add(1, 2) == 3" in message and "add(2, 2)" not in message
