"""The sandbox's data: limits, the result of one program, tests and test reports.

Standard library only: `sandbox` knows nothing of the other packages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

TestKind = Literal["function", "stdio", "assert"]
TestStatus = Literal["passed", "wrong_answer", "runtime_error", "timeout", "memory_exceeded", "compile_error",
                     "output_exceeded"]


@dataclass(frozen=True)
class Limits:
    """Resource limits for one program. Sizes in bytes, times in seconds."""

    wall_s: float = 10.0
    cpu_s: float = 10.0
    memory_bytes: int = 1 << 30
    processes: int = 64
    output_bytes: int = 1 << 20
    file_size_bytes: int = 16 << 20
    open_files: int = 256

    def __post_init__(self) -> None:
        for name in ("wall_s", "cpu_s", "memory_bytes", "processes", "output_bytes", "file_size_bytes", "open_files"):
            if getattr(self, name) <= 0:
                raise ValueError(f"Limits.{name}={getattr(self, name)!r} must be positive")


@dataclass(frozen=True)
class ExecutionResult:
    """What happened to one program. `exit_code` is negative for a signal (-9 = killed)."""

    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    memory_exceeded: bool = False
    output_truncated: bool = False
    wall_s: float = 0.0
    cpu_s: float = 0.0
    backend: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not (self.timed_out or self.memory_exceeded)


@dataclass(frozen=True)
class TestCase:
    """One test in one of three styles.

    - function: call `fn_name(*input)` (input = JSON list of arguments) and compare with
      `expected` (float tolerance); a top-level function or a `class Solution` method.
    - stdio: feed `input` (str) on stdin, compare stdout with `expected` (str), whitespace-normalised.
    - assert: run `script` after the solution (HumanEval's `check(candidate)` with
      `fn_name` as the candidate); passes when it exits cleanly.
    """

    __test__ = False  # not a pytest test class

    kind: TestKind
    input: Any = None
    expected: Any = None
    fn_name: str | None = None
    script: str | None = None
    hidden: bool = False


@dataclass(frozen=True)
class TestResult:
    """The outcome of one test; the text fields are already truncated for display."""

    __test__ = False  # not a pytest test class

    index: int
    status: TestStatus
    input: str = ""
    expected: str = ""
    got: str = ""
    error: str = ""
    hidden: bool = False
    wall_s: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class TestReport:
    """All tests of one solution, and the judge-style text that describes the first failures."""

    __test__ = False  # not a pytest test class

    results: tuple[TestResult, ...]
    compile_error: str | None = None
    message: str = ""
    backend: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def accuracy(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def all_passed(self) -> bool:
        return self.compile_error is None and self.total > 0 and self.passed == self.total

    @property
    def failures(self) -> tuple[TestResult, ...]:
        return tuple(r for r in self.results if not r.passed)
