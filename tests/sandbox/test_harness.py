"""The test harness: three test styles and judge-shaped reports, one sandbox run per solution."""

from __future__ import annotations

import dataclasses

import pytest

from sandbox import Limits, TestCase, run_tests
from sandbox.harness import ERROR_CAP, GOT_CAP, INPUT_CAP, format_message


def fn(args, expected, name="f", hidden=False):
    return TestCase("function", args, expected, fn_name=name, hidden=hidden)


def judge(box, solution, tests, **kw):
    return run_tests(solution, tests, sandbox=box, **kw)


def test_function_tests_with_float_tolerance_and_wrong_answer(box):
    sol = "def f(a, b):\n    return a / b if b != 3 else 0\n"
    rep = judge(box, sol, [fn([1, 3], 0), fn([1, 7], 1 / 7 + 1e-9), fn([1, 3], 0.3333)])
    assert [r.status for r in rep.results] == ["passed", "passed", "wrong_answer"]
    assert rep.passed == 2 and rep.accuracy == pytest.approx(2 / 3) and not rep.all_passed
    assert "Test 3: Wrong Answer\nInput: [1, 3]\nExpected: 0.3333\nGot: 0" in rep.message
    assert rep.message.startswith("2/3 tests passed.")


def test_class_solution_method_and_json_line_inputs(box):
    sol = "class Solution:\n    def twoSum(self, nums, target):\n        return [0, 1]\n"
    rep = judge(box, sol, [fn([[2, 7, 11], 9], [0, 1], "twoSum"), fn("[2, 7, 11]\n9", "[0, 1]", "twoSum")])
    assert rep.all_passed and rep.message == "Accepted: all 2 tests passed."


def test_missing_function_is_a_runtime_error_naming_it(box):
    rep = judge(box, "def g():\n    pass\n", [fn([], None, "solve")])
    assert rep.results[0].status == "runtime_error" and "no function 'solve'" in rep.message


def test_stdio_tests_normalise_whitespace(box):
    sol = "n = int(input())\nprint(*range(n))   \nprint()\n"
    rep = judge(box, sol, [TestCase("stdio", "3\n", "0 1 2\n"), TestCase("stdio", "2", "0  1"),
                           TestCase("stdio", "2", "0 2")])
    assert [r.status for r in rep.results] == ["passed", "passed", "wrong_answer"]
    assert "Expected: 0 2\nGot: 0 1" in rep.message


def test_stdio_solution_may_use_sys_stdin_buffer_and_exit(box):
    sol = "import sys\ndata = sys.stdin.buffer.read().split()\nprint(sum(map(int, data)))\nsys.exit(0)\n"
    assert judge(box, sol, [TestCase("stdio", "1 2 3", "6")]).all_passed


def test_assert_script_in_humaneval_style(box):
    script = "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 9\n"
    good = judge(box, "def sq(x):\n    return x * x\n", [TestCase("assert", script=script, fn_name="sq")])
    bad = judge(box, "def sq(x):\n    return x + x\n", [TestCase("assert", script=script, fn_name="sq")])
    assert good.all_passed
    assert bad.results[0].status == "runtime_error" and "Test 1: Wrong Answer (assertion failed)" in bad.message
    assert 'File "test.py", line 3, in check\n    assert candidate(3) == 9' in bad.message


def test_runtime_error_shows_only_the_users_frames(box):
    sol = "def helper(x):\n    return 1 // x\n\ndef f(x):\n    return helper(x)\n"
    rep = judge(box, sol, [fn([0], 0)])
    msg = rep.message
    assert "Test 1: Runtime Error" in msg and "ZeroDivisionError" in msg and "Input: [0]" in msg
    assert 'File "solution.py", line 5, in f' in msg and 'line 2, in helper' in msg
    assert "_driver" not in msg and "main.py" not in msg and "exec(" not in msg


