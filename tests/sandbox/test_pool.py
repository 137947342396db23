"""SandboxPool: concurrent runs, results in input order, progress bar, context manager."""

from __future__ import annotations

import pytest

from sandbox import Limits, SandboxPool, TestCase


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=2) as p:
        yield p


def test_map_run_keeps_input_order(pool):
    codes = [f"import time\ntime.sleep({0.05 * (i % 3)})\nprint({i})" for i in range(8)]
    results = pool.map_run(codes)
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(8)]


def test_map_run_with_stdins_and_a_bad_program(pool):
    results = pool.map_run(["print(input())", "1/0", "print(input()[::-1])"], stdins=["a", "", "abc"])
    assert [r.exit_code for r in results] == [0, 1, 0]
    assert results[0].stdout == "a\n" and results[2].stdout == "cba\n"
    with pytest.raises(ValueError, match="2 stdins"):
        pool.map_run(["pass"], stdins=["", ""])


def test_map_tests_keeps_input_order(pool):
    sols = [f"def f(x):\n    return x + {k}\n" for k in range(5)]
    tests = [[TestCase("function", [1], 2, fn_name="f")]] * 5
    reports = pool.map_tests(sols, tests, Limits(wall_s=2.0))
    assert [r.all_passed for r in reports] == [False, True, False, False, False]


def test_pool_stands_in_for_a_sandbox(pool):
    from sandbox import run_tests
    assert pool.run("print(2 + 2)").stdout == "4\n"
    assert run_tests("def f(x):\n    return x\n", [TestCase("function", [3], 3, fn_name="f")], sandbox=pool).all_passed


def test_workers_have_distinct_sandboxes(pool):
    assert len({box.worker_id for box in pool._sandboxes}) == 2


def test_progress_bar_and_bad_worker_count(capsys):
    with pytest.raises(ValueError, match="workers must be a positive int"):
        SandboxPool(workers=0)
    with SandboxPool(workers=1, progress=True) as p:
        assert p.map_run(["print(1)", "print(2)"])[1].stdout == "2\n"
    assert "sandbox runs: 2/2" in capsys.readouterr().err
