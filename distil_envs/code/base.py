"""`CodeEnv`: what every coding env shares — extraction, sandboxed tests, judge-style feedback.

A code task keeps its tests in `task.data["tests"]` (a tuple of `sandbox.TestCase`,
public ones first, hidden ones flagged `hidden=True`), and its reference program in
`task.answer` (with `task.solution` the same program in a ```python fence, which
`Feedback.at_level` appends at level `correction`).

`check` extracts the program, lets the family complete it (`build_program`, e.g.
HumanEval prepends the prompt), runs it against every test with
`sandbox.run_tests`, and turns the report into feedback:

- kinds: compile_error, runtime_error, timeout, failed_test, correct, format_error;
- `accuracy` = tests passed / tests; `score` = 1 only when all pass, or the fraction
  with `reward="partial"`;
- the message shows failing *public* tests in full (input / expected / got, the
  error with the user's frames) and hidden tests only as "hidden test k failed:
  wrong answer" (or runtime error / time limit exceeded), so no hidden input,
  expected output or reference reaches the model below level `correction`.

Nothing in the feedback depends on timings, so the same completion gives the same
feedback (Gymnasium's `check_env` compares repeated steps).
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar, Sequence

from distil_envs.code.extraction import NO_CODE_MESSAGE, extract_code
from distil_envs.core import FailingTest, Feedback, FeedbackKind, Task
from distil_envs.env import FeedbackEnv, coerce_completion
from sandbox import run_tests
from sandbox.types import Limits, TestCase, TestReport, TestResult

# Default limits for one solution's test run: generous for correct code, short
# enough that an infinite loop costs a training step little.
DEFAULT_LIMITS = Limits(wall_s=4.0, cpu_s=4.0, memory_bytes=1 << 30)
# How many failing public tests the message shows in full, and hidden ones it lists.
MAX_PUBLIC_SHOWN = 3
MAX_HIDDEN_SHOWN = 5
REWARDS = ("binary", "partial")

_STATUS_KIND = {
    "wrong_answer": FeedbackKind.FAILED_TEST,
    "runtime_error": FeedbackKind.RUNTIME_ERROR,
    "memory_exceeded": FeedbackKind.RUNTIME_ERROR,
    "output_exceeded": FeedbackKind.RUNTIME_ERROR,
    "timeout": FeedbackKind.TIMEOUT,
    "compile_error": FeedbackKind.COMPILE_ERROR,
}
_STATUS_TEXT = {
    "wrong_answer": "wrong answer",
    "runtime_error": "runtime error",
    "memory_exceeded": "memory limit exceeded",
    "output_exceeded": "output limit exceeded",
    "timeout": "time limit exceeded",
    "compile_error": "compile error",
}
_EXCEPTION_NAME = re.compile(r"\b([A-Z]\w*(?:Error|Exception|Exit|Interrupt))\b")
_SOLUTION_LINE = re.compile(r'(File "solution\.py", line )(\d+)')
SHOW_CAP = 300  # characters of a public test's input / expected value shown


def code_fence(code: str) -> str:
    """`code` in a ```python block."""
    return f"```python\n{code.strip(chr(10))}\n```"


def _status_text(result: TestResult, *, hidden: bool) -> str:
    if result.error.startswith("not run"):
        return "not run (an earlier test hit the time limit)" if result.status == "timeout" else "not run"
    if _failed_assert(result):
        return "wrong answer (assertion failed)"
    text = _STATUS_TEXT.get(result.status, result.status.replace("_", " "))
    if result.status == "runtime_error" and hidden:
        # Only the exception's class: its message may quote the hidden input.
        names = _EXCEPTION_NAME.findall(result.error or "")
        return f"{text} ({names[-1]})" if names else text
    return text


def _failed_assert(result: TestResult) -> bool:
    """An assert-style test whose own assertion failed: a wrong answer, not a crash of the solution."""
    lines = (result.error or "").strip().splitlines()
    return result.status == "runtime_error" and bool(lines) and lines[-1].startswith("AssertionError")


def _truncate(text: str, cap: int = SHOW_CAP) -> str:
    return text if len(text) <= cap else f"{text[:cap]}... ({len(text) - cap} more chars)"


def _show_input(test: TestCase | None, result: TestResult) -> str:
    """How a public test's input reads: a call for function tests, the assert itself, or stdin."""
    if test is None:
        return result.input
    if test.kind == "function" and isinstance(test.input, (list, tuple)):
        return _truncate(f"{test.fn_name}({', '.join(repr(a) for a in test.input)})")
    if test.kind == "assert":
        lines = [line for line in (test.script or "").splitlines()
                 if line.strip() and not line.startswith(("import ", "from "))]
        return _truncate("\n".join(lines))
    return result.input


def function_test(fn_name: str, args: Sequence[Any], expected: Any, *, hidden: bool = False) -> TestCase:
    """A function-call test. The expected value travels as JSON text, which the harness decodes
    (LiveCodeBench's convention): a bare string such as "6" would otherwise be read as JSON (6)."""
    return TestCase(kind="function", input=list(args), expected=json.dumps(expected), fn_name=fn_name, hidden=hidden)


def expected_value(test: TestCase) -> Any:
    """The expected value of a function test (decoded from its JSON text)."""
    if isinstance(test.expected, str):
        try:
            return json.loads(test.expected)
        except ValueError:
            return test.expected
    return test.expected


def _show_expected(test: TestCase | None, result: TestResult) -> str:
    if test is not None and test.kind == "function":
        return _truncate(repr(expected_value(test)))
    return result.expected


def shift_lines(text: str, offset: int) -> str:
    """Line numbers in `solution.py` frames as the user wrote them (the env prepended `offset` lines)."""
    if not offset or not text:
        return text

    def fix(match: re.Match) -> str:
        line = int(match.group(2))
        return f"{match.group(1)}{line - offset if line > offset else line}"

    return _SOLUTION_LINE.sub(fix, text)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines()) if text else prefix.rstrip()


def report_to_feedback(report: TestReport, tests: Sequence[TestCase] = (), *, partial: bool = False,
                       line_offset: int = 0) -> Feedback:
    """Judge-style feedback from a test report (full; the env applies the feedback level).

    `tests` are the cases the report judged (for readable inputs); `line_offset` is how
    many lines the env put before the user's code."""
    total, passed = report.total, report.passed
    if report.compile_error is not None:
        error = shift_lines(report.compile_error.strip(), line_offset)
        return Feedback.wrong(f"Compile error:\n{error}", kind=FeedbackKind.COMPILE_ERROR, accuracy=0.0, trace=error)
    if total == 0:
        return Feedback.wrong(f"The program could not be tested. {report.message}".strip(),
                              kind=FeedbackKind.RUNTIME_ERROR, accuracy=0.0)
    accuracy = passed / total
    if report.all_passed:
        return Feedback.right(f"Correct: all {total} tests passed.", accuracy=1.0)
    failures = report.failures
    public_number = {r.index: n for n, r in enumerate((r for r in report.results if not r.hidden), 1)}
    hidden_number = {r.index: n for n, r in enumerate((r for r in report.results if r.hidden), 1)}
    lines = [f"Passed {passed}/{total} tests."]
    shown: list[FailingTest] = []
    trace = None
    public_failures = [r for r in failures if not r.hidden]
    hidden_failures = [r for r in failures if r.hidden]
    for result in public_failures[:MAX_PUBLIC_SHOWN]:
        test = tests[result.index] if result.index < len(tests) else None
        status = _status_text(result, hidden=False)
        shown_input, expected = _show_input(test, result), _show_expected(test, result)
        error = shift_lines((result.error or "").strip(), line_offset)
        lines.append(f"\nTest {public_number[result.index]} failed: {status}")
        lines.append(f"  input:    {shown_input}" if "\n" not in shown_input else f"  input:\n{_indent(shown_input)}")
        if result.status == "wrong_answer":
            lines.append(f"  expected: {expected}")
            lines.append(f"  got:      {result.got}")
        elif error and not result.error.startswith("not run"):
            lines.append(_indent(error))
        if result.status == "runtime_error" and trace is None and not _failed_assert(result):
            trace = error
        shown.append(FailingTest(input=shown_input, expected=expected, got=result.got,
                                 error=status if result.status == "wrong_answer" or not error else f"{status}: {error}",
                                 hidden=False))
    if len(public_failures) > MAX_PUBLIC_SHOWN:
        lines.append(f"\n({len(public_failures) - MAX_PUBLIC_SHOWN} more public tests failed.)")
    if hidden_failures:
        lines.append("")
    for result in hidden_failures[:MAX_HIDDEN_SHOWN]:
        status = _status_text(result, hidden=True)
        lines.append(f"hidden test {hidden_number[result.index]} failed: {status}")
        shown.append(FailingTest(input="", expected="", got="", error=status, hidden=True))
    if len(hidden_failures) > MAX_HIDDEN_SHOWN:
        lines.append(f"({len(hidden_failures) - MAX_HIDDEN_SHOWN} more hidden tests failed.)")
    first = public_failures[0] if public_failures else failures[0]
    kind = FeedbackKind.FAILED_TEST if _failed_assert(first) else _STATUS_KIND.get(first.status, FeedbackKind.FAILED_TEST)
    score = accuracy if partial else 0.0
    return Feedback(kind=kind, message="\n".join(lines), score=score, correct=False, accuracy=accuracy,
                    failing_tests=tuple(shown), trace=trace,
                    details={"passed": passed, "total": total,
                             "hidden_failed": len(hidden_failures), "public_failed": len(public_failures)})


class CodeEnv(FeedbackEnv):
    """Shared behaviour of the coding envs (see the module docstring).

    Arguments beyond `FeedbackEnv`'s:
        reward: "binary" (1 only when every test passes; default) or "partial" (the fraction passed).
        limits: `sandbox.Limits` for one solution's test run (default `DEFAULT_LIMITS`).
        sandbox: a `sandbox.Sandbox` or `SandboxPool` to run on (default: the strongest backend here).
    """

    domain: ClassVar[str] = "code"
    feedback_kinds: ClassVar[tuple[FeedbackKind, ...]] = (
        FeedbackKind.CORRECT, FeedbackKind.FORMAT_ERROR, FeedbackKind.COMPILE_ERROR, FeedbackKind.RUNTIME_ERROR,
        FeedbackKind.TIMEOUT, FeedbackKind.FAILED_TEST)
    answer_format: ClassVar[str] = "Put your solution in a ```python block."

    def __init__(self, *, reward: str = "binary", limits: Limits | None = None, sandbox: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        if reward not in REWARDS:
            raise ValueError(f"reward={reward!r} is not a reward mode; use 'binary' or 'partial'")
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError(f"limits= must be a sandbox.Limits, not {type(limits).__name__}")
        self.reward = reward
        self.limits = limits or DEFAULT_LIMITS
        self.sandbox = sandbox

    # ------------------------------------------------------------------ family hooks
    def tests(self, task: Task) -> Sequence[TestCase]:
        return task.data["tests"]

    def build_program(self, task: Task, code: str) -> tuple[str, int]:
        """The program to test from the extracted code, and how many lines precede the user's
        first line in it (HumanEval prepends its prompt), so error line numbers can be mapped back."""
        return code, 0

    # ------------------------------------------------------------------ FeedbackEnv API
    def check(self, task: Task, completion: str) -> Feedback:
        code = extract_code(completion)
        if code is None:
            return Feedback.format_error(NO_CODE_MESSAGE)
        program, offset = self.build_program(task, code)
        tests = self.tests(task)
        report = run_tests(program, tests, self.limits, sandbox=self.sandbox)
        return report_to_feedback(report, tests, partial=self.reward == "partial", line_offset=offset)

    def evaluate_batch(self, tasks: Sequence[Task], completions: Sequence[Any], pool: Any) -> list[Feedback]:
        """`evaluate` for many (task, completion) pairs at once, judged concurrently on a
        `sandbox.SandboxPool`; feedback at this env's level, in input order."""
        if len(tasks) != len(completions):
            raise ValueError(f"evaluate_batch: {len(tasks)} tasks but {len(completions)} completions")
        results: list[Feedback | None] = []
        jobs: list[tuple[int, str, int, Sequence[TestCase]]] = []
        for task, completion in zip(tasks, completions):
            text, problem = coerce_completion(completion)
            code = extract_code(text) if problem is None else None
            if code is None:
                results.append(Feedback.format_error(f"{problem} {self.answer_format}" if problem else NO_CODE_MESSAGE))
                continue
            program, offset = self.build_program(task, code)
            jobs.append((len(results), program, offset, self.tests(task)))
            results.append(None)
        reports = pool.map_tests([j[1] for j in jobs], [j[3] for j in jobs], self.limits) if jobs else []
        for (index, _, offset, tests), report in zip(jobs, reports):
            results[index] = report_to_feedback(report, tests, partial=self.reward == "partial", line_offset=offset)
        return [feedback.at_level(self.feedback_level, task) for feedback, task in zip(results, tasks)]

    def reference_completion(self, task: Task) -> str:
        return code_fence(task.answer)

    def wrong_completion(self, task: Task) -> str:
        name = task.data.get("fn_name") or "solution"
        return f"```python\ndef {name}(*args, **kwargs):\n    return None\n```"
