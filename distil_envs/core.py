"""The data every environment speaks: `Task`, `Feedback`, feedback kinds and levels.

A family's checker always builds the *full* `Feedback` (diagnostic message plus the
correction). The env then shows it at the configured level with `Feedback.at_level`,
so no family has to remember to hide the answer: below `correction` the reference is
dropped here, in one place.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any, Mapping


class FeedbackKind(str, enum.Enum):
    """What happened to a completion. Values are the strings logged and stored."""

    CORRECT = "correct"
    FORMAT_ERROR = "format_error"
    WRONG_ANSWER = "wrong_answer"
    COMPILE_ERROR = "compile_error"
    RUNTIME_ERROR = "runtime_error"
    TIMEOUT = "timeout"
    FAILED_TEST = "failed_test"
    PARTIAL = "partial"


class FeedbackLevel(str, enum.Enum):
    """How much the environment says.

    - `binary`: the reward and "Correct." / "Incorrect." only.
    - `diagnostic`: errors, traces, failing tests, substitutions; never the answer.
    - `correction`: diagnostic plus the reference answer or solution.
    """

    BINARY = "binary"
    DIAGNOSTIC = "diagnostic"
    CORRECTION = "correction"

    @classmethod
    def parse(cls, value: "str | FeedbackLevel") -> "FeedbackLevel":
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(repr(level.value) for level in cls)
            raise ValueError(f"feedback={value!r} is not a feedback level; use one of {choices}") from None


@dataclass(frozen=True)
class FailingTest:
    """One failed test as judges show it; every field already truncated for display."""

    input: str
    expected: str
    got: str
    error: str = ""  # "wrong answer", "runtime error: ...", "time limit exceeded"
    hidden: bool = False


@dataclass(frozen=True)
class Task:
    """One problem.

    `answer` is what the checker compares against (a number, a letter, a quantity with
    units; for code, the reference solution). `solution` is the worked solution shown
    at level `correction`. `data` holds what a family needs to check (tests, options,
    equation coefficients); `metadata` what reports slice by (source, index,
    difficulty, family).
    """

    task_id: str
    prompt: str
    answer: str
    solution: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def correction(self) -> str:
        """The text a teacher reads at level `correction`."""
        if self.solution and self.answer and self.answer not in self.solution:
            return f"{self.solution}\nFinal answer: {self.answer}"
        return self.solution or self.answer


@dataclass(frozen=True)
class Feedback:
    """What the environment says about one completion.

    `score` is the reward in [0, 1]; `correct` is the strict verdict. For code,
    `accuracy` is the fraction of tests passed (score is 1 only when all pass).
    `correction` is None below level `correction`.
    """

    kind: FeedbackKind
    message: str
    score: float = 0.0
    correct: bool = False
    accuracy: float | None = None
    failing_tests: tuple[FailingTest, ...] = ()
    trace: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    correction: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def right(cls, message: str = "Correct.", **fields: Any) -> "Feedback":
        return cls(kind=FeedbackKind.CORRECT, message=message, score=1.0, correct=True, **fields)

    @classmethod
    def wrong(cls, message: str, kind: FeedbackKind = FeedbackKind.WRONG_ANSWER, **fields: Any) -> "Feedback":
        return cls(kind=kind, message=message, score=0.0, correct=False, **fields)

    @classmethod
    def format_error(cls, message: str, **fields: Any) -> "Feedback":
        return cls(kind=FeedbackKind.FORMAT_ERROR, message=message, score=0.0, correct=False, **fields)

    def at_level(self, level: FeedbackLevel, task: Task) -> "Feedback":
        """This feedback as shown at `level`; the only place the correction is added or dropped."""
        if level is FeedbackLevel.BINARY:
            verdict = "Correct." if self.correct else "Incorrect."
            return Feedback(kind=self.kind, message=verdict, score=self.score, correct=self.correct,
                            accuracy=self.accuracy)
        if level is FeedbackLevel.DIAGNOSTIC:
            return dataclasses.replace(self, correction=None)
        correction = task.correction
        message = self.message if self.correct else f"{self.message}\n\nReference solution:\n{correction}"
        return dataclasses.replace(self, message=message, correction=correction)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in `info["feedback"]` and `samples.jsonl`."""
        return {
            "kind": self.kind.value,
            "message": self.message,
            "score": float(self.score),
            "correct": bool(self.correct),
            "accuracy": self.accuracy,
            "failing_tests": [dataclasses.asdict(t) for t in self.failing_tests],
            "trace": self.trace,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "correction": self.correction,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Feedback":
        return cls(
            kind=FeedbackKind(data["kind"]),
            message=data["message"],
            score=float(data.get("score", 0.0)),
            correct=bool(data.get("correct", False)),
            accuracy=data.get("accuracy"),
            failing_tests=tuple(FailingTest(**t) for t in data.get("failing_tests", ())),
            trace=data.get("trace"),
            stdout=data.get("stdout"),
            stderr=data.get("stderr"),
            correction=data.get("correction"),
            details=dict(data.get("details") or {}),
        )
