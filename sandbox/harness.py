"""Judge a solution against tests, LiveCodeBench/LeetCode style, in ONE sandboxed program.

Three test styles (see `TestCase`): function call, stdin/stdout, assert script. The driver
(`sandbox/_driver.py`) runs the tests one after another inside the sandbox with a per-test
time limit (`limits.wall_s` each) and streams one line per test, so even a program killed
mid-way tells which test it was on. The report's message reads like a judge's:

    2/3 tests passed.
    Test 2: Wrong Answer
    Input: [3, 4]
    Expected: 7
    Got: 12

Runtime errors show only the solution's own traceback frames; a time limit names the last
input; a syntax error gives the line. Hidden tests are named, never shown.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.types import ExecutionResult, Limits, TestCase, TestReport, TestResult

if TYPE_CHECKING:
    from sandbox.core import Sandbox

DRIVER = (Path(__file__).resolve().parent / "_driver.py").read_text(encoding="utf-8")
INPUT_CAP = 300  # characters of a test input shown in a report
EXPECTED_CAP = 300
GOT_CAP = 300
ERROR_CAP = 1500
MAX_FAILURES_SHOWN = 3
KINDS = ("function", "stdio", "assert")
LABELS = {"wrong_answer": "Wrong Answer", "runtime_error": "Runtime Error", "timeout": "Time Limit Exceeded",
          "memory_exceeded": "Memory Limit Exceeded", "compile_error": "Compile Error",
          "output_exceeded": "Output Limit Exceeded"}


def truncate(text: str, cap: int) -> str:
    return text if len(text) <= cap else text[:cap] + f"... ({len(text) - cap} more chars)"


def show(value: object, cap: int) -> str:
    """How a test's input or expected value is shown: JSON for data, the text itself for stdio."""
    if isinstance(value, str):
        return truncate(value, cap)
    try:
        return truncate(json.dumps(value), cap)
    except (TypeError, ValueError):
        return truncate(repr(value), cap)


def validate_tests(tests: Sequence[TestCase]) -> None:
    if not isinstance(tests, Sequence) or isinstance(tests, str) or not tests:
        raise ValueError("run_tests: tests must be a non-empty sequence of TestCase")
    for i, t in enumerate(tests):
        if not isinstance(t, TestCase):
            raise TypeError(f"run_tests: tests[{i}] is a {type(t).__name__}, not a TestCase")
        if t.kind not in KINDS:
            raise ValueError(f"run_tests: tests[{i}].kind={t.kind!r}; choose one of {KINDS}")
        if t.kind == "function" and not t.fn_name:
            raise ValueError(f"run_tests: tests[{i}] is a function test without fn_name")
        if t.kind == "assert" and not t.script:
            raise ValueError(f"run_tests: tests[{i}] is an assert test without script")


def build_spec(solution: str, tests: Sequence[TestCase], limits: Limits, nonce: str, stop_first: bool) -> str:
    """The driver's `spec.json`: the solution, the tests and how to run them."""
    spec = {"solution": solution, "nonce": nonce,
            "tests": [{"kind": t.kind, "input": t.input, "expected": t.expected, "fn_name": t.fn_name,
                       "script": t.script} for t in tests],
            "timeout": limits.wall_s, "stop_first": stop_first, "output_bytes": limits.output_bytes,
            "got_cap": GOT_CAP, "error_cap": ERROR_CAP}
    return json.dumps(spec)


def program_limits(limits: Limits, n_tests: int) -> Limits:
    """Limits of the one program that runs all tests: each test gets `limits.wall_s`/`cpu_s`."""
    return replace(limits, wall_s=limits.wall_s * n_tests + 2.0, cpu_s=limits.cpu_s * n_tests + 2.0,
                   output_bytes=max(limits.output_bytes, 1 << 16) * 2)


def parse_events(stdout: str, nonce: str) -> list[dict]:
    events = []
    for line in stdout.split("\n"):
        if line.startswith(nonce):
            try:
                events.append(json.loads(line[len(nonce):]))
            except ValueError:
                continue
    return events


def killed_status(res: ExecutionResult) -> tuple[str, str]:
    """Why a program stopped without reporting a test (killed, crashed, exited early)."""
    if res.timed_out:
        return "timeout", "time limit exceeded"
    if res.memory_exceeded:
        return "memory_exceeded", "memory limit exceeded"
    if res.output_truncated:
        return "output_exceeded", "output limit exceeded"
    tail = truncate(res.stderr.strip()[-ERROR_CAP:], ERROR_CAP)
    if res.exit_code is not None and res.exit_code < 0:
        return "runtime_error", f"the program was killed by signal {-res.exit_code}" + (f"\n{tail}" if tail else "")
    return "runtime_error", f"the program exited (code {res.exit_code}) before finishing this test" + \
        (f"\n{tail}" if tail else "")


