"""Running untrusted code: backends, limits, a worker pool, test harnesses.

    import sandbox
    sandbox.run("print(input()[::-1])", stdin="abc")          # ExecutionResult(stdout="cba\\n", ...)
    sandbox.run_tests(solution, [TestCase("function", [1, 2], 3, fn_name="add")])  # TestReport

`Sandbox.auto()` picks docker > bwrap > unshare (> subprocess only with allow_unsafe=True);
$DISTIL_SANDBOX forces one. Standard library only; the docker SDK is imported lazily.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from sandbox.backends import SandboxUnavailableError
from sandbox.core import Sandbox, choose_backend
from sandbox.pool import SandboxPool
from sandbox.types import ExecutionResult, Limits, TestCase, TestReport, TestResult

_default: Sandbox | None = None
_default_lock = threading.Lock()


def default_sandbox() -> Sandbox:
    """The process-wide Sandbox behind `run` and `run_tests`, created on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Sandbox.auto()
        return _default


def run(code: str, *, stdin: str = "", files: dict[str, str] | None = None, limits: Limits = Limits(),
        language: str = "python") -> ExecutionResult:
    """Run one program in the default sandbox."""
    return default_sandbox().run(code, stdin=stdin, files=files, limits=limits, language=language)


def run_tests(solution: str, tests: Sequence[TestCase], limits: Limits = Limits(), *, sandbox: Sandbox | None = None,
              stop_on_first_failure: bool = False) -> TestReport:
    """Run all `tests` of `solution` as one sandboxed program and judge them."""
    from sandbox.harness import run_tests as _run_tests
    return _run_tests(solution, tests, limits, sandbox=sandbox or default_sandbox(),
                      stop_on_first_failure=stop_on_first_failure)


__all__ = ["ExecutionResult", "Limits", "Sandbox", "SandboxPool", "SandboxUnavailableError", "TestCase",
           "TestReport", "TestResult", "choose_backend", "default_sandbox", "run", "run_tests"]
