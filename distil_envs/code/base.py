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

import re
from typing import Any, ClassVar, Sequence

from distil_envs.code.extraction import NO_CODE_MESSAGE, extract_code
from distil_envs.core import FailingTest, Feedback, FeedbackKind, Task
from distil_envs.env import FeedbackEnv
from sandbox.types import Limits, TestCase, TestReport, TestResult

# Default limits for one solution's test run: generous for correct code, short
# enough that an infinite loop costs a training step little.
DEFAULT_LIMITS = Limits(wall_s=6.0, cpu_s=6.0, memory_bytes=1 << 30)
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


def code_fence(code: str) -> str:
    """`code` in a ```python block."""
    return f"```python\n{code.strip(chr(10))}\n```"


def _status_text(result: TestResult, *, hidden: bool) -> str:
    text = _STATUS_TEXT.get(result.status, result.status.replace("_", " "))
    if result.status == "runtime_error" and hidden:
        # Only the exception's class: its message may quote the hidden input.
        names = _EXCEPTION_NAME.findall(result.error or "")
        return f"{text} ({names[-1]})" if names else text
    return text


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines()) if text else prefix.rstrip()


def report_to_feedback(report: TestReport, *, partial: bool = False) -> Feedback:
    """Judge-style feedback from a test report (full; the env applies the feedback level)."""
    total, passed = report.total, report.passed
    if report.compile_error is not None:
        return Feedback.wrong(f"Compile error:\n{report.compile_error.strip()}", kind=FeedbackKind.COMPILE_ERROR,
                              accuracy=0.0, trace=report.compile_error)
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
        status = _status_text(result, hidden=False)
        lines.append(f"\nTest {public_number[result.index]} failed: {status}")
        lines.append(f"  input:    {result.input}")
        if result.status == "wrong_answer":
            lines.append(f"  expected: {result.expected}")
            lines.append(f"  got:      {result.got}")
        elif result.error:
            lines.append(_indent(result.error.strip()))
        if result.status == "runtime_error" and trace is None:
            trace = result.error
        shown.append(FailingTest(input=result.input, expected=result.expected, got=result.got,
                                 error=status if result.status == "wrong_answer" else f"{status}: {result.error}".strip(),
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
    kind = _STATUS_KIND.get(first.status, FeedbackKind.FAILED_TEST)
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

    def build_program(self, task: Task, code: str) -> str:
        """The program to test, from the extracted code (HumanEval prepends its prompt)."""
        return code

    # ------------------------------------------------------------------ FeedbackEnv API
    def check(self, task: Task, completion: str) -> Feedback:
        code = extract_code(completion)
        if code is None:
            return Feedback.format_error(NO_CODE_MESSAGE)
        report = self.run(task, self.build_program(task, code))
        return report_to_feedback(report, partial=self.reward == "partial")

    def run(self, task: Task, program: str) -> TestReport:
        from sandbox import run_tests

        return run_tests(program, self.tests(task), self.limits, sandbox=self.sandbox)

    def reference_completion(self, task: Task) -> str:
        return code_fence(task.answer)

    def wrong_completion(self, task: Task) -> str:
        name = task.data.get("fn_name") or "solution"
        return f"```python\ndef {name}(*args, **kwargs):\n    return None\n```"