def build_report(tests: Sequence[TestCase], res: ExecutionResult, nonce: str) -> TestReport:
    events = parse_events(res.stdout, nonce)
    details = {"exit_code": res.exit_code, "timed_out": res.timed_out}
    for ev in events:
        if "compile_error" in ev:
            results = tuple(TestResult(index=i, status="compile_error", input=show(t.input, INPUT_CAP),
                                       expected=show(t.expected, EXPECTED_CAP), error=ev["compile_error"],
                                       hidden=t.hidden) for i, t in enumerate(tests))
            return TestReport(results=results, compile_error=ev["compile_error"],
                              message="Compile Error\n" + ev["compile_error"].rstrip(), backend=res.backend,
                              details=details)
    done = {ev["i"]: ev for ev in events if "i" in ev}
    started = [ev["start"] for ev in events if "start" in ev]
    # The test the program was on when it stopped without reporting (killed, crashed, exited).
    crashed_at = (started[-1] if started[-1] not in done else None) if started else 0
    results = []
    for i, t in enumerate(tests):
        common = {"index": i, "input": show(t.input if t.kind != "assert" else "", INPUT_CAP),
                  "expected": show(t.expected, EXPECTED_CAP) if t.kind != "assert" else "", "hidden": t.hidden}
        if i in done:
            ev = done[i]
            results.append(TestResult(status=ev["status"], got=ev.get("got", ""), error=ev.get("error", ""),
                                      wall_s=ev.get("wall_s", 0.0), **common))
        elif i == crashed_at:
            status, error = killed_status(res)
            results.append(TestResult(status=status, error=error, **common))
        else:
            first_bad = next((r for r in results if not r.passed), None)
            why = f"not run: stopped after test {first_bad.index + 1} failed" if first_bad else "not run"
            status = first_bad.status if first_bad is not None else killed_status(res)[0]
            results.append(TestResult(status=status, error=why, **common))
    results = tuple(results)
    return TestReport(results=results, message=format_message(results), backend=res.backend, details=details)


def failed_assertion(result: TestResult) -> bool:
    """A test whose own assertion failed (status runtime_error, last line AssertionError): a wrong answer."""
    lines = result.error.strip().splitlines()
    return result.status == "runtime_error" and bool(lines) and lines[-1].startswith("AssertionError")


def format_message(results: Sequence[TestResult], max_shown: int = MAX_FAILURES_SHOWN) -> str:
    failures = [r for r in results if not r.passed]
    if not failures:
        return f"Accepted: all {len(results)} tests passed."
    lines = [f"{len(results) - len(failures)}/{len(results)} tests passed."]
    for r in failures[:max_shown]:
        label = LABELS.get(r.status, r.status)
        if failed_assertion(r):
            label = "Wrong Answer (assertion failed)"
        if r.hidden:
            lines.append(f"Hidden test {r.index + 1}: {label}")
            continue
        lines.append(f"Test {r.index + 1}: {label}")
        if r.error.startswith("not run"):
            lines.append(r.error)
            continue
        if r.status == "timeout":
            if r.input:
                lines.append(f"Last input: {r.input}")
            continue
        if r.status in ("runtime_error", "wrong_answer") and r.error:
            lines.append(r.error.rstrip())
        if r.input:
            lines.append(f"Input: {r.input.rstrip()}")
        if r.status == "wrong_answer" and not r.error:
            lines.append(f"Expected: {r.expected.rstrip()}")
            lines.append(f"Got: {r.got.rstrip()}")
    if len(failures) > max_shown:
        lines.append(f"... and {len(failures) - max_shown} more failing tests.")
    return "\n".join(lines)


def run_tests(solution: str, tests: Sequence[TestCase], limits: Limits = Limits(), *, sandbox: Sandbox | None = None,
              stop_on_first_failure: bool = False) -> TestReport:
    """Judge `solution` on `tests` with one sandboxed run; `limits.wall_s`/`cpu_s` apply per test."""
    if not isinstance(solution, str):
        raise TypeError(f"run_tests: solution must be a str, got {type(solution).__name__}")
    validate_tests(tests)
    if sandbox is None:
        from sandbox import default_sandbox
        sandbox = default_sandbox()
    nonce = "@@" + secrets.token_hex(8) + ":"
    spec = build_spec(solution, tests, limits, nonce, stop_on_first_failure)
    res = sandbox.run(DRIVER, files={"spec.json": spec}, limits=program_limits(limits, len(tests)), trusted=True)
    return build_report(tests, res, nonce)
