"""Math benchmarks from the Hub (or `path=` to a local copy): GSM8K, MATH-500, AIME, AMC."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from distil_envs.core import Feedback, FeedbackKind, Task
from distil_envs.datasets import DatasetEnv
from distil_envs.env import stable_task_id
from distil_envs.errors import DatasetUnavailableError
from distil_envs.math.base import BOXED_INSTRUCTION, NO_ANSWER
from distil_envs.math.checking import check_math_answer, mentions, parse_number

_CALCULATOR = re.compile(r"<<[^<>]*>>")

# The Gymnasium sections every benchmark class shares (each adds its own first line).
_SECTIONS = """
    Description:
        Rows of a Hub dataset (`hub_id`, `hub_config`, `default_split`), or of a local
        JSON/JSONL/CSV/parquet file with the same columns (`path=`).

    Observation:
        The problem followed by "Show your work, then end with the final answer as \\boxed{...}."

    Action:
        The completion text; the answer is the last \\boxed{...}, else an "Answer:" line,
        else the last number.

    Reward:
        1 if the answer equals the reference (exact numbers first, then math-verify for
        symbolic answers), else 0.

    Episode end:
        When correct or after `max_attempts` attempts.

    Feedback:
        format_error: no final answer. wrong_answer (diagnostic): the answer that was read
        and, where the benchmark fixes the form, what it must be (an integer; AIME: an
        integer from 0 to 999). The reference answer and the dataset's solution appear only
        at level `correction`.

    Arguments:
        split, path, limit (see `DatasetEnv`), plus `feedback` and `max_attempts`.

    Version history:
        v0: initial version.
"""


class MathBenchmarkEnv(DatasetEnv):
    __doc__ = """A math benchmark: one problem per row, a final answer checked by `check_math_answer`.
    """ + _SECTIONS

    domain = "math"
    feedback_kinds = (FeedbackKind.CORRECT, FeedbackKind.FORMAT_ERROR, FeedbackKind.WRONG_ANSWER)
    problem_columns: ClassVar[tuple[str, ...]] = ("problem", "question")
    answer_column: ClassVar[str] = "answer"
    integer_answers: ClassVar[bool] = False
    answer_range: ClassVar[tuple[int, int] | None] = None

    def _column(self, row: dict[str, Any], names: tuple[str, ...], index: int) -> Any:
        for name in names:
            if row.get(name) not in (None, ""):
                return row[name]
        raise DatasetUnavailableError(f"{type(self).__name__}: row {index} of {self.source_name()} has none of the "
                                      f"columns {list(names)}; its columns are {sorted(row)}")

    def split_answer(self, row: dict[str, Any], index: int) -> tuple[str, str]:
        """(answer, worked solution) of a row."""
        answer = self._column(row, (self.answer_column,), index)
        if isinstance(answer, float) and answer.is_integer():
            answer = int(answer)  # parquet stores some integer answers as floats ("27.0")
        return str(answer).strip(), str(row.get("solution") or "").strip()

    def row_to_task(self, row: dict[str, Any], index: int) -> Task:
        problem = str(self._column(row, self.problem_columns, index)).strip()
        answer, solution = self.split_answer(row, index)
        metadata = {"family": type(self).__name__, "source": self.source_name(), "index": index}
        for key in ("level", "subject", "unique_id", "id", "url", "year"):
            if row.get(key) is not None:
                metadata[key] = row[key] if isinstance(row[key], (int, float, str, bool)) else str(row[key])
        return Task(task_id=stable_task_id(f"math-{self.hub_id}", problem), prompt=f"{problem}\n\n{BOXED_INSTRUCTION}",
                    answer=answer, solution=solution, metadata=metadata)

    def check(self, task: Task, completion: str) -> Feedback:
        verdict = check_math_answer(task.answer, completion)
        if verdict.correct:
            return Feedback.right()
        if verdict.extracted is None:
            return Feedback.format_error(NO_ANSWER)
        shown = verdict.extracted if len(verdict.extracted) <= 80 else verdict.extracted[:77] + "..."
        parts = [f"The answer {shown!r} is not correct."]
        if self.integer_answers and (verdict.value is None or verdict.value.denominator != 1):
            parts.append("The answer should be an integer.")
        if self.answer_range and verdict.value is not None and not (
                self.answer_range[0] <= verdict.value <= self.answer_range[1]):
            parts.append(f"Answers here are integers from {self.answer_range[0]} to {self.answer_range[1]}.")
        kept = [p for p in parts if not mentions(p, task.answer) or task.answer in verdict.extracted]
        return Feedback.wrong(" ".join(kept) or "The answer is not correct.")

    def wrong_completion(self, task: Task) -> str:
        number = parse_number(task.answer)
        if number is not None and number[0].denominator == 1:
            return f"After working through it, the answer is \\boxed{{{int(number[0]) + 1}}}."
        return super().wrong_completion(task)


class GSM8KEnv(MathBenchmarkEnv):
    __doc__ = """GSM8K grade-school word problems (openai/gsm8k, config "main"; the answer follows "####").
    """ + _SECTIONS

    hub_id, hub_config, default_split = "openai/gsm8k", "main", "test"
    problem_columns = ("question",)
    integer_answers = True

    def split_answer(self, row: dict[str, Any], index: int) -> tuple[str, str]:
        text = str(self._column(row, ("answer",), index))
        if "####" not in text:
            raise DatasetUnavailableError(f"GSM8KEnv: row {index} of {self.source_name()} has no '#### <answer>' "
                                          f"in its answer column")
        solution, answer = text.rsplit("####", 1)
        return answer.strip().replace(",", ""), _CALCULATOR.sub("", solution).strip()


class Math500Env(MathBenchmarkEnv):
    __doc__ = """MATH-500 competition problems (HuggingFaceH4/MATH-500; LaTeX answers, checked with math-verify).
    """ + _SECTIONS

    hub_id, default_split = "HuggingFaceH4/MATH-500", "test"


class AIME2024Env(MathBenchmarkEnv):
    __doc__ = """AIME 2024 I and II (HuggingFaceH4/aime_2024); integer answers from 0 to 999.
    """ + _SECTIONS

    hub_id, default_split = "HuggingFaceH4/aime_2024", "train"
    integer_answers, answer_range = True, (0, 999)


class AIME2025Env(MathBenchmarkEnv):
    __doc__ = """AIME 2025 I and II (math-ai/aime25); integer answers from 0 to 999.
    """ + _SECTIONS

    hub_id, default_split = "math-ai/aime25", "test"
    integer_answers, answer_range = True, (0, 999)


class AMC2023Env(MathBenchmarkEnv):
    __doc__ = """AMC 12 2023 problems with numeric answers (math-ai/amc23).
    """ + _SECTIONS

    hub_id, default_split = "math-ai/amc23", "test"
    problem_columns = ("question", "problem")
