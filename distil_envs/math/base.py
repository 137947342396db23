"""What the procedural math families share: the prompt suffix, the missing-answer
feedback, and a guard that keeps computed numbers that happen to equal the answer out
of diagnostic messages."""

from __future__ import annotations

from fractions import Fraction
from typing import ClassVar

from distil_envs.core import Feedback, FeedbackKind, Task
from distil_envs.env import ProceduralEnv
from distil_envs.math.checking import MathVerdict, check_math_answer, format_number, mentions

BOXED_INSTRUCTION = "Show your work, then end with the final answer as \\boxed{...}."
NO_ANSWER = "No final answer found: end with \\boxed{...}."


class MathProceduralEnv(ProceduralEnv):
    """A procedural math family: `domain`, prompt suffix and feedback helpers."""

    domain = "math"
    feedback_kinds: ClassVar[tuple[FeedbackKind, ...]] = (
        FeedbackKind.CORRECT, FeedbackKind.FORMAT_ERROR, FeedbackKind.WRONG_ANSWER)
    family: ClassVar[str] = ""

    def metadata_for(self, **extra: object) -> dict[str, object]:
        return {"family": self.family, "difficulty": self.difficulty, "source": "procedural", **extra}

    def screen(self, task: Task, completion: str, expected: str = "a number",
               integer: bool = False) -> tuple[MathVerdict, Feedback | None]:
        """Check the answer; return (verdict, feedback) where feedback is already final when the
        answer is right, missing or unreadable, and None when the family must diagnose it."""
        verdict = check_math_answer(task.answer, completion)
        if verdict.correct:
            return verdict, Feedback.right()
        if verdict.extracted is None:
            return verdict, self.no_answer()
        if verdict.value is None or (integer and verdict.value.denominator != 1):
            return verdict, self.unreadable(verdict.extracted, expected)
        return verdict, None

    @staticmethod
    def no_answer() -> Feedback:
        return Feedback.format_error(NO_ANSWER)

    @staticmethod
    def unreadable(extracted: str, expected: str) -> Feedback:
        shown = extracted if len(extracted) <= 60 else extracted[:57] + "..."
        return Feedback.format_error(f"Could not read {shown!r} as {expected}. End with \\boxed{{...}}.")

    @staticmethod
    def wrong(task: Task, parts: list[str], fallback: str = "That is not correct.") -> Feedback:
        """Wrong-answer feedback from diagnostic sentences, dropping any that names the answer."""
        kept = [part for part in parts if part and not mentions(part, task.answer)]
        return Feedback.wrong(" ".join(kept) if kept else fallback)


def num(value: Fraction | int) -> str:
    """A number as the prompts and messages write it."""
    return format_number(Fraction(value))
