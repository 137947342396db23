"""Coding benchmarks through `datasets` (or `path=` to a local file with the Hub's columns).

- MBPP, sanitized (`google-research-datasets/mbpp`, config "sanitized"): a one-line
  task, a reference `code` and three `assert` lines in `test_list`.
- LiveCodeBench (`livecodebench/code_generation_lite`): contest problems with stdin/
  stdout tests (AtCoder, Codeforces) or functional tests of a `class Solution`
  method (LeetCode, `metadata["func_name"]`), public and private test cases.
"""

from __future__ import annotations

import ast
import base64
import io
import json
import pickle
import re
import zlib
from typing import Any, ClassVar

from distil_envs.code.base import CodeEnv, code_fence, function_test
from distil_envs.core import Task
from distil_envs.datasets import DatasetEnv
from distil_envs.env import stable_task_id
from sandbox.types import TestCase

_CALLED = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
# A decoded private-test blob larger than this is refused (the largest real one is far smaller).
MAX_DECODED_BYTES = 1 << 29


# ---------------------------------------------------------------------------- MBPP
def _defined_functions(code: str) -> list[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return re.findall(r"^def\s+(\w+)", code, re.MULTILINE)
    return [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def mbpp_function_name(code: str, tests: list[str]) -> str:
    """The function the tests call: a function the reference defines that the first test calls."""
    defined = _defined_functions(code)
    called = _CALLED.findall(tests[0]) if tests else []
    for name in called:
        if name in defined:
            return name
    return defined[-1] if defined else (called[0] if called else "solution")


class MBPPEnv(CodeEnv, DatasetEnv):
    """MBPP (sanitized): 427 crowd-sourced basic Python problems with reference code and asserts.

    ## Description
    Rows from `google-research-datasets/mbpp` (config "sanitized"; columns
    `source_file, task_id, prompt, code, test_imports, test_list`) or a local file
    with those columns (`path=`). The first assert of `test_list` is public: the
    prompt shows it so the function name and signature are known; the others are
    hidden.

    ## Observation
    The task sentence, "Your code should pass this test:" with the first assert,
    and "Put your solution in a ```python block.". After a step: the feedback.

    ## Action
    A completion with the function in a ```python block.

    ## Reward
    1 when every assert passes (each runs after `test_imports`), else 0;
    `reward="partial"` gives the fraction. Feedback kinds: correct, format_error,
    compile_error, runtime_error, timeout, failed_test. The public assert is shown
    when it fails; hidden ones only as "hidden test k failed: ...". The reference
    `code` is shown only at level `correction`.

    ## Episode end
    Terminated when correct or after `max_attempts` attempts.

    ## Arguments
    split ("test" by default; "train", "validation", "prompt"); path; limit;
    reward: "binary" | "partial"; limits; sandbox; feedback; max_attempts.

    ## Version history
    v0: initial release.
    """

    hub_id: ClassVar[str] = "google-research-datasets/mbpp"
    hub_config: ClassVar[str | None] = "sanitized"
    default_split: ClassVar[str] = "test"

    def row_to_task(self, row: dict[str, Any], index: int) -> Task:
        tests_src = _as_list(row.get("test_list"))
        imports = "\n".join(_as_list(row.get("test_imports")))
        code = str(row.get("code") or "").strip("\n")
        name = mbpp_function_name(code, tests_src)
        tests = tuple(TestCase(kind="assert", script=f"{imports}\n{line}\n".lstrip("\n"), fn_name=name, hidden=k > 0)
                      for k, line in enumerate(tests_src))
        prompt = (f"{str(row.get('prompt', '')).strip()}\n\nYour code should pass this test:\n\n"
                  f"{tests_src[0] if tests_src else ''}\n\nPut your solution in a ```python block.")
        task_id = f"mbpp/{row.get('task_id', index)}"
        return Task(task_id=task_id, prompt=prompt, answer=code, solution=code_fence(code),
                    data={"tests": tests, "fn_name": name},
                    metadata={"source": self.source_name(), "index": index, "family": "mbpp"})


def _as_list(value: Any) -> list[str]:
    """A list column (a JSON string in CSV files)."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return [value] if value.strip() else []
    return [str(v) for v in value]


# ---------------------------------------------------------------------------- LiveCodeBench
class _NoGlobalsUnpickler(pickle.Unpickler):
    """Unpickles only plain data: every class or function lookup is refused.

    LiveCodeBench stores `private_test_cases` as base64(zlib(pickle(json_string))).
    A pickle can only run code by importing a global (`find_class`); with that
    refused, loading it builds strings, numbers and containers and nothing else.
    """

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: private test cases hold only a string")


def decode_test_cases(value: Any) -> list[dict[str, Any]]:
    """LiveCodeBench test cases from plain JSON or the compressed private form."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    text = str(value)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.b64decode(text.encode("ascii")), MAX_DECODED_BYTES)
        if inflater.unconsumed_tail:
            raise ValueError(f"decoded test cases exceed {MAX_DECODED_BYTES} bytes")
        data = _NoGlobalsUnpickler(io.BytesIO(raw)).load()
    except (ValueError, zlib.error, pickle.UnpicklingError, EOFError, UnicodeEncodeError) as error:
        raise ValueError(f"test cases are neither JSON nor base64+zlib+pickle: {error}") from None
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, list):
        raise ValueError(f"decoded test cases are a {type(data).__name__}, not a list")
    return data


def lcb_test(case: dict[str, Any], fn_name: str | None, hidden: bool) -> TestCase:
    if case.get("testtype") == "functional":
        args = [json.loads(line) for line in str(case["input"]).split("\n") if line.strip()]
        return function_test(fn_name or "", args, json.loads(case["output"]), hidden=hidden)
    return TestCase(kind="stdio", input=str(case["input"]), expected=str(case["output"]), hidden=hidden)


LCB_STDIN_FORMAT = ("Read the inputs from stdin, solve the problem and write the answer to stdout (do not directly "
                    "test on the sample inputs). Put your solution in a ```python block.")
LCB_STARTER_FORMAT = "Use the following starter code and put your solution in a ```python block:"
NO_REFERENCE = "(LiveCodeBench publishes no reference solution for this problem.)"


class LiveCodeBenchEnv(CodeEnv, DatasetEnv):
    """LiveCodeBench code generation (lite): recent contest problems with stdin and functional tests.

    ## Description
    Rows from `livecodebench/code_generation_lite` (columns `question_title,
    question_content, platform, question_id, contest_id, contest_date,
    starter_code, difficulty, public_test_cases, private_test_cases, metadata`) or
    a local file with those columns. Public test cases are the examples of the
    statement; private ones are hidden. `private_test_cases` is plain JSON or, as
    on the Hub, base64(zlib(pickle(JSON string))): it is decoded with an unpickler
    that refuses every global, so no code in the data can run. AtCoder/Codeforces
    problems have stdin/stdout tests; LeetCode problems have functional tests of
    the `class Solution` method named by `metadata["func_name"]` (arguments one
    JSON value per input line).
    The Hub rows carry no reference solution. A local file may add a `solution`
    column (used by the oracle policy and the offline tests); without it the
    correction says none exists.

    ## Observation
    The statement, then either the starter code in a ```python block or the
    stdin/stdout instructions. After a step: the feedback.

    ## Action
    A completion with the program (or the `Solution` class) in a ```python block.

    ## Reward
    1 when every public and private test passes, else 0; `reward="partial"` gives
    the fraction. Feedback kinds: correct, format_error, compile_error,
    runtime_error, timeout, failed_test. Failing public tests show input / expected
    / got; private ones only "hidden test k failed: ...".

    ## Episode end
    Terminated when correct or after `max_attempts` attempts.

    ## Arguments
    split ("test"); path; limit; reward: "binary" | "partial"; limits; sandbox;
    feedback; max_attempts.

    ## Version history
    v0: initial release.
    """

    hub_id: ClassVar[str] = "livecodebench/code_generation_lite"
    hub_config: ClassVar[str | None] = None
    default_split: ClassVar[str] = "test"

    def row_to_task(self, row: dict[str, Any], index: int) -> Task:
        metadata = row.get("metadata") or {}
        if isinstance(metadata, str):
            metadata = json.loads(metadata) if metadata.strip() else {}
        fn_name = metadata.get("func_name")
        public = decode_test_cases(row.get("public_test_cases"))
        private = decode_test_cases(row.get("private_test_cases"))
        tests = tuple([lcb_test(c, fn_name, hidden=False) for c in public]
                      + [lcb_test(c, fn_name, hidden=True) for c in private])
        starter = str(row.get("starter_code") or "").rstrip()
        instructions = f"{LCB_STARTER_FORMAT}\n\n{code_fence(starter)}" if starter else LCB_STDIN_FORMAT
        prompt = f"{str(row.get('question_content', '')).strip()}\n\n{instructions}"
        reference = str(row.get("solution") or "").strip("\n")
        question_id = row.get("question_id") or stable_task_id("lcb", row.get("question_content", ""))
        return Task(task_id=f"livecodebench/{question_id}", prompt=prompt, answer=reference,
                    solution=code_fence(reference) if reference else NO_REFERENCE,
                    data={"tests": tests, "fn_name": fn_name, "stdin": not starter},
                    metadata={"source": self.source_name(), "index": index, "family": "livecodebench",
                              "platform": row.get("platform"), "difficulty": row.get("difficulty"),
                              "contest_date": str(row.get("contest_date", ""))})

    def build_program(self, task: Task, code: str) -> tuple[str, int]:
        if task.data.get("stdin"):
            return code, 0
        # LeetCode's judge (and LiveCodeBench's) runs `class Solution` with typing names in
        # scope: starter code says `List[int]` without importing it.
        return f"from typing import *\n{code}", 1

    def reference_completion(self, task: Task) -> str:
        return code_fence(task.answer) if task.answer else NO_REFERENCE

    def wrong_completion(self, task: Task) -> str:
        if task.data.get("stdin"):
            # Reads the input and prints nothing: a wrong answer on every test with output.
            return "```python\nimport sys\n\ndata = sys.stdin.read()\n```"
        name = task.data.get("fn_name") or "solve"
        return f"```python\nclass Solution:\n    def {name}(self, *args):\n        return None\n```"
