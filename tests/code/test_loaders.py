"""Dataset and package loaders: MBPP and LiveCodeBench from local files, HumanEval from the wheel."""

import base64
import json
import pickle
import zlib

import pytest

from distil_envs.code.base import expected_value
from distil_envs.code.benchmarks import LiveCodeBenchEnv, MBPPEnv, decode_test_cases, mbpp_function_name
from distil_envs.code.humaneval import HumanEvalEnv, docstring_examples


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_mbpp_rows_become_assert_tests_with_one_public(tmp_path):
    row = {"source_file": "x", "task_id": 11, "prompt": "Write a function to double a number.",
           "code": "import math\ndef helper(x):\n    return x\ndef double(x):\n    return 2 * helper(x)",
           "test_imports": ["import math"], "test_list": ["assert double(2) == 4", "assert double(0) == 0",
                                                          "assert math.isclose(double(1.5), 3.0)"]}
    env = MBPPEnv(path=_write_jsonl(tmp_path / "mbpp.jsonl", [row]))
    task = env.task_at(0)
    assert task.task_id == "mbpp/11" and task.data["fn_name"] == "double"
    assert [t.hidden for t in task.data["tests"]] == [False, True, True]
    assert all(t.kind == "assert" and t.script.startswith("import math\n") for t in task.data["tests"])
    assert "assert double(2) == 4" in task.prompt and "double(0)" not in task.prompt
    assert task.answer == row["code"] and row["code"] in task.solution


def test_mbpp_csv_with_json_list_columns(tmp_path):
    path = tmp_path / "mbpp.csv"
    path.write_text('task_id,prompt,code,test_imports,test_list\n'
                    '5,Add one.,"def inc(x):\n    return x + 1",[],"[""assert inc(1) == 2""]"\n')
    task = MBPPEnv(path=path).task_at(0)
    assert task.data["fn_name"] == "inc" and len(task.data["tests"]) == 1


@pytest.mark.parametrize("code,tests,name", [
    ("def a(x): pass\ndef b(x): pass", ["assert b(1) == 2"], "b"),
    ("def a(x): pass", ["assert set(a([1])) == set([1])"], "a"),
    ("class C: pass\ndef f(): pass", [], "f"),
])
def test_mbpp_function_name(code, tests, name):
    assert mbpp_function_name(code, tests) == name


def _compress(obj):
    return base64.b64encode(zlib.compress(pickle.dumps(obj))).decode()


def test_decode_private_test_cases_plain_and_compressed():
    cases = [{"input": "1\n", "output": "2\n", "testtype": "stdin"}]
    assert decode_test_cases(json.dumps(cases)) == cases
    assert decode_test_cases(_compress(json.dumps(cases))) == cases
    assert decode_test_cases("") == [] and decode_test_cases(None) == []


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_decode_refuses_pickles_that_import_anything(capsys):
    with pytest.raises(ValueError, match="refusing"):
        decode_test_cases(_compress(_Evil()))
    assert "never run" not in capsys.readouterr().out
    with pytest.raises(ValueError, match="neither JSON"):
        decode_test_cases("not json and not base64!")


def test_livecodebench_stdin_and_functional_rows(tmp_path):
    functional = {"question_content": "Return a + b.", "platform": "leetcode", "question_id": "7",
                  "starter_code": "class Solution:\n    def add(self, a: int, b: int) -> int:\n        ",
                  "public_test_cases": json.dumps([{"input": "1\n2", "output": "3", "testtype": "functional"}]),
                  "private_test_cases": _compress(json.dumps([{"input": "[5]\n-5", "output": "[0]",
                                                               "testtype": "functional"}])),
                  "metadata": json.dumps({"func_name": "add"}), "contest_date": "2024-01-01", "difficulty": "easy"}
    stdin = {"question_content": "Echo.", "platform": "atcoder", "question_id": "abc1_a", "starter_code": "",
             "public_test_cases": json.dumps([{"input": "x\n", "output": "x\n", "testtype": "stdin"}]),
             "private_test_cases": json.dumps([]), "metadata": "{}"}
    env = LiveCodeBenchEnv(path=_write_jsonl(tmp_path / "lcb.jsonl", [functional, stdin]))
    f, s = env.task_at(0), env.task_at(1)
    assert [(t.kind, t.input, expected_value(t), t.hidden) for t in f.data["tests"]] == [
        ("function", [1, 2], 3, False), ("function", [[5], -5], [0], True)]
    assert all(t.fn_name == "add" for t in f.data["tests"]) and "class Solution" in f.prompt
    assert [(t.kind, t.input, t.expected) for t in s.data["tests"]] == [("stdio", "x\n", "x\n")]
    assert "stdin" in s.prompt and f.task_id == "livecodebench/7"
    assert "no reference" in s.correction  # the Hub has none: the correction says so


def test_humaneval_loads_all_problems_from_the_wheel():
    env = HumanEvalEnv()
    assert env.num_tasks() == HumanEvalEnv.catalogue_size == 164
    task = env.task_at(0)
    assert task.task_id == "HumanEval/0" and task.data["fn_name"] == "has_close_elements"
    hidden = [t for t in task.data["tests"] if t.hidden]
    assert len(hidden) == 1 and "def check(candidate)" in hidden[0].script
    assert hidden[0].script not in task.prompt
    public = sum(not t.hidden for t in env.tasks for t in t.data["tests"])
    assert public > 300  # docstring examples turned into public tests


@pytest.mark.parametrize("prompt,examples", [
    ('def f(x):\n    """\n    >>> f(2)\n    4\n    >>> f([1, 2])\n    [1, 2]\n    """\n', [([2], 4), ([[1, 2]], [1, 2])]),
    ('def f(x):\n    """f("a") ➞ "b"\n    f(1) == True\n    """\n', [(["a"], "b"), ([1], True)]),
    ('def f(x):\n    """\n    >>> round(f(2), 2)\n    4.0\n    >>> f(x=1)\n    1\n    >>> f((1, 2))\n    1\n    """\n', []),
])
def test_docstring_examples(prompt, examples):
    assert docstring_examples(prompt, "f") == examples