def test_time_limit_names_the_last_input_and_stops(box):
    sol = "def f(x):\n    while x:\n        pass\n    return x\n"
    rep = judge(box, sol, [fn([0], 0), fn([1], 1), fn([0], 0)], limits=Limits(wall_s=0.5))
    assert [r.status for r in rep.results][:2] == ["passed", "timeout"]
    assert "Test 2: Time Limit Exceeded\nLast input: [1]" in rep.message
    assert rep.results[2].error.startswith("not run")


def test_a_killed_program_still_names_the_test(box):
    sol = "import os\ndef f(x):\n    if x:\n        os._exit(3)\n    return x\n"
    rep = judge(box, sol, [fn([0], 0), fn([1], 1)])
    assert rep.results[0].passed and rep.results[1].status == "runtime_error"
    assert "exited (code 3)" in rep.results[1].error


def test_compile_error_gives_the_line(box):
    rep = judge(box, "def f(x):\n    return (x\n\nprint(1)\n", [fn([1], 1), fn([2], 2)])
    assert rep.compile_error is not None and not rep.all_passed and rep.passed == 0
    assert rep.message.startswith("Compile Error") and 'File "solution.py", line 2' in rep.message
    assert all(r.status == "compile_error" for r in rep.results)


def test_hidden_tests_are_named_not_shown(box):
    rep = judge(box, "def f(x):\n    return -x\n", [fn([1], 1), fn([12345], 12345, hidden=True)])
    assert "Hidden test 2: Wrong Answer" in rep.message and "12345" not in rep.message
    assert rep.results[1].hidden


def test_long_values_are_truncated_to_fixed_caps(box):
    sol = "def f(s):\n    return s * 3\n"
    rep = judge(box, sol, [fn(["y" * 5000], "x")])
    r = rep.results[0]
    assert len(r.input) <= INPUT_CAP + 40 and len(r.got) <= GOT_CAP + 40 and "more chars" in r.got
    err = judge(box, "def f(x):\n    raise ValueError('e' * 10000)\n", [fn([1], 1)]).results[0].error
    assert len(err) <= ERROR_CAP + 10


def test_solution_output_cannot_forge_results(box):
    sol = ('import sys\nprint(\'@@0000000000000000:{"i": 0, "status": "passed", "got": "", "error": ""}\')\n'
           'sys.__stdout__.write(\'@@x:{"i": 0, "status": "passed"}\\n\')\ndef f(x):\n    return 0\n')
    assert not judge(box, sol, [fn([1], 1)]).all_passed


def test_stop_on_first_failure(box):
    rep = judge(box, "def f(x):\n    return 0\n", [fn([1], 1), fn([0], 0)], stop_on_first_failure=True)
    assert rep.results[0].status == "wrong_answer" and rep.results[1].error.startswith("not run")


def test_reports_are_deterministic_apart_from_timings(box):
    tests = [fn([1], 2), TestCase("stdio", "x", "y")]
    sol = "def f(x):\n    return 1 / 0\n"
    a, b = judge(box, sol, tests), judge(box, sol, tests)
    strip = lambda rep: dataclasses.replace(  # noqa: E731
        rep, results=tuple(dataclasses.replace(r, wall_s=0.0) for r in rep.results))
    assert strip(a) == strip(b)


def test_bad_test_lists_are_clear_errors(box):
    with pytest.raises(ValueError, match="non-empty"):
        judge(box, "pass", [])
    with pytest.raises(ValueError, match="without fn_name"):
        judge(box, "pass", [TestCase("function", [1], 1)])
    with pytest.raises(TypeError, match="must be a str"):
        judge(box, b"pass", [fn([1], 1)])


def test_format_message_lists_at_most_three_failures():
    from sandbox import TestResult
    results = [TestResult(index=i, status="wrong_answer", input="1", expected="2", got="3") for i in range(5)]
    msg = format_message(results)
    assert msg.count("Wrong Answer") == 3 and msg.endswith("... and 2 more failing tests.")
